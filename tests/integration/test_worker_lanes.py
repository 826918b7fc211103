"""A worker running several jobs at once, their step commits grouped, on both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from overture.app import App
from overture.core.records import JobStatus, StepRecord, StepStatus
from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.errors import LeaseLost
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.claims import ClaimRequest
from overture.storage.hotpath import HotPath
from overture.storage.queries import jobs as jobq

ORG, USER = "lanes", "lu"


class Meter:
    """Counts steps in flight, the most seen at once, and the threads that ran them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.threads: set[str] = set()
        self.on_step: Callable[[StepContext], None] | None = None

    def step(self, ctx: StepContext, seconds: float) -> dict[str, Any]:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.threads.add(threading.current_thread().name)
        time.sleep(seconds)
        with self.lock:
            self.now -= 1
        if self.on_step is not None:
            self.on_step(ctx)
        return {"step": ctx.step_index}


def lanes_app(db_url: str, meter: Meter) -> App:
    registry = Registry()

    @registry.skill("wait")
    def wait(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Sleep a little (the way an API call would), counting overlaps."""
        return meter.step(ctx, float(inputs.get("seconds", 0.0)))

    for name, steps, seconds in (("two_waits", 2, 0.05), ("one_step", 1, 0.0)):
        body = "\n".join(
            f"  - name: s{i}\n    uses: skill:wait\n    with: {{seconds: {seconds}}}" for i in range(steps)
        )
        registry.add_sequence(
            load_sequence_text(f"event_type: {name}\nactive_hours: ignore\nsteps:\n{body}\n", f"{name}.yaml")
        )
    app = App(Settings(database_url=db_url, packs=[]), registry=registry)
    app.migrate()
    app.admin.add_org(ORG, "Lanes")
    app.admin.add_user(ORG, USER, "Lu", active_hours=None)
    return app


@pytest.fixture
def meter() -> Meter:
    return Meter()


@pytest.fixture
def lanes(db_url: str, meter: Meter) -> Iterator[App]:
    app = lanes_app(db_url, meter)
    yield app
    app.close()


def emit(app: App, type_: str, n: int) -> list[str]:
    ids = [
        app.emit({"type": type_, "org_id": ORG, "user_id": USER, "payload": {"i": i}}).job_id
        for i in range(n)
    ]
    assert all(ids)
    return [i for i in ids if i]


def statuses(app: App, job_ids: list[str]) -> list[str]:
    with app.store.read() as conn:
        return [jobq.get_job(conn, j).status.value for j in job_ids]  # type: ignore[union-attr]


def test_four_lanes_run_jobs_at_once_and_every_step_once(lanes: App, meter: Meter) -> None:
    """Eight jobs of two slow steps: four run at once, each on its own lane, and every step is
    recorded exactly once."""
    job_ids = emit(lanes, "two_waits", 8)
    worker = lanes.worker("w", concurrency=4)
    assert worker.run(until_idle=True) == 8
    assert statuses(lanes, job_ids) == ["completed"] * 8
    assert meter.most == 4
    assert len(meter.threads) == 4
    with lanes.store.read() as conn:
        for job_id in job_ids:
            steps = jobq.steps_of(conn, job_id)
            assert [(s.step_index, s.status.value) for s in steps] == [(0, "completed"), (1, "completed")]
            meta = jobq.get_job(conn, job_id).execution_metadata  # type: ignore[union-attr]
            assert meta is not None and meta["steps_completed"] == 2


def test_max_jobs_holds_across_lanes(lanes: App) -> None:
    """Three lanes told to stop after four job runs run exactly four; the rest wait, unleased."""
    job_ids = emit(lanes, "two_waits", 6)
    worker = lanes.worker("w", concurrency=3)
    assert worker.run(max_jobs=4) == 4
    states = statuses(lanes, job_ids)
    assert states.count("completed") == 4 and states.count("pending") == 2
    with lanes.store.read() as conn:
        assert all(
            jobq.get_job(conn, j).lease_token is None  # type: ignore[union-attr]
            for j in job_ids
        )


def test_a_job_taken_by_a_completion_is_handed_back_when_the_worker_stops(lanes: App, meter: Meter) -> None:
    """The completing commit also takes the next job; a worker stopping right then puts that job
    back at once (audited), and the next worker runs it."""
    first, second = emit(lanes, "one_step", 2)
    worker = lanes.worker("stopper")
    meter.on_step = lambda ctx: worker.stop()
    worker.run()
    assert statuses(lanes, [first, second]) == ["completed", "pending"]
    with lanes.store.read() as conn:
        job = jobq.get_job(conn, second)
        audit = jobq.audit_of(conn, job_id=second)
    assert job is not None and job.lease_token is None and job.claims == 1
    assert [(a["action"], a["reason"], a["actor"]) for a in audit if a["action"] == "job_released"] == [
        ("job_released", "worker_stopping", "stopper")
    ]
    meter.on_step = None
    assert lanes.worker("next").run(until_idle=True) == 1
    assert statuses(lanes, [second]) == ["completed"]


class Gate:
    """A write that holds the batch it leads until released, so others queue behind it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, _cursor: Any) -> str:
        self.entered.set()
        assert self.release.wait(10)
        return "gate"


def queue_behind(hot: HotPath, gate: Gate, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``gate`` as a leader, make ``calls`` (each submits one write) from threads behind it,
    release; returns each call's result or error."""
    results: list[Any] = [None] * len(calls)

    def submit(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the test looks at which writes failed, and how
            results[i] = exc

    leader = threading.Thread(target=hot.group.run, args=(gate.write,))
    leader.start()
    assert gate.entered.wait(10)
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while hot.group.queued < len(calls):
        assert time.monotonic() < deadline, "the writes never queued"
        time.sleep(0.005)
    gate.release.set()
    for t in [leader, *threads]:
        t.join(10)
    return results


def claimer(hot: HotPath, app: App, name: str) -> Callable[[], Any]:
    request = ClaimRequest(name, 60.0, lambda job, prev, now: {})
    return lambda: hot.claim(request, app.clock.now())


def test_writes_queued_behind_a_commit_share_the_next_one(lanes: App) -> None:
    """Four claims that arrive while a commit is under way go in one transaction, and take four
    different jobs."""
    job_ids = emit(lanes, "one_step", 4)
    hot = HotPath(lanes.store)
    try:
        results = queue_behind(hot, Gate(), [claimer(hot, lanes, f"c{i}") for i in range(4)])
        assert (hot.group.batches, hot.group.writes) == (2, 5)
    finally:
        hot.close()
    assert sorted(job.id for job in results) == sorted(job_ids)
    assert statuses(lanes, job_ids) == [JobStatus.IN_PROGRESS.value] * 4


def test_a_lost_lease_or_a_broken_write_fails_alone_in_its_batch(lanes: App) -> None:
    """In one batch: a step commit for a lease this worker lost, a statement the database
    refuses, and a claim. The first two fail with their own errors; the claim still lands."""
    (job_id,) = emit(lanes, "one_step", 1)
    hot = HotPath(lanes.store)
    with lanes.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None

    def stale() -> None:
        now = lanes.clock.now()
        step = StepRecord(0, "s0", 1, StepStatus.COMPLETED, now, now, {"x": 1})
        hot.advance(job_id, "not-my-lease", now, 1, "in_progress", {}, step)

    def broken(session: Any) -> None:
        cur = session.cur if hot.drv.sqlite else session.cursor()
        cur.execute("INSERT INTO no_such_table VALUES (1)")

    try:
        calls = [stale, lambda: hot.group.run(broken), claimer(hot, lanes, "c")]
        lost, refused, claimed = queue_behind(hot, Gate(), calls)
    finally:
        hot.close()
    assert isinstance(lost, LeaseLost)
    assert "no_such_table" in str(refused)
    assert claimed is not None and claimed.id == job_id
    assert statuses(lanes, [job_id]) == [JobStatus.IN_PROGRESS.value]
