"""Cancelling a job that has not ended: pending, deferred, waiting for approval, or running;
one, or every one of a type (and status) created since a moment.

A queued job is simply never claimed again. A running one loses its lease: the step under way
finishes, but its commit is refused by the lease fence (``storage/queries/jobs.py``), so nothing
that step did is recorded or sent and no later step runs. The job's pending actions are closed
as cancelled. Who asked and why go to the audit log, and why to the job's status reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from overture.clock import Clock
from overture.core.records import ActionStatus, Job, JobStatus
from overture.core.state import closing_values
from overture.engine.audit import audit_row, check_reason
from overture.errors import Conflict, NotFound, ValidationFailed
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store

_ATTEMPTS = 3  # a job that changes under us (a step committed) is read again, a few times


@dataclass(frozen=True)
class Cancelled:
    """A cancelled job, what it was doing, and the pending actions closed with it."""

    job: Job
    was: JobStatus
    closed_actions: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "job_id": self.job.id,
            "status": self.job.status.value,
            "was": self.was.value,
            "status_reason": self.job.status_reason,
            "closed_actions": list(self.closed_actions),
        }


def cancel_job(
    store: Store, clock: Clock, job_id: str, by: str, why: str, via: str = "cli", org_id: str | None = None
) -> Cancelled:
    """End a job not yet ended as ``cancelled``; Conflict when it already ended, NotFound when it
    is not there (or not in ``org_id``)."""
    why = check_reason(why)
    for _ in range(_ATTEMPTS):
        now = clock.now()
        with store.write() as conn:
            job = jobq.get_job(conn, job_id, org_id)
            if job is None:
                raise NotFound(f"no job {job_id!r}")
            if job.status.final:
                raise Conflict(
                    f"job {job_id} already ended ({job.status.value}); only a job not yet ended is cancelled"
                )
            reason = f"cancelled by {by} via {via}: {why}"
            values = {
                **closing_values(job, now),
                "status": JobStatus.CANCELLED.value,
                "status_reason": reason,
            }
            if not jobq.end_unfinished(conn, job, now, **values):
                continue  # it moved on meanwhile: look again
            closed = []
            audits = [
                audit_row(
                    now,
                    "job_cancelled",
                    via,
                    org_id=job.org_id,
                    job_id=job.id,
                    actor=by,
                    why=why,
                    was=job.status.value,
                    step_index=job.current_step,
                )
            ]
            for action in actionq.pending_of_job(conn, job.id):
                if actionq.record_decision(conn, action.id, ActionStatus.CANCELLED, by, via, now, None):
                    closed.append(action.id)
                    audits.append(
                        audit_row(
                            now,
                            "approval_cancelled",
                            "job_cancelled",
                            org_id=job.org_id,
                            job_id=job.id,
                            actor=by,
                            pending_action_id=action.id,
                            step=action.step_name,
                            why=why,
                        )
                    )
            jobq.insert_audit(conn, audits)
            fresh = jobq.get_job(conn, job.id)
        assert fresh is not None
        return Cancelled(fresh, job.status, tuple(closed))
    raise Conflict(f"job {job_id} kept changing while being cancelled; try again")


NOT_ENDED = (JobStatus.PENDING, JobStatus.DEFERRED, JobStatus.AWAITING_APPROVAL, JobStatus.IN_PROGRESS)


def cancel_matching(
    store: Store,
    clock: Clock,
    by: str,
    why: str,
    via: str = "cli",
    event_type: str | None = None,
    statuses: tuple[JobStatus, ...] = NOT_ENDED,
    org_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    dry_run: bool = False,
) -> list[Job]:
    """Cancel each job of ``event_type`` in ``statuses`` (oldest first, at most ``limit``), one
    transaction each; with ``dry_run`` only list them. A job that ended meanwhile is left out."""
    why = check_reason(why)
    if not statuses or any(s.final for s in statuses):
        raise ValidationFailed(
            f"status: only jobs not yet ended are cancelled ({', '.join(s.value for s in NOT_ENDED)})"
        )
    with store.read() as conn:
        found = jobq.not_ended(conn, [s.value for s in statuses], event_type, org_id, since, limit)
    if dry_run:
        return found
    done = []
    for job in found:
        try:
            done.append(cancel_job(store, clock, job.id, by, why, via, org_id).job)
        except (Conflict, NotFound):
            continue  # it ended (or went) meanwhile
    return done
