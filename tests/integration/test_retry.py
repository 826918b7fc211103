"""Retrying failed jobs, on both backends: one job from an earlier step over the API (the steps
before it kept, effects already queued not repeated), and every job of a type that failed since
a moment from the CLI, with the worker saying how many of its runs failed."""

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
from overture.core.records import Decision
from overture.core.step_context import StepContext
from overture.engine.packs import load_packs
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from tests.conftest import MECHANICS, event
from tests.integration.test_http_api import in_process, is_problem, issue

FRAGILE = """event_type: fragile
active_hours: ignore
steps:
  - name: first
    uses: skill:echo
    with: {n: 1}
  - name: act-one
    uses: skill:act
  - name: fragile
    uses: skill:fragile
  - name: last
    uses: skill:act
"""
# Approved at its gate, then failing after it.
GATED_FRAGILE = """event_type: gated_fragile
active_hours: ignore
steps:
  - name: first
    uses: skill:echo
    with: {n: 1}
  - name: send
    uses: skill:act
    approval:
      pattern: draft
      title: "Send it"
  - name: fragile
    uses: skill:fragile
"""


@pytest.fixture
def fragile(db_url: str, clock: FakeClock, effect_dir: Path) -> Iterator[tuple[App, dict[str, bool]]]:
    """An App whose ``fragile`` sequence fails at its third step until ``broken["on"]`` is False."""
    settings = Settings(database_url=db_url, packs=[MECHANICS])
    registry = load_packs([MECHANICS], settings)
    broken = {"on": True}

    @registry.skill("fragile")
    def fragile_step(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        if broken["on"]:
            raise RuntimeError("the CRM answered 500")
        return {"fixed": True}

    registry.add_sequence(load_sequence_text(FRAGILE, "fragile.yaml"))
    registry.add_sequence(load_sequence_text(GATED_FRAGILE, "gated_fragile.yaml"))
    app = App(settings, clock=clock, registry=registry)
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    app.admin.add_user("acme", "eve", "Eve", active_hours=None)
    yield app, broken
    app.close()


def test_a_failed_job_is_retried_from_an_earlier_step_over_the_api(
    fragile: tuple[App, dict[str, bool]], effect_dir: Path
) -> None:
    app, broken = fragile
    job_id = app.emit(event("fragile")).job_id or ""
    app.run_until_idle()
    ana, eve = issue(app, "acme", "ana"), issue(app, "acme", "eve")
    url = f"/v1/jobs/{job_id}/retry"
    with in_process(app) as api:
        assert api.get(f"/v1/jobs/{job_id}", headers=ana).json()["status"] == "failed"
        unknown = is_problem(api.post(url, json={"from_step": "frist"}, headers=ana), 422)
        assert "fragile has no step 'frist'; its steps: first, act-one, fragile, last" in unknown["detail"]
        later = is_problem(api.post(url, json={"from_step": "last"}, headers=ana), 422)
        assert "'last' comes after the step the job stopped on (fragile)" in later["detail"]
        assert is_problem(api.post(url, json={}, headers=eve), 403)
        broken["on"] = False
        done = api.post(url, json={"from_step": "act-one"}, headers=ana)
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["current_step"]) == ("pending", 1)
        assert done.json()["status_reason"] == "retried from act-one by ana via api"
        app.run_until_idle()
        assert api.get(f"/v1/jobs/{job_id}", headers=ana).json()["status"] == "completed"
        assert is_problem(api.post(url, headers=ana), 409)["detail"].startswith(f"job {job_id} is completed")
    with app.store.read() as conn:
        steps = [(s.step_name, s.status.value) for s in jobq.steps_of(conn, job_id)]
        effects = sorted(r["idempotency_key"] for r in jobq.outbox_of(conn, job_id))
        retried = [a for a in jobq.audit_of(conn, job_id=job_id) if a["action"] == "job_retried"]
    assert steps == [
        ("first", "completed"),
        ("act-one", "completed"),
        ("fragile", "failed"),
        ("act-one", "completed"),
        ("fragile", "completed"),
        ("last", "completed"),
    ]
    assert effects == [f"{job_id}:1:act-one", f"{job_id}:3:last"]  # act-one's effect not repeated
    assert len(list(effect_dir.iterdir())) == 2
    assert [(a["actor"], a["reason"], a["detail"]["from_step"]) for a in retried] == [
        ("ana", "api", "act-one")
    ]


def test_a_job_run_again_from_before_its_approved_gate_is_not_asked_again(
    fragile: tuple[App, dict[str, bool]], effect_dir: Path
) -> None:
    """The gate finds the decision made in the first run (a pause there would have been a
    second question), runs the approved step and goes on; nothing is asked twice."""
    app, broken = fragile
    job_id = app.emit(event("gated_fragile")).job_id or ""
    app.run_until_idle()
    with app.store.read() as conn:
        (action,) = actionq.list_actions(conn, org_id="acme")
    app.approvals.decide(action.id, Decision.APPROVE, "ana", "api")
    app.run_until_idle()
    assert _status(app, job_id) == "failed"
    broken["on"] = False
    with in_process(app) as api:
        done = api.post(
            f"/v1/jobs/{job_id}/retry", json={"from_step": "first"}, headers=issue(app, "acme", "ana")
        )
        assert done.status_code == 200, done.text
    app.run_until_idle()
    assert _status(app, job_id) == "completed"
    with app.store.read() as conn:
        actions = actionq.list_actions(conn, org_id="acme", status=None)
        asks = [n for n in noteq.for_user(conn, "ana") if n["kind"] == "approval_request"]
        steps = [(s.step_name, s.status.value) for s in jobq.steps_of(conn, job_id)]
    assert [(a.id, a.status.value) for a in actions] == [(action.id, "approved")]
    assert len(asks) == 1
    assert steps == [
        ("first", "completed"),
        ("send", "awaiting_approval"),
        ("send", "completed"),
        ("fragile", "failed"),
        ("first", "completed"),
        ("send", "completed"),
        ("fragile", "completed"),
    ]
    assert len(list(effect_dir.iterdir())) == 1  # the approved send went out once


def test_every_job_of_a_type_that_failed_since_a_moment_is_retried_from_the_cli(
    app: App, clock: FakeClock
) -> None:
    """--dry-run lists and changes nothing; then they are queued again, audited; the worker
    says how many of its runs failed, and which; jobs of other types or earlier are left."""
    early = app.emit(event("must_stop", {"n": 0})).job_id
    app.run_until_idle()
    clock.advance(3600)
    since = clock.now()
    failing = [app.emit(event("must_stop", {"n": n})).job_id for n in (1, 2)]
    other = app.emit(event("wasted")).job_id
    app.run_until_idle()
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS])}
    db = ["--db", app.settings.database_url]
    base = [*db, "jobs", "retry-all", "--type", "must_stop", "--since", f"{since:%Y-%m-%dT%H:%M}"]
    dry = CliRunner().invoke(cli, [*base, "--dry-run"], env=env)
    assert dry.exit_code == 0 and dry.output.startswith("would retry 2 job(s)\n"), dry.output
    assert all(job_id in dry.output for job_id in failing) and str(early) not in dry.output
    assert [_status(app, j) for j in failing] == ["failed", "failed"]
    done = CliRunner().invoke(cli, [*base, "--by", "boss"], env=env)
    assert done.exit_code == 0 and done.output.startswith("retried 2 job(s)\n"), done.output
    assert [_status(app, j) for j in (*failing, early, other)] == [
        "pending",
        "pending",
        "failed",
        "completed",
    ]
    worker = CliRunner().invoke(cli, [*db, "worker", "--until-idle"], env=env)
    assert worker.exit_code == 0, worker.output
    lines = worker.output.splitlines()
    assert lines[0].endswith(": 2 run, 2 failed")
    assert sorted(lines[1:]) == sorted(f"  failed: {j}  see `overture jobs show {j}`" for j in failing)
    none = CliRunner().invoke(
        cli, [*db, "jobs", "retry-all", "--type", "wasted", "--since", "2026-01-01"], env=env
    )
    assert none.output == "retried 0 job(s): none failed since 2026-01-01 00:00\n"
    with app.store.read() as conn:
        audits = [a for a in jobq.audit_of(conn, job_id=failing[0]) if a["action"] == "job_retried"]
    assert [(a["actor"], a["reason"]) for a in audits] == [("boss", "cli")]


def _status(app: App, job_id: str | None) -> str:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id or "")
    assert job is not None
    return job.status.value


def test_an_expired_job_is_asked_again(app: App, clock: FakeClock) -> None:
    """Its approval is pending again for as long as it first had, its owner is told again, and
    once approved the job runs to the end; from_step does not apply."""
    job_id = app.emit(event("gated", {"ref": "late"})).job_id or ""
    app.run_until_idle()
    clock.advance(timedelta(hours=49))
    assert app.approvals.expire_due() == 1 and _status(app, job_id) == "expired"
    ana = issue(app, "acme", "ana")
    with in_process(app) as api:
        stepped = api.post(f"/v1/jobs/{job_id}/retry", json={"from_step": "draft"}, headers=ana)
        assert "an expired job is asked again at its approval" in is_problem(stepped, 422)["detail"]
        done = api.post(f"/v1/jobs/{job_id}/retry", headers=ana)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "awaiting_approval"
        assert done.json()["status_reason"] == "waiting for a decision on send (asked again by ana via api)"
    with app.store.read() as conn:
        (action,) = actionq.list_actions(conn, org_id="acme")
        asks = [n for n in noteq.for_user(conn, "ana") if n["kind"] == "approval_request"]
    assert action.expires_at == clock.now() + timedelta(hours=48) and action.decided_by is None
    assert len(asks) == 2
    app.approvals.decide(action.id, Decision.APPROVE, "ana", "api")
    app.run_until_idle()
    assert _status(app, job_id) == "completed"
