"""The worker: claim a job, run it, repeat. The only loop that sleeps.

A job runs to its end or its pause with one commit per step and nothing else between: its
completion takes the next job in the same commit, and a lane whose completion found the queue
empty goes straight to waiting. A waiting lane parks a slot (``storage.idle``) so the commit
that makes a job runnable in this process (an ingested event, a decision) hands the job over
with no claim and no polling delay; wake-ups from other processes come by NOTIFY on
PostgreSQL. Housekeeping (expiry, effects, reminders, delivery) has a timer of its own
(``housekeeping``), off the path of the runs.

It outlives the database: an outage anywhere in the loop (a claim, a step commit, a read, the
housekeeping) is ridden out by ``outages.OutageGuard`` — one log line, backoff until the server
answers, the jobs in hand handed back — and the loop goes on where it was.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from overture.clock import Clock
from overture.core.records import Job, JobStatus
from overture.engine.humans.approvals import Approvals
from overture.engine.humans.delivery import Delivery
from overture.engine.run.housekeeping import Housekeeper
from overture.engine.run.lanes import Lane, give_back, next_due, reclaimed, still_empty, worker_name
from overture.engine.run.outages import OutageGuard, quarantine
from overture.engine.run.outbox import OutboxDispatcher
from overture.engine.run.runner import Runner
from overture.errors import LeaseLost
from overture.storage.claims import ClaimRequest
from overture.storage.hotpath import HotPath
from overture.storage.idle import Slot
from overture.storage.outage import is_unavailable
from overture.storage.store import Store

log = logging.getLogger("overture.worker")


@dataclass
class Worker:
    """Claims jobs under a lease equal to the time budget and runs them to a stopping point.

    With ``concurrency`` above 1 it runs that many jobs at once, one lane (thread and runner)
    each; their step commits share transactions and flushes (group commit) on one connection.
    """

    store: Store
    runner: Runner
    approvals: Approvals
    outbox: OutboxDispatcher
    clock: Clock
    lease_s: float
    poll_interval_s: float = 0.5
    delivery: Delivery | None = None
    idle_horizon_s: float = 30.0
    housekeeping_interval_s: float = 1.0
    name: str = field(default_factory=worker_name)
    stopping: threading.Event = field(default_factory=threading.Event)
    jobs_run: int = 0
    # Where this run's jobs stood after each run ("failed", "completed", ... or "lost"), and
    # the jobs that failed, for the summary a worker prints ("3 run, 1 failed").
    outcomes: Counter[str] = field(default_factory=Counter)
    failed_jobs: list[str] = field(default_factory=list)
    commits: int = 0  # hot-path transactions, and the writes they carried (group commit)
    writes: int = 0
    concurrency: int = 1
    make_runner: Callable[[], Runner] | None = None
    max_lost_claims: int = 5  # claims lost to dead workers without progress before quarantine
    on_run: Callable[[str, str], None] | None = None  # (job id, status) after each run: signals.py

    def __post_init__(self) -> None:
        if self.concurrency > 1 and self.make_runner is None:
            raise ValueError("a worker with concurrency above 1 needs make_runner for its lanes")
        self.housekeeper = Housekeeper(
            self.store, self.clock, self.approvals, self.outbox, self.delivery, self.housekeeping_interval_s
        )
        self._hot: HotPath | None = None
        self._lock = threading.Lock()
        self._lanes = [Lane(self.runner)]
        taken, poisoned = partial(reclaimed, actor=self.name), partial(quarantine, actor=self.name)
        self._request = ClaimRequest(self.name, self.lease_s, taken, self.max_lost_claims, poisoned)
        self._retired: list[HotPath] = []
        self.outage = OutageGuard(self.store, self.clock, self.name, self.stopping, self._retire_connection)
        self._max_jobs: int | None = None
        self._reserved = 0
        self._last_housekeeping = -1e9
        self._lane_error: Exception | None = None
        self._running = False
        self._unkept = False  # a job ran since the last housekeeping round
        self._house_away = False
        self._due_at: datetime | None = None  # when a queued job next falls due, as last read
        self._lanes_done = False

    # -- the connection and the job count ------------------------------------------------

    def _connection(self) -> HotPath:
        """The driver connection held while busy (a fresh, checked one after each idle spell)."""
        with self._lock:
            if self._hot is None:
                self._hot = HotPath(self.store)
            return self._hot

    def commits_so_far(self) -> int:
        """Hot-path transactions this worker committed, counting the connection it holds now."""
        with self._lock:
            held = [hot for hot in (self._hot, *self._retired) if hot is not None]
        return self.commits + sum(hot.group.batches for hot in held)

    def _let_go_of_connection(self) -> None:
        with self._lock:
            held = [self._hot, *self._retired] if self._hot is not None else list(self._retired)
            self._hot, self._retired = None, []
        for hot in held:
            self.commits += hot.group.batches
            self.writes += hot.group.writes
            hot.close()

    def _retire_connection(self) -> None:
        """After an outage the lanes start on a new connection; the old one is closed when the
        worker stops, since another lane may still be failing on it."""
        with self._lock:
            if self._hot is not None:
                self._retired.append(self._hot)
                self._hot = None

    def _reserve(self) -> bool:
        """Count a job run before claiming it, so ``max_jobs`` holds across lanes."""
        with self._lock:
            if self._max_jobs is not None and self._reserved >= self._max_jobs:
                return False
            self._reserved += 1
            return True

    def _unreserve(self) -> None:
        with self._lock:
            self._reserved -= 1

    def _limit_reached(self) -> bool:
        with self._lock:
            return self._max_jobs is not None and self._reserved >= self._max_jobs

    # -- claiming and running --------------------------------------------------------------

    def claim(self) -> Job | None:
        """Take the next runnable job (or one whose lease ran out) under a new lease."""
        if not self._running:  # a claim on its own (tools, tests) holds no connection afterwards
            hot = HotPath(self.store)
            try:
                return hot.claim(self._request, self.clock.now())
            finally:
                hot.close()
        return self._connection().claim(self._request, self.clock.now())

    def run_one(self, chain: bool = False, lane: Lane | None = None, empty_at: int | None = None) -> bool:
        """Run one job: the one handed over by the lane's last completion, or a newly claimed
        one. With ``chain``, a plain completion takes the next job in its own commit, unless
        the queue is known to be empty still (``empty_at``: see ``lanes.still_empty``)."""
        lane = lane or self._lanes[0]
        if lane.handoff is not None:
            job, claimed_at, reads = lane.handoff
            lane.handoff = None
        else:
            if not self._reserve():
                return False
            try:
                claimed = self.claim()
            except Exception:
                self._unreserve()
                raise
            if claimed is None:
                self._unreserve()
                return False
            job, claimed_at, reads = claimed, self.clock.monotonic(), None
        quiet = still_empty(self.store, empty_at, self._due_at, self.clock.now())
        then = self._request if chain and not quiet and self._reserve() else None
        token = job.lease_token
        outcome = "lost"
        seq = self.store.wake_seq
        lane.drained = None
        try:
            outcome = lane.runner.run(job, self._connection(), claimed_at, then, reads).value
        except LeaseLost:
            log.warning("job %s: lease lost (cancelled, or another worker has it)", job.id)
        except Exception as exc:
            if is_unavailable(exc):
                self.outage.abandoned(job, token)
            if then is not None:
                self._unreserve()
            raise
        if lane.runner.handoff is not None:
            lane.handoff = (lane.runner.handoff, self.clock.monotonic(), None)
        elif then is not None:
            self._unreserve()
            if lane.runner.checkpoint.found_nothing:
                lane.drained = seq
                if self._due_at is not None and self._due_at <= self.clock.now():
                    self._due_at = None  # spent: the claim in that commit looked past it
        elif still_empty(self.store, empty_at, self._due_at, self.clock.now()):
            lane.drained = empty_at
        self._unkept = True
        with self._lock:
            self.jobs_run += 1
            self.outcomes[outcome] += 1
            if outcome == JobStatus.FAILED.value:
                self.failed_jobs.append(job.id)
        if self.on_run is not None and outcome != "lost":
            self.on_run(job.id, outcome)
        return True

    def _hand_back(self, lane: Lane) -> None:
        """A job taken by the last completion but not started goes back to the queue now."""
        if lane.handoff is None:
            return
        job = lane.handoff[0]
        lane.handoff = None
        self._unreserve()
        give_back(self.store, self.clock, job, self.name)

    def housekeeping(self) -> None:
        """Expire approvals past their deadline, carry out committed effects, deliver messages
        (whichever of them has anything due)."""
        self._last_housekeeping = time.monotonic()
        self._unkept = False
        self.housekeeper.run(self.stopping)

    def _keep_house(self) -> None:
        """The housekeeping timer of a worker that runs until stopped (a thread of its own)."""
        try:
            done = lambda: self.stopping.is_set() or self._lanes_done  # noqa: E731
            self.housekeeper.loop(done, lambda: self._unless_away(self.housekeeping))
        except Exception as exc:
            log.exception("worker %s: housekeeping stopped on an error; stopping the worker", self.name)
            self._lane_error = self._lane_error or exc
            self.stop()

    # -- the loops -----------------------------------------------------------------------

    def run(self, until_idle: bool = False, max_jobs: int | None = None) -> int:
        """Work until stopped (or, with ``until_idle``, until nothing is runnable now)."""
        self.store.start_listening()
        log.info("worker %s started with %d lane(s)", self.name, self.concurrency)
        self._max_jobs, self._reserved, self.jobs_run = max_jobs, 0, 0
        self.outcomes, self.failed_jobs = Counter(), []
        self._running, self._lane_error, self._due_at, self._lanes_done = True, None, None, False
        self.housekeeper.restart()
        while len(self._lanes) < self.concurrency:
            assert self.make_runner is not None
            self._lanes.append(Lane(self.make_runner()))
        for lane in self._lanes:
            lane.drained = None
            lane.runner.checkpoint.queued = self.housekeeper.poke
        threads = [
            threading.Thread(
                target=self._side_lane, args=(lane, until_idle), name=f"{self.name}:{i}", daemon=True
            )
            for i, lane in enumerate(self._lanes[1:], start=1)
        ]
        if not until_idle:
            threads.append(threading.Thread(target=self._keep_house, name=f"{self.name}:house", daemon=True))
        try:
            for thread in threads:
                thread.start()
            self._lane(self._lanes[0], until_idle)
            self._lanes_done = True  # the timer too (a job limit ends a run without a stop)
            self.housekeeper.stop()
            for thread in threads:
                thread.join()
            if self._lane_error is not None:
                raise self._lane_error
            if self._unkept and not self.stopping.is_set():
                self._unless_away(self.housekeeping)  # effects the last jobs queued
        except BaseException:
            self.stop()
            raise
        finally:
            for thread in threads:
                thread.join()
            self._running = False
            self._let_go_of_connection()
            for lane in self._lanes:
                lane.runner.close()
        log.info("worker %s stopped after %d job runs", self.name, self.jobs_run)
        return self.jobs_run

    def _side_lane(self, lane: Lane, until_idle: bool) -> None:
        """A lane in a thread of its own: an error stops the whole worker, as it would with one lane."""
        try:
            self._lane(lane, until_idle)
        except Exception as exc:
            log.exception("worker %s: a lane stopped on an error; stopping the worker", self.name)
            self._lane_error = self._lane_error or exc
            self.stop()

    def _lane(self, lane: Lane, until_idle: bool) -> None:
        """One lane's loop; a database outage is ridden out and the loop goes on."""
        while not self.stopping.is_set():
            try:
                if not self._turn(lane, until_idle):
                    break
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                if not self.outage.ride_out(exc):
                    break
        self._unless_away(lambda: self._hand_back(lane))

    def _turn(self, lane: Lane, until_idle: bool) -> bool:
        """One round of a lane: run a job, or wait for one; False when the lane is done."""
        keeper = lane is self._lanes[0]
        if (
            until_idle
            and keeper
            and time.monotonic() - self._last_housekeeping >= self.housekeeping_interval_s
            and self._unkept
        ):
            self.housekeeping()  # a long run to idle keeps house on the same timer, between jobs
        seq = self.store.wake_seq
        if lane.handoff is None and lane.drained == seq:
            ran = False  # the queue was found empty, and nothing woke this lane since
        else:
            # A job handed to a lane that found the queue empty: it may be the only one.
            empty_at = lane.drained if lane.handoff is not None else None
            lane.drained = None
            ran = self.run_one(True, lane, empty_at)
            if not ran:
                lane.drained = seq
                if not until_idle:
                    self._due_at = next_due(self.store, False)
        if ran:
            return True
        if self._limit_reached() or self.stopping.is_set():
            return False
        if until_idle:
            if keeper:
                self.housekeeping()
            nxt = next_due(self.store, keeper)
            if nxt is None or nxt > self.clock.now() + timedelta(seconds=self.idle_horizon_s):
                return False
            if self.concurrency == 1:
                self._let_go_of_connection()
            wait = (nxt - self.clock.now()).total_seconds()
            self.store.wait_for_work(max(0.01, min(self.poll_interval_s, wait)), since=seq)
            lane.drained = None  # waited for a job falling due: look again
            return True
        self._wait(lane, seq)
        return True

    def _wait(self, lane: Lane, seq: int) -> None:
        """Wait for work with a slot parked, so a commit in this process can hand a job over."""
        wait = self.poll_interval_s
        if self._due_at is not None:
            wait = min(wait, max(0.01, (self._due_at - self.clock.now()).total_seconds()))
        slot = Slot(self.name, self.lease_s) if self._reserve() else None
        if slot is not None:
            self.store.idle.park(slot)
        try:
            self.store.wait_for_work(wait, since=seq, until=(lambda: slot.handed) if slot else None)
        finally:
            job = self.store.idle.leave(slot) if slot is not None else None
            reads = slot.reads if slot is not None else None
            if slot is not None and job is None:
                self._unreserve()
        if job is not None:
            lane.handoff = (job, self.clock.monotonic(), reads)
        elif self.store.wake_seq == seq:  # a quiet poll interval: a fresh connection next time
            lane.drained = None
            if self.concurrency == 1:
                self._let_go_of_connection()

    def _unless_away(self, fn: Callable[[], Any]) -> None:
        """Run ``fn``; an outage only skips it (the lease runs out, the effect stays queued)."""
        try:
            fn()
            self._house_away = False
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            if not self._house_away:  # one line per outage, not one per round
                log.warning(
                    "worker %s: the database is unreachable (%s); skipped", self.name, type(exc).__name__
                )
            self._house_away = True

    def stop(self) -> None:
        """Stop claiming; jobs in hand are handed back after their current step is recorded."""
        self.stopping.set()
        self.housekeeper.stop()
        for lane in self._lanes:
            lane.runner.stopping.set()
        self.store.notify_work()
