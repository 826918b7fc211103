"""A job whose claims keep being lost without progress (it kills its workers) is quarantined
as failed after ``max_lost_claims``, audited and told; the other jobs go on; once fixed it is
retried. (The same with real kill -9 is in tests/acceptance/test_chaos.py.)"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.engine.run.retries import retry
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from overture.storage.tables.orchestrator import sequence_jobs
from tests.conftest import event
from tests.integration.test_console import Session, visible
from tests.integration.test_http_api import in_process


def die_holding(app: App, clock: FakeClock, name: str) -> str | None:
    """A worker claims the next job and dies with it: its lease runs out."""
    job = app.worker(name).claim()
    clock.advance(timedelta(seconds=app.settings.time_budget_s + 1))
    return job.id if job else None


def test_a_job_lost_five_times_without_progress_is_quarantined(app: App, clock: FakeClock) -> None:
    """Claimed six times, lost five: the sixth claim ends it failed (crashed_worker_repeatedly)
    instead of running it, and takes the next job."""
    poison = app.emit(event("five_steps", {"n": "poison"})).job_id
    for i in range(5):
        assert die_holding(app, clock, f"victim-{i}") == poison
    other = app.emit(event("five_steps", {"n": "other"})).job_id
    taken = app.worker("survivor").claim()
    assert taken is not None and taken.id == other
    with app.store.read() as conn:
        job = jobq.get_job(conn, poison or "")
        audit = [(a["action"], a["reason"]) for a in jobq.audit_of(conn, job_id=poison)]
        notes = [n for n in noteq.for_user(conn, "ana") if n["job_id"] == poison]
    assert job is not None and job.status.value == "failed" and job.claims == 6
    assert job.status_reason is not None and job.status_reason.startswith("crashed_worker_repeatedly")
    assert audit.count(("lease_reclaimed", "lease_expired")) == 5
    assert ("job_quarantined", "crashed_worker_repeatedly") in audit
    assert ("job_failed", "crashed_worker_repeatedly") in audit
    assert [n["kind"] for n in notes] == ["job_failed"]
    assert notes[0]["body"]["retry"] == f"overture jobs retry {poison}"


def test_a_committed_step_starts_the_count_again(app: App, clock: FakeClock) -> None:
    """Lost claims count only while nothing is committed: four losses, then a worker that gets
    through the job's steps; the count is back at 0 and the job completed."""
    job_id = app.emit(event("five_steps")).job_id or ""
    for i in range(4):
        assert die_holding(app, clock, f"victim-{i}") == job_id
    assert lost_claims(app, job_id) == 3  # the fourth loss is counted when the job is taken over
    app.run_until_idle()
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None and job.status.value == "completed" and lost_claims(app, job_id) == 0


def lost_claims(app: App, job_id: str) -> int:
    with app.store.read() as conn:
        q = sa.select(sequence_jobs.c.lost_claims).where(sequence_jobs.c.id == job_id)
        return int(conn.execute(q).scalar_one())


def test_a_quarantined_job_is_retried_once_fixed(app: App, clock: FakeClock) -> None:
    """`overture jobs retry` queues it again at its step, audited; it then runs to the end (a
    job not failed is refused)."""
    poison = app.emit(event("five_steps")).job_id or ""
    for i in range(5):
        die_holding(app, clock, f"victim-{i}")
    assert app.worker("quarantines").claim() is None
    env = {"OVERTURE_DATABASE_URL": app.settings.database_url, "OVERTURE_PACKS": "[]"}
    retried = retry(app.store, app.clock, app.registry, poison, "boss", "cli")  # what `jobs retry` calls
    assert retried.status.value == "pending" and retried.current_step == 0
    again = CliRunner().invoke(cli, ["jobs", "retry", poison], env=env)
    assert again.exit_code != 0 and "only failed jobs are retried" in again.output
    app.run_until_idle()
    with app.store.read() as conn:
        job = jobq.get_job(conn, poison)
        audit = [(a["action"], a["actor"]) for a in jobq.audit_of(conn, job_id=poison)]
    assert job is not None and job.status.value == "completed"
    assert ("job_retried", "boss") in audit


def test_a_quarantined_job_is_retried_from_its_page(app: App, clock: FakeClock) -> None:
    """Its page says why it stopped and offers "Retry job" to its owner and admins; pressing it
    queues the job again, audited as via web; a stale form or another member changes nothing."""
    poison = app.emit(event("five_steps")).job_id or ""
    for i in range(5):
        die_holding(app, clock, f"victim-{i}")
    assert app.worker("quarantines").claim() is None
    with in_process(app) as http:
        ana, eve = Session(app, http, "ana"), Session(app, http, "eve")
        page = visible(ana.get(f"/jobs/{poison}").text)
        assert "crashed_worker_repeatedly" in page and "Retry job" in page
        assert "Retry job" not in visible(eve.get(f"/jobs/{poison}").text)
        assert eve.post(f"/jobs/{poison}/retry").status_code == 403
        stale = http.post(f"/jobs/{poison}/retry", data={"csrf": "old"}, headers=ana.headers)
        assert stale.status_code == 403
        assert status_of(app, poison) == "failed"
        done = ana.post(f"/jobs/{poison}/retry")
        assert (done.status_code, done.headers["location"]) == (303, f"/jobs/{poison}?said=retried")
        assert "Queued again" in visible(ana.get(done.headers["location"]).text)
    app.run_until_idle()
    assert status_of(app, poison) == "completed"
    with app.store.read() as conn:
        audit = [(a["action"], a["actor"], a["reason"]) for a in jobq.audit_of(conn, job_id=poison)]
    assert ("job_retried", "ana via web", "web") in audit


def status_of(app: App, job_id: str) -> str:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None
    return job.status.value
