"""One event in flight: handed to a waiting lane in its ingest commit, run with one commit per
step, paused and resumed in one transaction each; housekeeping on a timer of its own. On both
backends, with real workers in threads.

Workers here poll once an hour, so a job that runs at all was woken, not polled for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision, JobStatus
from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.engine.run.worker import Worker
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq

ORG, USER = "fast", "fu"
HOUR = 3600.0
LANE = "fast-lane"
GATED = (
    "event_type: gated_noop\nactive_hours: ignore\nsteps:\n"
    "  - name: a\n    uses: skill:noop\n"
    "  - name: b\n    uses: skill:noop\n    approval:\n      pattern: draft\n      expires: 1h\n"
    "  - name: c\n    uses: skill:noop\n"
)


ECHO = (
    "event_type: gated_echo\nactive_hours: ignore\nsteps:\n"
    "  - name: a\n    uses: skill:echo\n    with: {ref: '{{ event.payload.ref }}'}\n"
    "  - name: b\n    uses: skill:echo\n"
    "    with: {subject: 'about {{ outputs.a.ref }}', body: draft}\n"
    "    approval:\n      pattern: draft\n      expires: 1h\n"
    "  - name: c\n    uses: skill:echo\n"
    "    with: {sent: '{{ outputs.b.body }}', from_a: '{{ outputs.a.ref }}'}\n"
)

HELD = "event_type: held\nactive_hours: ignore\nsteps:\n  - name: h\n    uses: skill:hold\n"
HOLDING, RELEASE = threading.Event(), threading.Event()


def registry() -> Registry:
    reg = Registry()

    @reg.skill("noop")
    def noop(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return the step's index."""
        return {"i": ctx.step_index}

    @reg.skill("hold")
    def hold(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Say it is running, then wait to be let go."""
        HOLDING.set()
        assert RELEASE.wait(30)
        return {}

    @reg.skill("echo")
    def echo(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return the step's inputs."""
        return dict(inputs)

    steps = "\n".join(f"  - name: s{i}\n    uses: skill:noop" for i in range(5))
    reg.add_sequence(
        load_sequence_text(f"event_type: chain\nactive_hours: ignore\nsteps:\n{steps}\n", "chain.yaml")
    )
    reg.add_sequence(load_sequence_text(GATED, "gated_noop.yaml"))
    reg.add_sequence(load_sequence_text(ECHO, "gated_echo.yaml"))
    reg.add_sequence(load_sequence_text(HELD, "held.yaml"))
    return reg


@pytest.fixture
def fast(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = App(Settings(database_url=db_url, packs=[], poll_interval_s=HOUR), clock=clock, registry=registry())
    app.migrate()
    app.admin.add_org(ORG, "Fast")
    app.admin.add_user(ORG, USER, "Fu", active_hours=None)
    yield app
    app.close()


class Commits:
    """Transactions committed through SQLAlchemy (ingest, decisions, reads, housekeeping) by
    one thread."""

    def __init__(self, app: App, thread_name: str) -> None:
        self.count = 0
        self.thread_name = thread_name
        sa_event.listen(app.store.engine, "commit", self._commit)

    def _commit(self, _conn: Any) -> None:
        if threading.current_thread().name == self.thread_name:
            self.count += 1


def listening(app: App) -> None:
    """On PostgreSQL a worker starts listening for wake-ups, and its listener looks once for
    work queued before it listened (a wake-up, at a moment of its own): had that landed during a
    counted run, the lane would look again, one claim more. Listen first, and let it land."""
    if app.store.is_sqlite or app.store._listener is not None:  # none, or listening already
        return
    seen = app.store.wake_seq
    app.store.start_listening()
    until(lambda: app.store.wake_seq != seen)


def start(app: App, housekeeping_s: float = HOUR) -> tuple[Worker, threading.Thread]:
    """A worker waiting in a thread, as ``serve`` runs one; returns once its lane waits."""
    listening(app)
    worker = app.worker("fast-worker")
    worker.housekeeper.interval_s = housekeeping_s
    thread = threading.Thread(target=worker.run, name=LANE, daemon=True)
    thread.start()
    until(lambda: app.store.idle.waiting == 1)
    return worker, thread


def stop(worker: Worker, thread: threading.Thread) -> None:
    worker.stop()
    thread.join(10)
    assert not thread.is_alive()


def until(check: Callable[[], bool], limit_s: float = 30.0) -> None:
    """Wait for ``check`` (a deadline only so a broken build fails instead of hanging)."""
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def job_status(app: App, job_id: str) -> JobStatus:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None
    return job.status


def emit(app: App, kind: str, ref: str) -> str:
    result = app.emit({"type": kind, "org_id": ORG, "user_id": USER, "payload": {"ref": ref}})
    assert result.status == "accepted" and result.job_id
    return result.job_id


def test_an_event_for_a_waiting_worker_is_taken_in_its_ingest_commit_and_runs_one_commit_per_step(
    fast: App,
) -> None:
    worker, thread = start(fast)
    warm = emit(fast, "chain", "warm-up")  # loads (and caches) the org's context first
    until(lambda: job_status(fast, warm) == JobStatus.COMPLETED)
    until(lambda: fast.store.idle.waiting == 1)
    lane = Commits(fast, LANE)
    caller = Commits(fast, threading.current_thread().name)
    before = worker.commits_so_far()
    job_id = emit(fast, "chain", "one")
    assert caller.count == 1  # the ingest: one transaction
    until(lambda: job_status(fast, job_id) == JobStatus.COMPLETED)
    until(lambda: fast.store.idle.waiting == 1)
    ran = worker.commits_so_far() - before
    lane_commits = lane.count
    stop(worker, thread)
    with fast.store.read() as conn:
        job = jobq.get_job(conn, job_id)
        steps = jobq.steps_of(conn, job_id)
    assert job is not None and job.claims == 1  # taken once, by the ingest's commit
    assert [s.status.value for s in steps] == ["completed"] * 5
    assert ran == 5  # one commit per step: no claim of its own, no look for more afterwards
    assert lane_commits == 0  # and no other transaction (reads, housekeeping) on the way


def test_a_run_to_idle_claims_once_and_commits_once_per_step_after(fast: App) -> None:
    listening(fast)
    job_id = emit(fast, "chain", "batch")
    worker = fast.worker("idle-runner")
    worker.run(until_idle=True)
    assert job_status(fast, job_id) == JobStatus.COMPLETED
    assert worker.commits == 6  # the claim, then the five steps (the last claims nothing more)


def test_run_until_idle_keeps_its_worker_between_calls(fast: App) -> None:
    first = emit(fast, "chain", "first")
    fast.run_until_idle()
    second = emit(fast, "chain", "second")
    fast.run_until_idle()
    with fast.store.read() as conn:
        actors = {
            r["actor"]
            for job_id in (first, second)
            for r in jobq.audit_of(conn, job_id=job_id)
            if r["action"] == "job_completed"
        }
    assert job_status(fast, first) == job_status(fast, second) == JobStatus.COMPLETED
    assert len(actors) == 1


def test_a_pause_and_a_decision_each_take_one_transaction_and_the_job_is_handed_over(fast: App) -> None:
    worker, thread = start(fast)
    before = worker.commits_so_far()
    job_id = emit(fast, "gated_noop", "gate")
    until(lambda: job_status(fast, job_id) == JobStatus.AWAITING_APPROVAL)
    until(lambda: fast.store.idle.waiting == 1)
    paused_commits = worker.commits_so_far() - before
    with fast.store.read() as conn:
        action = actionq.action_for_step(conn, job_id, 1)
        notes = noteq.for_user(conn, USER)
        audits = [r["action"] for r in jobq.audit_of(conn, job_id=job_id)]
    assert action is not None and action.status.value == "pending"
    assert [n["kind"] for n in notes] == ["approval_request"]
    assert "approval_requested" in audits
    # Step a's record goes in with the pause, which looks for an earlier decision itself.
    assert paused_commits == 1

    caller = Commits(fast, threading.current_thread().name)
    decided = fast.approvals.decide(action.id, Decision.APPROVE, USER, "api")
    decision_commits = caller.count
    assert decided.applied and decided.action.status.value == "approved"
    until(lambda: job_status(fast, job_id) == JobStatus.COMPLETED)
    until(lambda: fast.store.idle.waiting == 1)
    resumed_commits = worker.commits_so_far() - before - paused_commits
    stop(worker, thread)
    with fast.store.read() as conn:
        job = jobq.get_job(conn, job_id)
        steps = [(s.step_name, s.status.value) for s in jobq.steps_of(conn, job_id)]
    assert job is not None and job.claims == 2  # the ingest's, then the decision's
    assert steps == [("a", "completed"), ("b", "awaiting_approval"), ("b", "completed"), ("c", "completed")]
    assert decision_commits == 1  # the decision, with the job taken for the waiting lane
    # Resumed: step b and step c. What the gate reads on resuming (its decision, step a's
    # output) came with the job from the decision's transaction.
    assert resumed_commits == 2


def test_a_job_handed_over_by_a_decision_resumes_with_the_earlier_outputs_and_the_edits(fast: App) -> None:
    worker, thread = start(fast)
    job_id = emit(fast, "gated_echo", "acme")
    until(lambda: job_status(fast, job_id) == JobStatus.AWAITING_APPROVAL)
    until(lambda: fast.store.idle.waiting == 1)
    with fast.store.read() as conn:
        action = actionq.action_for_step(conn, job_id, 1)
    assert action is not None and action.draft == {"subject": "about acme", "body": "draft"}
    before = worker.commits_so_far()
    decided = fast.approvals.decide(action.id, Decision.EDIT, USER, "api", modifications={"body": "edited"})
    assert decided.applied
    until(lambda: job_status(fast, job_id) == JobStatus.COMPLETED)
    until(lambda: fast.store.idle.waiting == 1)
    resumed_commits = worker.commits_so_far() - before
    stop(worker, thread)
    with fast.store.read() as conn:
        outputs = {
            s.step_name: s.output for s in jobq.steps_of(conn, job_id) if s.status.value == "completed"
        }
    assert outputs["b"] == {"subject": "about acme", "body": "edited"}  # the approved step: the edit
    assert outputs["c"] == {"sent": "edited", "from_a": "acme"}  # later steps: a's and b's outputs
    assert resumed_commits == 2  # b and c; nothing read again


def test_decisions_arriving_together_all_apply_and_their_jobs_finish(fast: App) -> None:
    ids = [emit(fast, "gated_noop", f"many-{i}") for i in range(8)]
    fast.run_until_idle()
    with fast.store.read() as conn:
        actions = actionq.list_actions(conn, ORG)
    assert len(actions) == 8
    worker, thread = start(fast)
    results: list[Any] = []
    deciders = [
        threading.Thread(
            target=lambda a=a: results.append(fast.approvals.decide(a.id, Decision.APPROVE, USER))
        )
        for a in actions
    ]
    for t in deciders:
        t.start()
    for t in deciders:
        t.join()
    assert all(r.applied for r in results) and len(results) == 8
    until(lambda: all(job_status(fast, i) == JobStatus.COMPLETED for i in ids))
    stop(worker, thread)


def test_housekeeping_expires_approvals_on_its_own_timer_while_no_job_runs(
    fast: App, clock: FakeClock
) -> None:
    job_id = emit(fast, "gated_noop", "expiring")
    fast.run_until_idle()
    assert job_status(fast, job_id) == JobStatus.AWAITING_APPROVAL
    worker, thread = start(fast, housekeeping_s=0.05)
    runs = worker.jobs_run
    clock.advance(timedelta(hours=2))
    until(lambda: job_status(fast, job_id) == JobStatus.EXPIRED)
    stop(worker, thread)
    with fast.store.read() as conn:
        audits = [r["action"] for r in jobq.audit_of(conn, job_id=job_id)]
    assert "approval_expired" in audits and "job_expired" in audits
    assert worker.jobs_run == runs  # no job run carried it


def test_a_job_another_process_queues_while_a_handed_over_job_runs_is_taken_after_it(
    fast: App, db_url: str, clock: FakeClock
) -> None:
    """A lane handed a job after it found the queue empty skips looking for another in that
    job's commit while nothing has been queued since (PostgreSQL hears of every job); one
    queued by another process meanwhile is still taken when the job ends, not at the next poll
    (an hour here)."""
    HOLDING.clear()
    RELEASE.clear()
    worker, thread = start(fast)
    other = App(
        Settings(database_url=db_url, packs=[], poll_interval_s=HOUR), clock=clock, registry=registry()
    )
    try:
        held = emit(fast, "held", "first")
        assert HOLDING.wait(30)
        queued = emit(other, "chain", "meanwhile")
        RELEASE.set()
        until(lambda: job_status(fast, held) == JobStatus.COMPLETED)
        until(lambda: job_status(fast, queued) == JobStatus.COMPLETED)
    finally:
        RELEASE.set()
        stop(worker, thread)
        other.close()


def test_ingests_decisions_steps_and_reads_at_once_all_land(fast: App) -> None:
    """Callers ingesting, a caller deciding each approval as it appears, a worker of two lanes
    and readers, all at once: on SQLite every write of the process goes through one connection
    in turn (``Store.write_connection``), and none is lost, doubled or left half done."""
    listening(fast)
    worker = fast.worker("busy-worker", 2)
    worker.housekeeper.interval_s = 0.05  # housekeeping writes (deliveries) join in too
    runner = threading.Thread(target=worker.run, name="busy-lanes", daemon=True)
    runner.start()
    per_caller, callers = 6, 3
    emitted: list[str] = []
    errors: list[BaseException] = []

    def caller(c: int) -> None:
        try:
            for i in range(per_caller):
                emitted.append(emit(fast, "gated_noop", f"busy-{c}-{i}"))
                emitted.append(emit(fast, "chain", f"busy-chain-{c}-{i}"))
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    decided: set[str] = set()

    def decider() -> None:
        try:
            while len(decided) < per_caller * callers:
                with fast.store.read() as conn:
                    pending = actionq.list_actions(conn, ORG, status="pending")
                for action in pending:
                    if action.id not in decided:
                        assert fast.approvals.decide(action.id, Decision.APPROVE, USER).applied
                        decided.add(action.id)
                time.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(c,)) for c in range(callers)]
    threads.append(threading.Thread(target=decider))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(emitted) == 2 * per_caller * callers
    until(lambda: all(job_status(fast, i) == JobStatus.COMPLETED for i in emitted))
    stop(worker, runner)
    with fast.store.read() as conn:
        for job_id in emitted:
            steps = [(s.step_name, s.status.value) for s in jobq.steps_of(conn, job_id)]
            names = [name for name, status in steps if status == "completed"]
            assert names in (["a", "b", "c"], [f"s{i}" for i in range(5)]), (job_id, steps)
        actions = actionq.list_actions(conn, ORG, status=None, limit=1000)
    assert sorted(a.status.value for a in actions) == ["approved"] * (per_caller * callers)
