"""The /v1 API in process on both backends: events, jobs, chains, approvals and decisions.

Also home to the helpers the other HTTP tests share: an in-process client, tokens, row counts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from anyio.from_thread import start_blocking_portal
from fastapi import FastAPI

from overture.app import App
from overture.engine.admin.tokens import Tokens
from overture.http import create_app
from overture.storage.tables.orchestrator import events, pending_actions, sequence_jobs
from tests.conftest import event


class Client:
    """A synchronous client that calls the ASGI app in process: no sockets, real HTTP semantics."""

    def __init__(self, api: FastAPI) -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        transport = httpx.ASGITransport(app=api)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(functools.partial(self._client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._stack.close()


@contextmanager
def in_process(app: App, **options: Any) -> Iterator[Client]:
    client = Client(create_app(app, **options))
    try:
        yield client
    finally:
        client.close()


def issue(app: App, org: str | None, user: str | None = None, *, admin: bool = False) -> dict[str, str]:
    """Make a token and return the Authorization header that bears it."""
    secret = Tokens(app.store, app.clock).create(org, user, admin=admin).secret
    return {"Authorization": f"Bearer {secret}"}


def count(app: App, table: sa.Table) -> int:
    with app.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def add_globex(app: App) -> None:
    """A second org, ``globex``, with user ``gus``: the other tenant in cross-org tests."""
    app.admin.add_org("globex", "Globex")
    app.admin.add_user("globex", "gus", "Gus", active_hours=None)


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"].startswith("urn:overture:problem:")
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def api(app: App) -> Iterator[Client]:
    with in_process(app) as client:
        yield client


@pytest.fixture
def auth(app: App) -> dict[str, dict[str, str]]:
    """Tokens: the acme org, its users ana, eve and boss (an org admin), and an admin token."""
    return {
        "org": issue(app, "acme"),
        "ana": issue(app, "acme", "ana"),
        "eve": issue(app, "acme", "eve"),
        "boss": issue(app, "acme", "boss"),
        "admin": issue(app, None, admin=True),
    }


def paused(
    api: Client, app: App, headers: dict[str, str], ref: str = "r1", org: str = "acme", user: str = "ana"
) -> tuple[str, str]:
    """Emit a gated event over HTTP and run it to its gate; return (job id, pending action id)."""
    data = {**event("gated", {"ref": ref}, user=user), "org_id": org}
    sent = api.post("/v1/events", json=data, headers=headers)
    assert sent.status_code == 202, sent.text
    app.run_until_idle()
    listed = api.get("/v1/approvals", headers=headers).json()["items"]
    action = next(a for a in listed if a["job_id"] == sent.json()["job_id"])
    return sent.json()["job_id"], action["id"]


def test_post_event_answers_202_with_the_ingest_outcome(app: App, api: Client, auth: Any) -> None:
    """An accepted event answers 202 with event_id, status, job_id and reason; its job is listed."""
    response = api.post("/v1/events", json=event("five_steps"), headers=auth["org"])
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted" and body["reason"] == "passed" and body["job_id"]
    assert set(body) >= {"event_id", "status", "job_id", "reason"}
    jobs = api.get("/v1/jobs", headers=auth["org"]).json()["items"]
    assert [(j["id"], j["status"], j["event_type"]) for j in jobs] == [
        (body["job_id"], "pending", "five_steps")
    ]


def test_gate_outcomes_other_than_accepted_are_still_202(app: App, api: Client, auth: Any) -> None:
    """A skipped event is recorded and answered 202 with its reason, and no job."""
    app.admin.set_feature("acme", "five_steps", False)
    body = api.post("/v1/events", json=event("five_steps"), headers=auth["org"]).json()
    assert (body["status"], body["reason"], body["job_id"]) == ("skipped", "feature_disabled", None)
    assert count(app, sequence_jobs) == 0 and count(app, events) == 1


def test_idempotency_key_header_answers_with_the_original_job(app: App, api: Client, auth: Any) -> None:
    """A repeat bearing the same Idempotency-Key is a duplicate of the first, pointing at its job."""
    headers = {**auth["org"], "Idempotency-Key": "order-42"}
    first = api.post("/v1/events", json=event("five_steps", {"n": 1}), headers=headers).json()
    again = api.post("/v1/events", json=event("five_steps", {"n": 2}), headers=headers).json()
    assert first["status"] == "accepted"
    assert again["status"] == "duplicate" and again["job_id"] == first["job_id"]
    assert first["event_id"] in again["detail"]
    assert count(app, sequence_jobs) == 1
    other_key = {**auth["org"], "Idempotency-Key": "order-43"}
    third = api.post("/v1/events", json=event("five_steps", {"n": 1}), headers=other_key).json()
    assert third["status"] == "accepted" and count(app, sequence_jobs) == 2


def test_idempotency_key_header_must_agree_with_the_body(app: App, api: Client, auth: Any) -> None:
    """A header key that differs from the body's idempotency_key is refused and nothing is written."""
    headers = {**auth["org"], "Idempotency-Key": "a"}
    response = api.post("/v1/events", json=event("five_steps", idempotency_key="b"), headers=headers)
    body = is_problem(response, 422)
    assert "Idempotency-Key" in body["detail"] and "'a'" in body["detail"] and "'b'" in body["detail"]
    assert count(app, events) == 0


def test_a_gated_job_is_run_approved_and_completed_over_the_api(app: App, api: Client, auth: Any) -> None:
    """emit → worker → job with steps → approval listed → decision → job completes, with a chain."""
    job_id, action_id = paused(api, app, auth["ana"])
    job = api.get(f"/v1/jobs/{job_id}", headers=auth["ana"]).json()
    assert job["status"] == "awaiting_approval" and job["current_step"] == 1
    assert [(s["name"], s["status"]) for s in job["steps"]] == [
        ("draft", "completed"),
        ("send", "awaiting_approval"),
    ]
    assert job["steps"][0]["output"]["echo"]["to"] == "dana@example.com"
    action = api.get(f"/v1/approvals/{action_id}", headers=auth["ana"]).json()
    assert action["status"] == "pending" and action["draft"]["subject"] == "Hello"

    decided = api.post(f"/v1/approvals/{action_id}/decision", json={"action": "approve"}, headers=auth["ana"])
    assert decided.status_code == 200
    assert decided.json()["applied"] is True and decided.json()["decided_by"] == "ana"
    app.run_until_idle()

    done = api.get(f"/v1/jobs/{job_id}", headers=auth["ana"]).json()
    assert done["status"] == "completed"
    assert [s["name"] for s in done["steps"] if s["status"] == "completed"] == ["draft", "send", "after"]
    assert done["execution_metadata"]["approval_gates_hit"] == 1
    assert len(done["outbox"]) == 1
    chain = api.get(f"/v1/jobs/{job_id}/chain", headers=auth["ana"]).json()
    assert chain["ancestors"] == [] and chain["job"]["id"] == job_id and chain["job"]["children"] == []
    assert api.get("/v1/approvals", headers=auth["ana"]).json()["items"] == []
    everything = api.get("/v1/approvals", params={"status": "all"}, headers=auth["ana"]).json()["items"]
    assert [a["status"] for a in everything] == ["approved"]


def test_a_second_decision_says_who_decided_first_and_when(app: App, api: Client, auth: Any) -> None:
    """Deciding again answers 200 with applied=false, the first decider and the time, and changes nothing."""
    _, action_id = paused(api, app, auth["ana"])
    first = api.post(
        f"/v1/approvals/{action_id}/decision", json={"action": "skip"}, headers=auth["ana"]
    ).json()
    second = api.post(f"/v1/approvals/{action_id}/decision", json={"action": "cancel"}, headers=auth["boss"])
    assert second.status_code == 200
    again = second.json()
    assert again["applied"] is False and again["status"] == "skipped"
    assert again["decided_by"] == "ana" and again["decided_at"] == first["decided_at"]
    assert "already skipped by ana" in again["message"]


def test_an_org_token_names_the_decider(app: App, api: Client, auth: Any) -> None:
    """A token without a user must name decided_by; the engine still checks that user may decide."""
    _, action_id = paused(api, app, auth["org"])
    url = f"/v1/approvals/{action_id}/decision"
    missing = is_problem(api.post(url, json={"action": "approve"}, headers=auth["org"]), 422)
    assert missing["detail"].startswith("decided_by: required")
    not_allowed = api.post(url, json={"action": "approve", "decided_by": "eve"}, headers=auth["org"])
    assert "only its owner or an org admin" in is_problem(not_allowed, 403)["detail"]
    assert api.get(f"/v1/approvals/{action_id}", headers=auth["org"]).json()["status"] == "pending"
    by_boss = api.post(url, json={"action": "approve", "decided_by": "boss"}, headers=auth["org"]).json()
    assert by_boss["applied"] is True and by_boss["decided_by"] == "boss"


def test_a_user_token_decides_as_its_user_only(app: App, api: Client, auth: Any) -> None:
    """A user token cannot decide as someone else, nor decide another member's action."""
    _, action_id = paused(api, app, auth["ana"])
    url = f"/v1/approvals/{action_id}/decision"
    posing = api.post(url, json={"action": "approve", "decided_by": "boss"}, headers=auth["ana"])
    assert "decides as user 'ana' only" in is_problem(posing, 403)["detail"]
    is_problem(api.post(url, json={"action": "approve"}, headers=auth["eve"]), 403)
    assert api.get(f"/v1/approvals/{action_id}", headers=auth["ana"]).json()["status"] == "pending"


def test_edit_applies_modifications_and_other_actions_refuse_them(app: App, api: Client, auth: Any) -> None:
    """Edit merges known draft fields; unknown fields, or modifications with approve, are 422."""
    job_id, action_id = paused(api, app, auth["ana"])
    url = f"/v1/approvals/{action_id}/decision"
    wrong = api.post(url, json={"action": "approve", "modifications": {"body": "x"}}, headers=auth["ana"])
    assert is_problem(wrong, 422)["detail"] == "modifications: only used with action edit"
    unknown = api.post(url, json={"action": "edit", "modifications": {"bcc": "x"}}, headers=auth["ana"])
    assert "unknown draft field(s) bcc" in is_problem(unknown, 422)["detail"]
    edited = api.post(url, json={"action": "edit", "modifications": {"body": "Better"}}, headers=auth["ana"])
    assert edited.json()["status"] == "edited"
    app.run_until_idle()
    shown = api.get(f"/v1/approvals/{action_id}", headers=auth["ana"]).json()
    assert shown["modifications"] == {"body": "Better"}
    assert api.get(f"/v1/jobs/{job_id}", headers=auth["ana"]).json()["status"] == "completed"


def test_cancel_ends_the_job(app: App, api: Client, auth: Any) -> None:
    """Cancel ends the job as cancelled, with the reason naming who cancelled."""
    job_id, action_id = paused(api, app, auth["ana"])
    api.post(f"/v1/approvals/{action_id}/decision", json={"action": "cancel"}, headers=auth["ana"])
    job = api.get(f"/v1/jobs/{job_id}", headers=auth["ana"]).json()
    assert job["status"] == "cancelled" and "cancelled by ana" in job["status_reason"]
    assert count(app, pending_actions) == 1


def test_decision_bodies_are_validated_precisely(app: App, api: Client, auth: Any) -> None:
    """Unknown actions, unknown fields and wrong types answer 422 naming the field."""
    _, action_id = paused(api, app, auth["ana"])
    url = f"/v1/approvals/{action_id}/decision"
    bad_action = is_problem(api.post(url, json={"action": "maybe"}, headers=auth["ana"]), 422)
    assert bad_action["detail"].startswith(
        "body.action: Input should be 'approve', 'edit', 'skip' or 'cancel'"
    )
    assert bad_action["errors"][0]["location"] == "body.action"
    extra = is_problem(api.post(url, json={"action": "skip", "why": "x"}, headers=auth["ana"]), 422)
    assert extra["detail"] == "body.why: unknown field"
    mods = is_problem(api.post(url, json={"action": "edit", "modifications": [1]}, headers=auth["ana"]), 422)
    assert mods["detail"].startswith("body.modifications: Input should be a valid dictionary")
    plain = api.post(url, content=b"action=skip", headers={**auth["ana"], "Content-Type": "text/plain"})
    assert is_problem(plain, 415)["detail"] == "Content-Type: expected application/json, got 'text/plain'"
    assert api.get(f"/v1/approvals/{action_id}", headers=auth["ana"]).json()["status"] == "pending"


def test_jobs_are_listed_newest_first_with_filters(app: App, api: Client, auth: Any) -> None:
    """GET /v1/jobs filters by status and honours limit; a bad filter is a precise 422."""
    ids = [
        api.post("/v1/events", json=event("five_steps", {"n": n}), headers=auth["org"]).json()["job_id"]
        for n in range(3)
    ]
    app.run_until_idle()
    api.post("/v1/events", json=event("five_steps", {"n": 9}), headers=auth["org"])
    completed = api.get("/v1/jobs", params={"status": "completed"}, headers=auth["org"]).json()["items"]
    assert sorted(j["id"] for j in completed) == sorted(ids)
    assert len(api.get("/v1/jobs", params={"limit": 2}, headers=auth["org"]).json()["items"]) == 2
    assert len(api.get("/v1/jobs", headers=auth["org"]).json()["items"]) == 4
    bad = is_problem(api.get("/v1/jobs", params={"status": "done"}, headers=auth["org"]), 422)
    assert bad["detail"].startswith("query.status: Input should be 'pending'")
    too_many = is_problem(api.get("/v1/jobs", params={"limit": 5000}, headers=auth["org"]), 422)
    assert too_many["detail"] == "query.limit: Input should be less than or equal to 1000"


def test_admin_tokens_manage_orgs_and_users(app: App, api: Client, auth: Any) -> None:
    """An admin token adds orgs and users; org and user tokens may not, and see only their org."""
    made = api.post("/v1/orgs", json={"id": "initech", "name": "Initech"}, headers=auth["admin"])
    assert made.status_code == 201 and made.json()["id"] == "initech"
    user = api.post(
        "/v1/orgs/initech/users",
        json={"id": "peter", "name": "Peter", "timezone": "America/Chicago", "active_hours": None},
        headers=auth["admin"],
    )
    assert user.status_code == 201 and user.json()["timezone"] == "America/Chicago"
    again = is_problem(api.post("/v1/orgs", json={"id": "initech", "name": "X"}, headers=auth["admin"]), 409)
    assert again["detail"] == "org 'initech' already exists"
    bad_tz = api.post(
        "/v1/orgs/initech/users", json={"id": "m", "timezone": "Mars/Base"}, headers=auth["admin"]
    )
    assert "unknown time zone 'Mars/Base'" in is_problem(bad_tz, 422)["detail"]
    no_org = api.post("/v1/orgs/nope/users", json={"id": "m"}, headers=auth["admin"])
    assert is_problem(no_org, 404)["detail"] == "no org 'nope'"
    refused = api.post("/v1/orgs", json={"name": "Mine"}, headers=auth["org"])
    assert is_problem(refused, 403)["detail"] == "this needs an admin token"
    assert [o["id"] for o in api.get("/v1/orgs", headers=auth["admin"]).json()["items"]] == [
        "acme",
        "initech",
    ]
    assert [o["id"] for o in api.get("/v1/orgs", headers=auth["ana"]).json()["items"]] == ["acme"]


def test_an_admin_token_sees_and_emits_for_every_org(app: App, api: Client, auth: Any) -> None:
    """Admin tokens emit for any org and list any org's jobs with org_id, or all of them."""
    add_globex(app)
    for org, user in (("acme", "ana"), ("globex", "gus")):
        sent = api.post(
            "/v1/events", json={**event("five_steps", user=user), "org_id": org}, headers=auth["admin"]
        )
        assert sent.json()["status"] == "accepted"
    assert len(api.get("/v1/jobs", headers=auth["admin"]).json()["items"]) == 2
    only = api.get("/v1/jobs", params={"org_id": "globex"}, headers=auth["admin"]).json()["items"]
    assert [j["org_id"] for j in only] == ["globex"]
