"""Cancelling a job not yet ended, from the CLI and the API, on both backends: a queued job is
never run, a waiting one has its pending action closed, a running one stops after its current
step; each is audited with who and why, and a job already ended is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.core.step_context import StepContext
from overture.engine.packs import load_packs
from overture.engine.run.cancel import cancel_job
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from tests.conftest import MECHANICS, event
from tests.integration.test_console import Session, visible
from tests.integration.test_http_api import add_globex, in_process, is_problem, issue, paused


def audit(app: App, job_id: str) -> list[tuple[str, str, str, Any]]:
    with app.store.read() as conn:
        rows = jobq.audit_of(conn, job_id=job_id)
    return [(a["action"], a["reason"], a["actor"], (a["detail"] or {}).get("why")) for a in rows]


def job_of(app: App, job_id: str) -> Any:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None
    return job


def test_a_queued_job_is_cancelled_from_the_cli_and_never_runs(app: App) -> None:
    job_id = app.emit(event("five_steps")).job_id or ""
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS])}
    base = ["--db", app.settings.database_url, "jobs", "cancel", job_id]
    unexplained = CliRunner().invoke(cli, base, env=env)
    assert unexplained.exit_code == 2 and "Missing option '--reason'" in unexplained.output
    done = CliRunner().invoke(cli, [*base, "--reason", "wrong customer", "--by", "boss"], env=env)
    assert (done.exit_code, done.output) == (0, f"job {job_id} cancelled (was pending)\n")
    assert app.run_until_idle() == 0
    job = job_of(app, job_id)
    assert job.status.value == "cancelled" and job.finished_at is not None
    assert job.status_reason == "cancelled by boss via cli: wrong customer"
    assert ("job_cancelled", "cli", "boss", "wrong customer") in audit(app, job_id)
    again = CliRunner().invoke(cli, [*base, "--reason", "twice"], env=env)
    assert again.exit_code == 1
    assert f"job {job_id} already ended (cancelled); only a job not yet ended is cancelled" in again.output


def test_a_waiting_job_is_cancelled_over_the_api_and_its_approval_closed(app: App) -> None:
    """Its pending action is closed as cancelled by the caller (a later decision changes
    nothing); only the owner or an org admin may; another org's job is not found."""
    add_globex(app)
    ana, eve, gus = issue(app, "acme", "ana"), issue(app, "acme", "eve"), issue(app, "globex", "gus")
    with in_process(app) as api:
        job_id, action_id = paused(api, app, ana)
        url = f"/v1/jobs/{job_id}/cancel"
        assert is_problem(api.post(url, json={"reason": "x"}, headers=eve), 403)["detail"] == (
            "only the job's owner or an org admin may cancel it"
        )
        assert is_problem(api.post(url, json={"reason": "x"}, headers=gus), 404)
        assert "reason" in is_problem(api.post(url, json={}, headers=ana), 422)["detail"]
        assert is_problem(api.post(url, json={"reason": "x", "by": "boss"}, headers=ana), 403)
        assert job_of(app, job_id).status.value == "awaiting_approval"
        done = api.post(url, json={"reason": "the customer asked us to stop"}, headers=ana)
        assert done.status_code == 200, done.text
        assert done.json() == {
            "job_id": job_id,
            "status": "cancelled",
            "was": "awaiting_approval",
            "status_reason": "cancelled by ana via api: the customer asked us to stop",
            "closed_actions": [action_id],
        }
        approval = api.get(f"/v1/approvals/{action_id}", headers=ana).json()
        assert (approval["status"], approval["decided_by"], approval["decided_via"]) == (
            "cancelled",
            "ana",
            "api",
        )
        late = api.post(f"/v1/approvals/{action_id}/decision", json={"action": "approve"}, headers=ana)
        assert (
            late.json()["applied"] is False and "already cancelled by ana via api" in late.json()["message"]
        )
        assert is_problem(api.post(url, json={"reason": "again"}, headers=ana), 409)
    rows = audit(app, job_id)
    assert ("job_cancelled", "api", "ana", "the customer asked us to stop") in rows
    assert ("approval_cancelled", "job_cancelled", "ana", "the customer asked us to stop") in rows


def test_an_org_admin_cancels_a_deferred_job_of_another_user(app: App, clock: FakeClock) -> None:
    hours = _hours_after(clock, 2)
    app.admin.add_user("acme", "owl", "Owl", timezone="UTC", active_hours=hours, workdays="mon-sun")
    result = app.emit(event("five_steps", user="owl"))
    assert result.status == "deferred"
    with in_process(app) as api:
        done = api.post(
            f"/v1/jobs/{result.job_id}/cancel",
            json={"reason": "not needed"},
            headers=issue(app, "acme", "boss"),
        )
    assert done.status_code == 200 and done.json()["was"] == "deferred"
    clock.advance(timedelta(hours=25))
    assert app.run_until_idle() == 0


def _hours_after(clock: FakeClock, hours: int) -> str:
    start = (clock.now().hour + hours) % 24
    return f"{start:02d}:00-{(start + 1) % 24:02d}:00"


INTERRUPTED = """event_type: interrupted
active_hours: ignore
steps:
  - name: first
    uses: skill:echo
    with: {n: 1}
  - name: interrupt
    uses: skill:interrupt
  - name: after
    uses: skill:act
"""


@pytest.fixture
def interrupting(db_url: str, clock: FakeClock, effect_dir: Path) -> Iterator[App]:
    """An App whose ``interrupted`` sequence's second step is cancelled (by boss, over the API's
    path) while it runs, and then queues an effect as if nothing happened."""
    settings = Settings(database_url=db_url, packs=[MECHANICS])
    registry = load_packs([MECHANICS], settings)
    holder: dict[str, App] = {}

    @registry.skill("interrupt")
    def interrupt(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        app = holder["app"]
        cancel_job(app.store, app.clock, ctx.job_id, "boss", "stop it mid-run", "api")
        return {"effect": ctx.effect("mechanics.file", {"label": "must not be sent"})}

    registry.add_sequence(load_sequence_text(INTERRUPTED, "interrupted.yaml"))
    app = App(settings, clock=clock, registry=registry)
    holder["app"] = app
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    app.admin.add_user("acme", "boss", "Boss", active_hours=None, role="admin")
    yield app
    app.close()


def test_a_running_job_stops_after_its_current_step(interrupting: App, effect_dir: Path) -> None:
    """The step under way finishes, but nothing of it is recorded or sent, and no step after it
    runs; the worker goes on with the next job."""
    app = interrupting
    job_id = app.emit(event("interrupted")).job_id or ""
    app.run_until_idle()
    job = job_of(app, job_id)
    assert (
        job.status.value == "cancelled" and job.status_reason == "cancelled by boss via api: stop it mid-run"
    )
    with app.store.read() as conn:
        steps = [(s.step_name, s.status.value) for s in jobq.steps_of(conn, job_id)]
        effects = jobq.outbox_of(conn, job_id)
        assert actionq.pending_of_job(conn, job_id) == []
    assert steps == [("first", "completed")]
    assert effects == [] and not effect_dir.exists()
    rows = audit(app, job_id)
    cancelled = [r for r in rows if r[0] == "job_cancelled"]
    assert cancelled == [("job_cancelled", "api", "boss", "stop it mid-run")]
    next_job = app.emit(event("five_steps")).job_id or ""
    app.run_until_idle()
    assert job_of(app, next_job).status.value == "completed"


def test_a_job_is_cancelled_from_its_page(app: App) -> None:
    """Its page offers "Cancel job…" to its owner (not to another member); the confirm page asks
    why; a stale form or an empty reason changes nothing; the cancel is audited as via web."""
    job_id = app.emit(event("five_steps")).job_id or ""
    with in_process(app) as http:
        ana, eve = Session(app, http, "ana"), Session(app, http, "eve")
        assert "Cancel job…" in visible(ana.get(f"/jobs/{job_id}").text)
        assert "Cancel job…" not in visible(eve.get(f"/jobs/{job_id}").text)
        assert "Why?" in visible(ana.get(f"/jobs/{job_id}/cancel").text)
        assert eve.post(f"/jobs/{job_id}/cancel", reason="mine now").status_code == 403
        stale = http.post(f"/jobs/{job_id}/cancel", data={"csrf": "old", "reason": "x"}, headers=ana.headers)
        assert stale.status_code == 403
        assert ana.post(f"/jobs/{job_id}/cancel", reason="  ").status_code == 422
        assert job_of(app, job_id).status.value == "pending"
        done = ana.post(f"/jobs/{job_id}/cancel", reason="sent by mistake")
        assert (done.status_code, done.headers["location"]) == (303, f"/jobs/{job_id}?said=cancelled")
        page = visible(ana.get(done.headers["location"]).text)
        assert "Cancelled: nothing more runs or is sent for it." in page
        assert "cancelled by ana via web: sent by mistake" in page and "Cancel job…" not in page
    assert ("job_cancelled", "web", "ana", "sent by mistake") in audit(app, job_id)


def test_jobs_not_ended_are_cancelled_in_bulk_from_the_cli_and_the_api(app: App) -> None:
    """By type (CLI, after a dry run) and by status (API, org admins only); ended jobs are left."""
    gated = app.emit(event("gated", {"ref": "bulk"})).job_id or ""
    broken = app.emit(event("must_stop")).job_id or ""
    app.run_until_idle()
    queued = [app.emit(event("five_steps", {"n": n})).job_id or "" for n in (1, 2)]
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS])}
    base = ["--db", app.settings.database_url, "jobs", "cancel-all", "--type", "five_steps"]
    dry = CliRunner().invoke(cli, [*base, "--reason", "runaway schedule", "--dry-run"], env=env)
    assert dry.exit_code == 0 and dry.output.startswith("would cancel 2 job(s)\n")
    assert [job_of(app, j).status.value for j in queued] == ["pending", "pending"]
    done = CliRunner().invoke(cli, [*base, "--reason", "runaway schedule", "--by", "boss"], env=env)
    assert done.exit_code == 0 and done.output.startswith("cancelled 2 job(s)\n"), done.output
    assert [job_of(app, j).status.value for j in queued] == ["cancelled", "cancelled"]
    with in_process(app) as api:
        body = {"reason": "stop asking", "status": ["awaiting_approval"]}
        refused = api.post("/v1/jobs/cancel", json=body, headers=issue(app, "acme", "ana"))
        assert is_problem(refused, 403)["detail"] == "only an org admin may cancel jobs in bulk"
        bad = api.post("/v1/jobs/cancel", json={**body, "status": ["completed"]}, headers=issue(app, "acme"))
        assert is_problem(bad, 422)
        ok = api.post("/v1/jobs/cancel", json=body, headers=issue(app, "acme", "boss"))
        assert [j["id"] for j in ok.json()["items"]] == [gated]
    assert job_of(app, gated).status.value == "cancelled" and job_of(app, broken).status.value == "failed"
    assert ("job_cancelled", "cli", "boss", "runaway schedule") in audit(app, queued[0])
    assert ("job_cancelled", "api", "boss", "stop asking") in audit(app, gated)
