"""Running ended jobs again: one failed, halted or expired job from the step it stopped on (or
a failed or halted one from an earlier step by name), or every such job of a type that ended
since a moment.

The recorded steps before the restart point and their outputs are kept; the runner reads only
those (``runner.py``). Effects keep their idempotency keys, so an effect already carried out by
a re-run step is not repeated (``overture effects retry`` is the explicit way to repeat one).
An expired job is asked again: its approval is pending once more, with a fresh expiry and a new
message to its owner. Each retry is audited with who asked, how, and from which step.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from overture.clock import Clock
from overture.core import policies
from overture.core.records import Job, JobStatus
from overture.core.state import JobState
from overture.engine.audit import audit_row
from overture.engine.registry import Registry
from overture.errors import Conflict, NotFound, ValidationFailed
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store

RETRYABLE = (JobStatus.FAILED, JobStatus.HALTED, JobStatus.EXPIRED)


def restart_index(registry: Registry, job: Job, from_step: str | None) -> int:
    """The step a retry starts at: where the job stopped, or ``from_step`` if it comes no later."""
    if from_step is None:
        return job.current_step
    sequence = registry.sequences.get(job.event_type)
    if sequence is None:
        raise Conflict(f"no sequence is defined for event type {job.event_type!r} any more")
    names = [s.name for s in sequence.steps]
    if from_step not in names:
        raise ValidationFailed(
            f"from_step: {job.event_type} has no step {from_step!r}; its steps: {', '.join(names)}"
        )
    index = names.index(from_step)
    if index > job.current_step:
        stopped = names[job.current_step] if job.current_step < len(names) else "its end"
        raise ValidationFailed(
            f"from_step: {from_step!r} comes after the step the job stopped on ({stopped}); "
            "a retry may only go back"
        )
    return index


def retry(
    store: Store,
    clock: Clock,
    registry: Registry,
    job_id: str,
    by: str,
    via: str = "cli",
    from_step: str | None = None,
    org_id: str | None = None,
) -> Job:
    """Queue a failed or halted job again at its step, or from ``from_step``."""
    now = clock.now()
    with store.write() as conn:
        job = jobq.get_job(conn, job_id, org_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        _requeue(conn, registry, job, by, via, from_step, now)
        store.notify_work(conn)
        fresh = jobq.get_job(conn, job_id)
    assert fresh is not None
    return fresh


def retry_ended_since(
    store: Store,
    clock: Clock,
    registry: Registry,
    since: datetime,
    by: str,
    via: str = "cli",
    event_type: str | None = None,
    status: JobStatus = JobStatus.FAILED,
    org_id: str | None = None,
    limit: int = 100,
    dry_run: bool = False,
) -> list[Job]:
    """Every job of ``event_type`` that ended ``status`` since ``since`` (oldest first, at most
    ``limit``), queued again at its step; with ``dry_run`` only listed."""
    if status not in RETRYABLE:
        raise ValidationFailed(f"status: only {' or '.join(s.value for s in RETRYABLE)} jobs are retried")
    if event_type is not None and event_type not in registry.sequences:
        known = ", ".join(sorted(registry.sequences)) or "none"
        raise ValidationFailed(f"event_type: unknown event type {event_type!r} (known: {known})")
    now = clock.now()
    with store.write() as conn:
        found = jobq.ended_since(conn, [status.value], since, event_type, org_id, limit)
        if dry_run:
            return found
        done = [j for j in found if _requeue(conn, registry, j, by, via, None, now, quiet=True)]
        if done:
            store.notify_work(conn)
        return [fresh for j in done if (fresh := jobq.get_job(conn, j.id)) is not None]


def _requeue(
    conn: sa.Connection,
    registry: Registry,
    job: Job,
    by: str,
    via: str,
    from_step: str | None,
    now: datetime,
    quiet: bool = False,
) -> bool:
    """Queue ``job`` again in the caller's transaction; Conflict (False when ``quiet``) when it is
    not retryable or moved on meanwhile."""
    if job.status not in RETRYABLE:
        if quiet:
            return False
        raise Conflict(
            f"job {job.id} is {job.status.value}; only failed jobs are retried, and halted or expired ones"
        )
    if job.status == JobStatus.EXPIRED:
        if from_step is not None:
            raise ValidationFailed(
                "from_step: an expired job is asked again at its approval; leave from_step out"
            )
        return _ask_again(conn, job, by, via, now, quiet)
    index = restart_index(registry, job, from_step)
    state = JobState.from_context(job.context)
    state.attempts = {k: v for k, v in state.attempts.items() if int(k) < index}
    named = f" from {from_step}" if from_step else ""
    if not jobq.requeue(
        conn,
        job,
        now,
        current_step=index,
        context=state.to_context(job.context.get("execution_metadata")),
        status_reason=f"retried{named} by {by} via {via}",
    ):
        if quiet:
            return False
        raise Conflict(f"job {job.id} changed meanwhile; look at it again")
    row = audit_row(
        now,
        "job_retried",
        via,
        org_id=job.org_id,
        job_id=job.id,
        actor=by,
        step_index=index,
        from_step=from_step,
        was=job.status_reason or job.status.value,
    )
    jobq.insert_audit(conn, [row])
    return True


def _ask_again(conn: sa.Connection, job: Job, by: str, via: str, now: datetime, quiet: bool) -> bool:
    """An expired job waits again at its gate: the action pending for as long as it first had."""
    action = actionq.expired_of_job(conn, job.id)
    if action is None or not actionq.reopen_expired(
        conn, action.id, now + (action.expires_at - action.created_at)
    ):
        if quiet:
            return False
        raise Conflict(f"job {job.id} has no expired approval to ask again")
    jobq.update_job(
        conn,
        job.id,
        None,
        now,
        status=JobStatus.AWAITING_APPROVAL.value,
        finished_at=None,
        status_reason=f"waiting for a decision on {action.step_name} (asked again by {by} via {via})",
    )
    notice = policies.approval_notice(action, now)
    jobq.insert_notifications(
        conn, [{**notice, "dedupe_key": f"{notice['dedupe_key']}:again:{notice['id']}"}]
    )
    row = audit_row(
        now,
        "approval_reopened",
        via,
        org_id=job.org_id,
        job_id=job.id,
        actor=by,
        pending_action_id=action.id,
        step=action.step_name,
    )
    jobq.insert_audit(conn, [row])
    return True
