"""The worker: claim a job, run it, repeat; expire approvals and dispatch effects in between.
The only loop that sleeps."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from overture.clock import Clock
from overture.engine.approvals import Approvals
from overture.engine.audit import audit_row
from overture.engine.delivery import Delivery
from overture.engine.model import Job
from overture.engine.outbox import OutboxDispatcher
from overture.engine.runner import Runner
from overture.errors import LeaseLost
from overture.ids import new_id
from overture.storage import jobs as jobq
from overture.storage.store import Store

log = logging.getLogger("overture.worker")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"


@dataclass
class Worker:
    """Claims jobs under a lease equal to the time budget and runs them to a stopping point."""

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

    def claim(self) -> Job | None:
        now = self.clock.now()
        token = new_id()
        with self.store.write() as conn:
            found = jobq.claim_job(conn, self.name, token, now, now + timedelta(seconds=self.lease_s))
            if found is None:
                return None
            job, previous = found
            if previous is not None:
                jobq.insert_audit(
                    conn,
                    [
                        audit_row(
                            now,
                            "lease_reclaimed",
                            "lease_expired",
                            org_id=job.org_id,
                            job_id=job.id,
                            actor=self.name,
                            previous_owner=previous,
                            step_index=job.current_step,
                        )
                    ],
                )
        return job

    def run_one(self) -> bool:
        """Claim and run one job; False when nothing was runnable."""
        job = self.claim()
        if job is None:
            return False
        try:
            self.runner.run(job)
        except LeaseLost:
            log.warning("job %s: lease lost; another worker has it", job.id)
        self.jobs_run += 1
        return True

    def housekeeping(self) -> None:
        """Expire approvals past their deadline and carry out committed effects."""
        self.approvals.expire_due()
        self.outbox.dispatch()
        if self.delivery is not None:
            self.delivery.deliver_due()

    def run(self, until_idle: bool = False, max_jobs: int | None = None) -> int:
        """Work until stopped (or, with ``until_idle``, until nothing is runnable now)."""
        self.store.start_listening()
        log.info("worker %s started", self.name)
        last_housekeeping = -1e9
        while not self.stopping.is_set():
            if time.monotonic() - last_housekeeping >= self.housekeeping_interval_s:
                self.housekeeping()
                last_housekeeping = time.monotonic()
            if self.run_one():
                if max_jobs is not None and self.jobs_run >= max_jobs:
                    break
                continue
            self.housekeeping()
            last_housekeeping = time.monotonic()
            if until_idle and self._idle():
                break
            self.store.wait_for_work(self._sleep_time())
        self.housekeeping()
        self.runner.close()
        log.info("worker %s stopped after %d job runs", self.name, self.jobs_run)
        return self.jobs_run

    def _idle(self) -> bool:
        """Nothing runnable now or within the idle horizon (a short retry backoff, or the
        lease of a worker that died, is work still to wait for; a deferral to tomorrow is not)."""
        with self.store.read() as conn:
            nxt = jobq.next_run_after(conn)
        return nxt is None or nxt > self.clock.now() + timedelta(seconds=self.idle_horizon_s)

    def _sleep_time(self) -> float:
        with self.store.read() as conn:
            nxt = jobq.next_run_after(conn)
        if nxt is None:
            return self.poll_interval_s
        return max(0.01, min(self.poll_interval_s, (nxt - self.clock.now()).total_seconds()))

    def stop(self) -> None:
        """Stop claiming; the job in hand is handed back after its current step is recorded."""
        self.stopping.set()
        self.runner.stopping.set()
        self.store.notify_work()
