"""Replaying an event as a new job, from the CLI and the API, on both backends: re-emitting is
refused as a duplicate, a replay is not (it bypasses dedupe on purpose and names the event it
repeats), every other gate still applies, and who asked and why are audited."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.storage.queries import jobs as jobq
from tests.conftest import MECHANICS, event
from tests.integration.test_console import Session, visible
from tests.integration.test_http_api import add_globex, in_process, is_problem, issue


def replays(app: App) -> list[dict[str, Any]]:
    with app.store.read() as conn:
        return [a for a in jobq.audit_of(conn, org_id="acme") if a["action"] == "event_replayed"]


def test_a_replay_over_the_api_is_a_new_job_despite_dedupe(app: App) -> None:
    first = app.emit(event("five_steps", {"n": 7}))
    app.run_until_idle()
    assert app.emit(event("five_steps", {"n": 7})).status == "duplicate"
    ana = issue(app, "acme", "ana")
    with in_process(app) as api:
        sent = api.post(
            f"/v1/events/{first.event_id}/replay", json={"reason": "the CRM is fixed now"}, headers=ana
        )
        assert sent.status_code == 202, sent.text
        body = sent.json()
        assert body["status"] == "accepted" and body["replay_of"] == first.event_id
        assert body["job_id"] not in (None, first.job_id) and body["event_id"] != first.event_id
        assert body["detail"] == f"replay of event {first.event_id}; all gates passed"
        app.run_until_idle()
        job = api.get(f"/v1/jobs/{body['job_id']}", headers=ana).json()
        assert job["status"] == "completed" and job["event_type"] == "five_steps"
    (row,) = replays(app)
    assert (row["actor"], row["reason"], row["event_id"], row["job_id"]) == (
        "ana",
        "api",
        body["event_id"],
        body["job_id"],
    )
    assert row["detail"]["replay_of"] == first.event_id and row["detail"]["why"] == "the CRM is fixed now"
    with app.store.read() as conn:
        stored = jobq.get_event(conn, body["event_id"])
    assert stored is not None and stored["payload"] == {"n": 7} and stored["outcome"] == "accepted"


def test_a_replay_is_refused_what_the_original_would_be(app: App) -> None:
    """Other gates still apply; another org's event is not found; a user token replays only its
    user's events; a replay needs a reason."""
    add_globex(app)
    rejected = app.emit(event("five_steps", user="zoe"))  # no such user yet
    assert rejected.status == "rejected"
    mine = app.emit(event("five_steps", {"n": 1})).event_id
    ana, eve, gus = issue(app, "acme", "ana"), issue(app, "acme", "eve"), issue(app, "globex", "gus")
    with in_process(app) as api:
        url = f"/v1/events/{mine}/replay"
        assert is_problem(api.post(url, json={"reason": "x"}, headers=gus), 404)
        assert is_problem(api.post(url, json={"reason": "x"}, headers=eve), 403)
        assert "reason" in is_problem(api.post(url, json={"reason": ""}, headers=ana), 422)["detail"]
        assert is_problem(api.post("/v1/events/nope/replay", json={"reason": "x"}, headers=ana), 404)
        org = issue(app, "acme")
        again = api.post(
            f"/v1/events/{rejected.event_id}/replay", json={"reason": "zoe?", "by": "boss"}, headers=org
        )
        assert again.json()["status"] == "rejected" and again.json()["reason"] == "user_not_found"
        app.admin.add_user("acme", "zoe", "Zoe", active_hours=None)
        fixed = api.post(f"/v1/events/{rejected.event_id}/replay", json={"reason": "zoe joined"}, headers=org)
        assert fixed.json()["status"] == "accepted"
    assert [(r["actor"], r["detail"]["outcome"]) for r in replays(app)] == [
        ("boss", "rejected"),
        (f"token:{_token_id(app)}", "accepted"),
    ]


def _token_id(app: App) -> str:
    """The id of the last org token made (the one used without `by`)."""
    tokens = [t for t in app.tokens.list("acme") if t.user_id is None]
    return tokens[-1].id


def test_a_replay_from_the_cli_says_what_it_repeats(app: App) -> None:
    first = app.emit(event("five_steps", {"n": 3}))
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS])}
    db = ["--db", app.settings.database_url]
    listed = CliRunner().invoke(cli, [*db, "events", "list"], env=env)
    assert listed.exit_code == 0 and first.event_id in listed.output and "accepted" in listed.output
    out = CliRunner().invoke(
        cli, [*db, "events", "replay", first.event_id, "--reason", "rerun after fix", "--by", "boss"], env=env
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["replay_of"] == first.event_id and result["status"] == "accepted"
    (row,) = replays(app)
    assert (row["actor"], row["reason"], row["detail"]["why"]) == ("boss", "cli", "rerun after fix")
    unknown = CliRunner().invoke(cli, [*db, "events", "replay", "nope", "--reason", "x"], env=env)
    assert unknown.exit_code == 2 and "no event 'nope'" in unknown.output


def test_an_ended_job_is_run_again_from_its_page(app: App) -> None:
    """Its owner (not another member) sees "Run again as a new job…"; the confirm page asks
    why; the replay lands on the new job's page; audited as via web."""
    first = app.emit(event("five_steps", {"n": 9}))
    app.run_until_idle()
    with in_process(app) as http:
        ana, eve = Session(app, http, "ana"), Session(app, http, "eve")
        assert "Run again as a new job…" in visible(ana.get(f"/jobs/{first.job_id}").text)
        assert "Run again as a new job…" not in visible(eve.get(f"/jobs/{first.job_id}").text)
        assert "Why?" in visible(ana.get(f"/jobs/{first.job_id}/replay").text)
        assert eve.post(f"/jobs/{first.job_id}/replay", reason="x").status_code == 403
        assert ana.post(f"/jobs/{first.job_id}/replay", reason="").status_code == 422
        done = ana.post(f"/jobs/{first.job_id}/replay", reason="the template changed")
        assert done.status_code == 303 and done.headers["location"].endswith("?said=replayed")
        new_job = done.headers["location"].split("/jobs/")[1].split("?")[0]
        assert new_job != first.job_id
        assert "A new job, replaying the event of an earlier one." in visible(
            ana.get(done.headers["location"]).text
        )
    (row,) = replays(app)
    assert (row["actor"], row["reason"], row["job_id"]) == ("ana", "web", new_job)
    assert row["detail"]["replay_of"] == first.event_id
