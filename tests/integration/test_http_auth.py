"""Bearer tokens and tenancy on both backends: 401s, revocation, and no org ever sees another's data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from overture.app import App
from overture.cli import serve
from overture.cli.common import CliState
from overture.engine.admin.tokens import Tokens
from overture.errors import InvalidToken, NotFound, ValidationFailed
from overture.storage.tables.orchestrator import api_tokens, events, sequence_jobs
from tests.conftest import MECHANICS, event
from tests.integration.test_http_api import Client, add_globex, count, in_process, is_problem, issue, paused

V1_ROUTES = [
    ("POST", "/v1/events"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/j1"),
    ("GET", "/v1/jobs/j1/chain"),
    ("GET", "/v1/approvals"),
    ("GET", "/v1/approvals/a1"),
    ("POST", "/v1/approvals/a1/decision"),
    ("GET", "/v1/orgs"),
    ("POST", "/v1/orgs"),
    ("POST", "/v1/orgs/acme/users"),
]


@pytest.fixture
def api(app: App) -> Iterator[Client]:
    add_globex(app)
    with in_process(app) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), V1_ROUTES)
def test_every_v1_route_needs_a_token(api: Client, method: str, path: str) -> None:
    """Without Authorization every /v1 route answers 401 problem+json with a Bearer challenge."""
    body = {"action": "approve"} if path.endswith("decision") else {"name": "x"}
    response = api.request(method, path, json=body if method == "POST" else None)
    problem = is_problem(response, 401)
    assert problem["detail"] == "missing bearer token: send Authorization: Bearer ov_..."
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer", "malformed token: expected ov_ followed by 43 URL-safe characters"),
        ("Bearer garbage", "malformed token: expected ov_ followed by 43 URL-safe characters"),
        ("Bearer ov_" + "A" * 43, "unknown token"),
        ("Basic YW5hOnNlY3JldA==", "unsupported authorization scheme 'Basic': use Bearer"),
    ],
)
def test_bad_tokens_are_401_with_the_reason(app: App, api: Client, header: str, detail: str) -> None:
    """Malformed, unknown and non-Bearer credentials are refused with a precise reason, nothing written."""
    response = api.post("/v1/events", json=event("five_steps"), headers={"Authorization": header})
    assert is_problem(response, 401)["detail"] == detail
    assert count(app, events) == 0


def test_a_revoked_token_is_refused_and_others_still_work(app: App, api: Client) -> None:
    """After revocation the token gets 401 naming it revoked; the org's other tokens are unaffected."""
    tokens = Tokens(app.store, app.clock)
    issued = tokens.create("acme", name="ci")
    kept = issue(app, "acme")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert api.get("/v1/jobs", headers=headers).status_code == 200
    tokens.revoke(issued.token.id)
    refused = is_problem(api.get("/v1/jobs", headers=headers), 401)
    assert refused["detail"].startswith(f"token {issued.token.id} was revoked at ")
    assert is_problem(api.post("/v1/events", json=event("five_steps"), headers=headers), 401)
    assert count(app, events) == 0
    assert api.get("/v1/jobs", headers=kept).status_code == 200


def test_an_event_is_refused_for_its_token_before_its_body_and_nothing_is_written(
    app: App, api: Client
) -> None:
    """POST /v1/events looks its token up in the ingest's transaction; a bad token is still
    the first thing said, whatever else is wrong, and a foreign event is 403 with no row."""
    tokens = Tokens(app.store, app.clock)
    revoked = tokens.create("acme", name="gone")
    tokens.revoke(revoked.token.id)
    unknown = {"Authorization": "Bearer ov_" + "B" * 43}
    gone = {"Authorization": f"Bearer {revoked.secret}"}
    for headers in (unknown, gone):
        for body in (event("five_steps"), event("no_such_type"), {"type": 3}):
            answer = is_problem(api.post("/v1/events", json=body, headers=headers), 401)
            assert answer["detail"] in ("unknown token",) or "was revoked at" in answer["detail"]
        raw = api.post(
            "/v1/events", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
        )
        assert is_problem(raw, 401)
    globex_only = issue(app, "globex", "gus")
    foreign = is_problem(api.post("/v1/events", json=event("five_steps"), headers=globex_only), 403)
    assert "org_id" in foreign["detail"]
    assert count(app, events) == 0 and count(app, sequence_jobs) == 0
    accepted = api.post("/v1/events", json=event("five_steps"), headers=issue(app, "acme"))
    assert accepted.status_code == 202 and accepted.json()["status"] == "accepted"


def test_another_orgs_ids_are_answered_like_missing_ones(app: App, api: Client) -> None:
    """Globex's job, chain and approval ids get the same 404 as ids that do not exist, with no data."""
    gus = issue(app, "globex", "gus")
    acme = issue(app, "acme")
    job_id, action_id = paused(api, app, gus, org="globex", user="gus")
    for url, missing in (
        (f"/v1/jobs/{job_id}", "/v1/jobs/nosuchjob"),
        (f"/v1/jobs/{job_id}/chain", "/v1/jobs/nosuchjob/chain"),
        (f"/v1/approvals/{action_id}", "/v1/approvals/nosuchaction"),
    ):
        theirs = is_problem(api.get(url, headers=acme), 404)
        nobody = is_problem(api.get(missing, headers=acme), 404)
        assert set(theirs) == set(nobody) == {"type", "title", "status", "detail", "instance"}
        assert theirs["detail"].replace(job_id, "X").replace(action_id, "X") == nobody["detail"].replace(
            "nosuchjob", "X"
        ).replace("nosuchaction", "X")
        assert "gus" not in json.dumps(theirs) and "globex" not in json.dumps(theirs)


def test_another_orgs_approval_cannot_be_decided(app: App, api: Client) -> None:
    """Deciding globex's action with any acme token is a 404 and leaves the action pending."""
    gus = issue(app, "globex", "gus")
    job_id, action_id = paused(api, app, gus, org="globex", user="gus")
    url = f"/v1/approvals/{action_id}/decision"
    for headers, body in (
        (issue(app, "acme", "boss"), {"action": "approve"}),
        (issue(app, "acme"), {"action": "cancel", "decided_by": "boss"}),
        (issue(app, "acme"), {"action": "approve", "decided_by": "gus"}),
    ):
        assert (
            is_problem(api.post(url, json=body, headers=headers), 404)["detail"]
            == f"no pending action {action_id!r}"
        )
    assert api.get(f"/v1/approvals/{action_id}", headers=gus).json()["status"] == "pending"
    assert api.get(f"/v1/jobs/{job_id}", headers=gus).json()["status"] == "awaiting_approval"


def test_listings_show_only_the_tokens_org(app: App, api: Client) -> None:
    """Lists never include another org's jobs or approvals, and naming another org is refused."""
    paused(api, app, issue(app, "globex", "gus"), org="globex", user="gus")
    acme = issue(app, "acme")
    paused(api, app, acme, ref="mine")
    jobs = api.get("/v1/jobs", headers=acme).json()["items"]
    actions = api.get("/v1/approvals", params={"status": "all"}, headers=acme).json()["items"]
    assert {j["org_id"] for j in jobs} == {a["org_id"] for a in actions} == {"acme"}
    assert len(jobs) == len(actions) == 1
    for url in ("/v1/jobs", "/v1/approvals"):
        refused = api.get(url, params={"org_id": "globex"}, headers=acme)
        assert is_problem(refused, 403)["detail"] == "org_id: this token is scoped to org 'acme'"


def test_emitting_for_another_org_is_refused_and_writes_nothing(app: App, api: Client) -> None:
    """An event naming another org, or an org that does not exist, is 403 and no row is written."""
    acme = issue(app, "acme")
    for org_id, user_id in (("globex", "gus"), ("nosuchorg", "ana")):
        sent = api.post(
            "/v1/events", json={**event("five_steps"), "org_id": org_id, "user_id": user_id}, headers=acme
        )
        assert is_problem(sent, 403)["detail"] == "org_id: this token may only send events for org 'acme'"
    assert count(app, events) == count(app, sequence_jobs) == 0


def test_a_user_token_emits_only_for_its_user(app: App, api: Client) -> None:
    """A token tied to ana may send ana's events and no one else's."""
    ana = issue(app, "acme", "ana")
    refused = api.post("/v1/events", json=event("five_steps", user="eve"), headers=ana)
    assert is_problem(refused, 403)["detail"] == "user_id: this token may only send events for user 'ana'"
    assert count(app, events) == 0
    assert api.post("/v1/events", json=event("five_steps"), headers=ana).json()["status"] == "accepted"


def test_tokens_are_stored_only_as_their_sha256(app: App) -> None:
    """The database holds the token's SHA-256 and never the token itself."""
    issued = Tokens(app.store, app.clock).create("acme", "ana")
    assert issued.secret.startswith("ov_") and len(issued.secret) == 46
    with app.store.read() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(api_tokens)).mappings()]
    assert [r["token_hash"] for r in rows] == [hashlib.sha256(issued.secret.encode()).hexdigest()]
    assert issued.secret not in json.dumps(rows, default=str)
    principal = Tokens(app.store, app.clock).authenticate(issued.secret)
    assert (principal.org_id, principal.user_id, principal.is_admin) == ("acme", "ana", False)


def test_token_creation_is_validated(app: App) -> None:
    """Tokens need an org unless admin, admin tokens take none, and users must belong to the org."""
    tokens = Tokens(app.store, app.clock)
    add_globex(app)
    with pytest.raises(ValidationFailed, match="a token needs an org"):
        tokens.create(None)
    with pytest.raises(ValidationFailed, match="an admin token sees every org"):
        tokens.create("acme", admin=True)
    with pytest.raises(NotFound, match="no org 'nope'"):
        tokens.create("nope")
    with pytest.raises(NotFound, match="no user 'gus' in org 'acme'"):
        tokens.create("acme", "gus")
    with pytest.raises(NotFound, match="no token 'nope'"):
        tokens.revoke("nope")
    with pytest.raises(InvalidToken, match="unknown token"):
        tokens.authenticate("ov_" + "x" * 43)
    assert count(app, api_tokens) == 0


def _cli() -> click.Group:
    @click.group()
    @click.option("--db", "database_url")
    @click.pass_context
    def cli(ctx: click.Context, database_url: str) -> None:
        state = CliState(overrides={"database_url": database_url, "packs": [MECHANICS]})
        ctx.obj = state
        ctx.call_on_close(state.close)

    serve.register(cli)
    return cli


@pytest.fixture
def run(app: App, db_url: str) -> Any:
    cli = _cli()
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)

    return invoke


def test_tokens_cli_creates_lists_and_revokes(app: App, run: Any) -> None:
    """`tokens create` prints the token once; `list` never shows it; `revoke` makes it fail."""
    made = run("tokens", "create", "--org", "acme", "--user", "ana", "--name", "laptop")
    assert made.exit_code == 0, made.output
    secret = next(line for line in made.stdout.splitlines() if line.startswith("ov_"))
    assert "not shown again" in made.stderr
    principal = Tokens(app.store, app.clock).authenticate(secret)
    listed = run("tokens", "list", "--org", "acme")
    assert principal.token_id in listed.output and "laptop" in listed.output and "active" in listed.output
    assert secret not in listed.output
    as_json = json.loads(run("tokens", "list", "--json").output)
    assert [(t["id"], t["user_id"], t["revoked_at"]) for t in as_json] == [(principal.token_id, "ana", None)]
    revoked = run("tokens", "revoke", principal.token_id)
    assert revoked.exit_code == 0 and f"token {principal.token_id} revoked at" in revoked.output
    with pytest.raises(InvalidToken, match="was revoked"):
        Tokens(app.store, app.clock).authenticate(secret)
    assert "revoked" in run("tokens", "list").output


def test_tokens_cli_admin_json_and_errors(app: App, run: Any) -> None:
    """--admin makes an all-org token; bad scopes exit 2 with the reason."""
    made = json.loads(run("tokens", "create", "--admin", "--json").output)
    assert made["is_admin"] is True and made["org_id"] is None and made["token"].startswith("ov_")
    assert Tokens(app.store, app.clock).authenticate(made["token"]).is_admin
    no_org = run("tokens", "create")
    assert no_org.exit_code == 2 and "a token needs an org" in no_org.output
    stranger = run("tokens", "create", "--org", "acme", "--user", "nobody")
    assert stranger.exit_code == 2 and "no user 'nobody' in org 'acme'" in stranger.output
    missing = run("tokens", "revoke", "nope")
    assert missing.exit_code == 2 and "no token 'nope'" in missing.output


def test_serve_is_registered_with_its_options(run: Any) -> None:
    """`serve` is registered with host, port, --no-worker and the body limit."""
    shown = run("serve", "--help")
    assert shown.exit_code == 0
    for option in ("--host", "--port", "--no-worker", "--max-body-bytes"):
        assert option in shown.output
