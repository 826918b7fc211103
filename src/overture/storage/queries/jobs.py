"""Named operations on events, jobs, steps, costs and the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from overture.core.records import Job, JobStatus, StepRecord, StepStatus
from overture.errors import LeaseLost
from overture.storage.tables.orchestrator import (
    LEASED_SQL,
    RUNNABLE_SQL,
    audit_log,
    cost_ledger,
    events,
    job_steps,
    notifications,
    outbox,
    sequence_jobs,
)

_RUNNABLE = (JobStatus.PENDING.value, JobStatus.DEFERRED.value)


def insert_ignore(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], key: str | list[str]
) -> int:
    """Insert rows, keeping the existing row when the unique ``key`` is already taken."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=[key] if isinstance(key, str) else key)
    # RETURNING says which rows went in on both backends (rowcount is -1 on psycopg here).
    stmt = stmt.returning(*table.primary_key.columns)
    return sum(len(conn.execute(stmt, row).all()) for row in rows)


# -- events ------------------------------------------------------------------------------


def get_event(conn: sa.Connection, event_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()
    return dict(row) if row else None


def list_events(conn: sa.Connection, org_id: str | None, limit: int) -> list[dict[str, Any]]:
    q = sa.select(events).order_by(events.c.id.desc()).limit(limit)
    if org_id:
        q = q.where(events.c.org_id == org_id)
    return [dict(r) for r in conn.execute(q).mappings()]


# -- jobs --------------------------------------------------------------------------------


def job_from_row(row: Mapping[Any, Any]) -> Job:
    return Job(
        id=row["id"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        event_source=row["event_source"],
        status=JobStatus(row["status"]),
        context=row["context"] or {},
        event_chain=row["event_chain"] or {},
        trigger_payload=row["trigger_payload"] or {},
        current_step=row["current_step"],
        chain_depth=row["chain_depth"],
        parent_job_id=row["parent_job_id"],
        run_after=row["run_after"],
        lease_token=row["lease_token"],
        continuations=row["continuations"],
        claims=row["claims"],
        created_at=row["created_at"],
        execution_metadata=row["execution_metadata"],
        finished_at=row["finished_at"],
        status_reason=row["status_reason"],
    )


def get_job(conn: sa.Connection, job_id: str, org_id: str | None = None) -> Job | None:
    q = sa.select(sequence_jobs).where(sequence_jobs.c.id == job_id)
    if org_id is not None:
        q = q.where(sequence_jobs.c.org_id == org_id)
    row = conn.execute(q).mappings().first()
    return job_from_row(row) if row else None


def list_jobs(
    conn: sa.Connection,
    org_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    parent_job_id: str | None = None,
    *,
    event_type: str | None = None,
    user_id: str | None = None,
    since: datetime | None = None,
    before: Job | None = None,
) -> list[Job]:
    """Jobs newest first; ``before`` pages on: only the jobs listed after that one."""
    q = sa.select(sequence_jobs).order_by(sequence_jobs.c.created_at.desc(), sequence_jobs.c.id.desc())
    if org_id is not None:
        q = q.where(sequence_jobs.c.org_id == org_id)
    if status is not None:
        q = q.where(sequence_jobs.c.status == status)
    if parent_job_id is not None:
        q = q.where(sequence_jobs.c.parent_job_id == parent_job_id)
    if event_type is not None:
        q = q.where(sequence_jobs.c.event_type == event_type)
    if user_id is not None:
        q = q.where(sequence_jobs.c.user_id == user_id)
    if since is not None:
        q = q.where(sequence_jobs.c.created_at >= since)
    if before is not None and before.created_at is not None:
        q = q.where(
            sa.tuple_(sequence_jobs.c.created_at, sequence_jobs.c.id) < (before.created_at, before.id)
        )
    return [job_from_row(r) for r in conn.execute(q.limit(limit)).mappings()]


def job_state(
    conn: sa.Connection, job_id: str, org_id: str | None = None
) -> tuple[JobStatus, datetime | None] | None:
    """Only a job's status and run_after: what a client waiting for the job reads again and again."""
    q = sa.select(sequence_jobs.c.status, sequence_jobs.c.run_after).where(sequence_jobs.c.id == job_id)
    if org_id is not None:
        q = q.where(sequence_jobs.c.org_id == org_id)
    row = conn.execute(q).first()
    return (JobStatus(row[0]), row[1]) if row is not None else None


def count_jobs_by_status(conn: sa.Connection, org_id: str | None = None) -> dict[str, int]:
    q = sa.select(sequence_jobs.c.status, sa.func.count()).group_by(sequence_jobs.c.status)
    if org_id is not None:
        q = q.where(sequence_jobs.c.org_id == org_id)
    return {r[0]: int(r[1]) for r in conn.execute(q)}


def next_run_after(conn: sa.Connection) -> datetime | None:
    """When the next queued job becomes runnable, or a held lease runs out (None: nothing queued)."""
    runnable = sa.select(sa.func.min(sequence_jobs.c.run_after)).where(
        sa.text(f"sequence_jobs.{RUNNABLE_SQL}")
    )
    leased = sa.select(sa.func.min(sequence_jobs.c.lease_expires_at)).where(
        sa.text(f"sequence_jobs.{LEASED_SQL}")
    )
    times: list[datetime] = [
        t for t in (conn.execute(runnable).scalar(), conn.execute(leased).scalar()) if t is not None
    ]
    return min(times) if times else None


_UPDATES: dict[tuple[frozenset[str], bool], sa.Update] = {}


def _update_statement(keys: frozenset[str], fenced: bool) -> sa.Update:
    """One compiled-once UPDATE per shape, so the hot path skips statement building."""
    stmt = _UPDATES.get((keys, fenced))
    if stmt is None:
        stmt = sa.update(sequence_jobs).where(sequence_jobs.c.id == sa.bindparam("w_id"))
        if fenced:
            stmt = stmt.where(sequence_jobs.c.lease_token == sa.bindparam("w_token"))
        stmt = stmt.values({k: sa.bindparam(k) for k in keys})
        _UPDATES[(keys, fenced)] = stmt
    return stmt


def update_job(conn: sa.Connection, job_id: str, token: str | None, now: datetime, **values: Any) -> None:
    """Change a job; with a lease token, only while this worker still holds the lease."""
    values["updated_at"] = now
    stmt = _update_statement(frozenset(values), token is not None)
    params = {**values, "w_id": job_id, "w_token": token}
    if conn.execute(stmt, params).rowcount != 1:
        if token is not None:
            raise LeaseLost(f"job {job_id}: lease lost to another worker")
        raise LookupError(f"job {job_id} not found")


def release_job(conn: sa.Connection, job_id: str, token: str | None, now: datetime, why: str) -> None:
    """A held job back to the queue at once, runnable now, rather than after its lease."""
    update_job(
        conn,
        job_id,
        token,
        now,
        status=JobStatus.PENDING.value,
        lease_owner=None,
        lease_token=None,
        lease_expires_at=None,
        run_after=now,
        status_reason=f"handed back: {why}",
    )


def end_unfinished(conn: sa.Connection, job: Job, now: datetime, **values: Any) -> bool:
    """End a job that is still as ``job`` saw it (same status and lease); its worker's next
    fenced commit then finds the lease gone. False when it moved on (finished, or taken) meanwhile."""
    lease = sequence_jobs.c.lease_token
    stmt = (
        sa.update(sequence_jobs)
        .where(
            sequence_jobs.c.id == job.id,
            sequence_jobs.c.status == job.status.value,
            lease.is_(None) if job.lease_token is None else lease == job.lease_token,
        )
        .values(**values, updated_at=now, lease_owner=None, lease_token=None, lease_expires_at=None)
    )
    return conn.execute(stmt).rowcount == 1


def requeue(conn: sa.Connection, job: Job, now: datetime, **values: Any) -> bool:
    """Queue an ended job again (pending, run now) if it is still as ``job`` saw it."""
    stmt = (
        sa.update(sequence_jobs)
        .where(sequence_jobs.c.id == job.id, sequence_jobs.c.status == job.status.value)
        .values(
            **values,
            status=JobStatus.PENDING.value,
            run_after=now,
            updated_at=now,
            finished_at=None,
            lost_claims=0,
            lease_owner=None,
            lease_token=None,
            lease_expires_at=None,
        )
    )
    return conn.execute(stmt).rowcount == 1


def ended_since(
    conn: sa.Connection,
    statuses: Iterable[str],
    since: datetime,
    event_type: str | None = None,
    org_id: str | None = None,
    limit: int = 100,
) -> list[Job]:
    """Jobs that ended in one of ``statuses`` at or after ``since``, oldest first."""
    ended = sa.func.coalesce(sequence_jobs.c.finished_at, sequence_jobs.c.updated_at)
    q = sa.select(sequence_jobs).where(sequence_jobs.c.status.in_(list(statuses)), ended >= since)
    if event_type is not None:
        q = q.where(sequence_jobs.c.event_type == event_type)
    if org_id is not None:
        q = q.where(sequence_jobs.c.org_id == org_id)
    return [
        job_from_row(r) for r in conn.execute(q.order_by(ended, sequence_jobs.c.id).limit(limit)).mappings()
    ]


def not_ended(
    conn: sa.Connection,
    statuses: Iterable[str],
    event_type: str | None = None,
    org_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[Job]:
    """Jobs in one of ``statuses`` (not final ones), created at or after ``since``, oldest first."""
    q = sa.select(sequence_jobs).where(sequence_jobs.c.status.in_(list(statuses)))
    if event_type is not None:
        q = q.where(sequence_jobs.c.event_type == event_type)
    if org_id is not None:
        q = q.where(sequence_jobs.c.org_id == org_id)
    if since is not None:
        q = q.where(sequence_jobs.c.created_at >= since)
    q = q.order_by(sequence_jobs.c.created_at, sequence_jobs.c.id).limit(limit)
    return [job_from_row(r) for r in conn.execute(q).mappings()]


def set_children(conn: sa.Connection, job_id: str, chain: dict[str, Any]) -> None:
    conn.execute(sa.update(sequence_jobs).where(sequence_jobs.c.id == job_id).values(event_chain=chain))


# -- steps -------------------------------------------------------------------------------


def insert_step(conn: sa.Connection, job_id: str, step: StepRecord) -> None:
    conn.execute(
        _INSERT_STEP,
        {
            "job_id": job_id,
            "step_index": step.step_index,
            "step_name": step.step_name,
            "attempt": step.attempt,
            "status": step.status.value,
            "output": step.output,
            "error": step.error,
            "cost_micros": step.cost_micros,
            "started_at": step.started_at,
            "finished_at": step.finished_at,
            "duration_ms": step.duration_ms,
        },
    )


_INSERT_STEP = sa.insert(job_steps)
_INSERT_AUDIT = sa.insert(audit_log)


def steps_of(conn: sa.Connection, job_id: str) -> list[StepRecord]:
    q = sa.select(job_steps).where(job_steps.c.job_id == job_id).order_by(job_steps.c.id)
    return [
        StepRecord(
            step_index=r["step_index"],
            step_name=r["step_name"],
            attempt=r["attempt"],
            status=StepStatus(r["status"]),
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            output=r["output"],
            error=r["error"],
            cost_micros=r["cost_micros"],
        )
        for r in conn.execute(q).mappings()
    ]


def recorded_outputs(conn: sa.Connection, job_id: str) -> dict[str, Any]:
    """Each finished step's output by step name: what a resumed job replays instead of re-running."""
    q = (
        sa.select(job_steps.c.step_name, job_steps.c.output)
        .where(
            job_steps.c.job_id == job_id,
            job_steps.c.status.in_((StepStatus.COMPLETED.value, StepStatus.FAILED.value)),
        )
        .order_by(job_steps.c.id)
    )
    return {r.step_name: r.output for r in conn.execute(q)}


# -- effects, costs, audit, notifications ------------------------------------------------


def insert_outbox(conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
    return insert_ignore(conn, outbox, rows, "idempotency_key")


def outbox_of(conn: sa.Connection, job_id: str) -> list[dict[str, Any]]:
    q = sa.select(outbox).where(outbox.c.job_id == job_id).order_by(outbox.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def insert_costs(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(cost_ledger), rows)


def cost_since(conn: sa.Connection, org_id: str, since: datetime) -> int:
    q = sa.select(sa.func.coalesce(sa.func.sum(cost_ledger.c.cost_micros), 0)).where(
        cost_ledger.c.org_id == org_id, cost_ledger.c.created_at >= since
    )
    return int(conn.execute(q).scalar() or 0)


def insert_audit(conn: sa.Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        conn.execute(_INSERT_AUDIT, rows)


def audit_of(
    conn: sa.Connection, *, job_id: str | None = None, org_id: str | None = None
) -> list[dict[str, Any]]:
    q = sa.select(audit_log).order_by(audit_log.c.id)
    if job_id is not None:
        q = q.where(audit_log.c.job_id == job_id)
    if org_id is not None:
        q = q.where(audit_log.c.org_id == org_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def insert_notifications(conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
    """Queue messages to people; a row whose dedupe key was used before is not queued again."""
    keyed = [r for r in rows if r.get("dedupe_key")]
    plain = [r for r in rows if not r.get("dedupe_key")]
    n = insert_ignore(conn, notifications, keyed, "dedupe_key") if keyed else 0
    if plain:
        conn.execute(sa.insert(notifications), plain)
    return n + len(plain)
