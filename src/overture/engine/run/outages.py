"""What a worker does when the database goes away, and about jobs that kill their workers.

An outage (a PostgreSQL restart, a cut network) is not an error of the worker's: it logs one
line, lets go of its connection, waits for the server with jittered backoff (``storage.outage``)
and goes on. The jobs it was running when a commit failed still carry its lease; once the
database answers it hands them back at once (fenced by the lease token, so one another worker
took meanwhile is left alone) instead of letting them wait out the lease.

A job whose claims keep being lost without a committed step is taken to be killing the workers
that run it: at ``max_lost_claims`` the claim ends it ``failed`` with the reason
``crashed_worker_repeatedly`` (audited, the rep told), and ``overture jobs retry`` queues it
again once it is fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from overture.clock import Clock
from overture.core.records import Job
from overture.engine.audit import audit_row
from overture.errors import LeaseLost
from overture.ids import new_id
from overture.storage.claims import Quarantine
from overture.storage.outage import wait_until_reachable
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store

log = logging.getLogger("overture.worker")

POISON_REASON = "crashed_worker_repeatedly"


def quarantine(job: Job, lost: int, now: datetime, actor: str) -> Quarantine:
    """Why a job taken from dead workers ``lost`` times without progress is not run again."""
    why = f"{POISON_REASON}: taken over from a dead worker {lost} times without a committed step"
    audits = [
        audit_row(
            now,
            "job_quarantined",
            POISON_REASON,
            org_id=job.org_id,
            job_id=job.id,
            actor=actor,
            step_index=job.current_step,
            lost_claims=lost,
            claims=job.claims,
        ),
        audit_row(now, "job_failed", POISON_REASON, org_id=job.org_id, job_id=job.id, actor=actor),
    ]
    notice = {
        "id": new_id(),
        "org_id": job.org_id,
        "user_id": job.user_id,
        "channel": "inbox",
        "kind": "job_failed",
        "dedupe_key": f"job_quarantined:{job.id}:{job.claims}",
        "status": "pending",
        "body": {
            "text": f"{job.event_type} was stopped: it crashed its worker {lost} times at step "
            f"{job.current_step}",
            "error": POISON_REASON,
            "retry": f"overture jobs retry {job.id}",
        },
        "job_id": job.id,
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }
    return Quarantine(why, audits, [notice])


@dataclass
class OutageGuard:
    """Rides out database outages for one worker's lanes; remembers the leases to hand back."""

    store: Store
    clock: Clock
    name: str
    stopping: threading.Event
    let_go: Callable[[], None]
    since: float | None = None  # monotonic start of the outage under way, for health checks
    _abandoned: list[tuple[str, str, str]] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _waiting: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def abandoned(self, job: Job, token: str | None) -> None:
        """A commit of ``job`` failed for the database: hand it back once it answers."""
        if token:
            with self._lock:
                self._abandoned.append((job.id, token, job.org_id))

    def ride_out(self, error: BaseException) -> bool:
        """Wait for the database (one lane at a time), then hand back abandoned jobs; False
        when the worker was stopped first."""
        with self._waiting:
            if self.since is None:
                self.since = time.monotonic()
                log.warning(
                    "worker %s: the database is unreachable (%s); reconnecting with backoff",
                    self.name,
                    type(error).__name__,
                )
            self.let_go()
            if not wait_until_reachable(self.store.engine, self.stopping, f"worker {self.name}"):
                return False
            self.hand_back_abandoned()
            if self.since is not None:
                log.info(
                    "worker %s: back after %.1fs without the database",
                    self.name,
                    time.monotonic() - self.since,
                )
            self.since = None
            return True

    def hand_back_abandoned(self) -> None:
        """Release every lease left by a failed commit, unless another worker took the job."""
        with self._lock:
            abandoned, self._abandoned = self._abandoned, []
        for i, (job_id, token, org_id) in enumerate(abandoned):
            now = self.clock.now()
            try:
                with self.store.write() as conn:
                    jobq.release_job(conn, job_id, token, now, "the database was unreachable")
                    row = audit_row(
                        now,
                        "job_released",
                        "database_unreachable",
                        org_id=org_id,
                        job_id=job_id,
                        actor=self.name,
                    )
                    jobq.insert_audit(conn, [row])
                    self.store.notify_work(conn)
            except LeaseLost:
                continue  # another worker has it (its lease ran out meanwhile)
            except Exception:
                with self._lock:
                    self._abandoned.extend(abandoned[i:])
                raise
