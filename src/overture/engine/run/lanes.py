"""A worker's lanes and the small things a lane asks of the database outside its runs: who the
worker is, the job its last completion took, giving such a job back, and when work falls due."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overture.clock import Clock
from overture.core.records import Job, ResumeReads
from overture.engine.audit import audit_row
from overture.engine.run.runner import Runner
from overture.ids import new_id
from overture.storage.queries import jobs as jobq
from overture.storage.queries import outbox as outq
from overture.storage.store import Store


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"


@dataclass
class Lane:
    """One thread's share of a worker: its runner and the job its last completion took."""

    runner: Runner
    # The job handed to this lane, when (monotonic) its lease began, and what the committer
    # that handed it over read for its run, if anything.
    handoff: tuple[Job, float, ResumeReads | None] | None = None
    # The store's wake count when this lane's last completion found nothing more to take: no
    # claim is worth trying until a wake-up says otherwise (or the poll interval passes).
    drained: int | None = None


def still_empty(store: Store, empty_at: int | None, due_at: datetime | None, now: datetime) -> bool:
    """The queue, found empty at wake count ``empty_at``, is empty still: nothing became
    runnable since (the store hears of every job any process makes runnable) and nothing found
    queued then (``due_at``) falls due yet. A completion then takes no next job in its commit,
    which costs PostgreSQL a round trip before the commit."""
    if empty_at is None or not store.hears_all_work or store.wake_seq != empty_at:
        return False
    return due_at is None or due_at > now


def held_audit(
    job: Job, now: datetime, actor: str, action: str, reason: str, **detail: Any
) -> dict[str, Any]:
    """An audit row of a worker's about a job it holds, at the job's step."""
    return audit_row(
        now,
        action,
        reason,
        org_id=job.org_id,
        job_id=job.id,
        actor=actor,
        step_index=job.current_step,
        **detail,
    )


def reclaimed(job: Job, previous_owner: str, now: datetime, *, actor: str) -> dict[str, Any]:
    """The audit row of a claim that took a job whose worker's lease ran out."""
    return held_audit(job, now, actor, "lease_reclaimed", "lease_expired", previous_owner=previous_owner)


def give_back(store: Store, clock: Clock, job: Job, actor: str) -> None:
    """A job taken by a completion but not started goes back to the queue now, rather than
    waiting out its lease (the worker is stopping)."""
    now = clock.now()
    with store.write() as conn:
        jobq.release_job(conn, job.id, job.lease_token, now, "the worker is stopping")
        jobq.insert_audit(conn, [held_audit(job, now, actor, "job_released", "worker_stopping")])
        store.notify_work(conn)


def next_due(store: Store, with_effects: bool) -> datetime | None:
    """When a job next becomes runnable or a held lease runs out, or (``with_effects``, for the
    lane that keeps house) an effect may next be claimed."""
    with store.read() as conn:
        times = [jobq.next_run_after(conn), outq.next_due(conn) if with_effects else None]
    due = [t for t in times if t is not None]
    return min(due) if due else None
