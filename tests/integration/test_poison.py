"""A job whose claims keep being lost without progress (it kills its workers) is quarantined
as failed after ``max_lost_claims``, audited and told; the other jobs go on; once fixed it is
retried. (The same with real kill -9 is in tests/acceptance/test_chaos.py.)"""

from __future__ import annotations

import threading
import time
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


def test_a_job_whose_lease_runs_out_while_the_queue_is_busy_is_taken_over_next(
    app: App, clock: FakeClock
) -> None:
    """A worker dies holding a job; while another works through a queue of six, the dead one's
    lease runs out: the job is taken over (audited) right after the job in hand, not once the
    queue is empty, and not after a poll."""
    dead = app.emit(event("five_steps", {"n": "dead"})).job_id
    victim = app.worker("victim")
    assert victim.claim() is not None
    clock.advance(timedelta(seconds=victim.lease_s - 2))  # the victim's lease: 2 s left
    queue = []
    for i in range(6):  # a tenth of a second apart: claimed in this order
        clock.advance(timedelta(seconds=0.1))
        queue.append(app.emit(event("five_steps", {"n": f"q{i}"})).job_id)
    survivor = app.worker("survivor")
    survivor.poll_interval_s = 3600.0  # a lane that took the queue for empty would sit an hour
    order: list[str] = []

    def ran(job_id: str, _outcome: str) -> None:
        order.append(job_id)
        if len(order) == 1:  # the victim's lease runs out while the survivor is busy
            clock.advance(timedelta(seconds=3))

    survivor.on_run = ran
    running = threading.Thread(target=survivor.run, daemon=True)  # as `serve` runs it
    running.start()
    deadline = time.monotonic() + 30
    while len(order) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    survivor.stop()
    running.join(10)
    # The first job's commit took the second before the lease ran out; the dead one is next.
    assert order == [*queue[:2], dead, *queue[2:]]
    with app.store.read() as conn:
        job = jobq.get_job(conn, dead or "")
        reclaims = [a for a in jobq.audit_of(conn, job_id=dead) if a["action"] == "lease_reclaimed"]
    assert job is not None and job.status.value == "completed" and job.claims == 2
    assert [(a["actor"], a["detail"]["previous_owner"]) for a in reclaims] == [("survivor", "victim")]
