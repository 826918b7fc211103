"""What removing an org or a user touches besides their rows: the jobs still queued for them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from overture.core.records import Job, JobStatus
from overture.storage.queries.jobs import job_from_row
from overture.storage.tables.orchestrator import sequence_jobs

_RUNNABLE = (JobStatus.PENDING.value, JobStatus.DEFERRED.value)


def runnable_jobs(conn: sa.Connection, org_id: str, user_id: str | None, limit: int = 500) -> list[Job]:
    """An org's (or one user's) jobs waiting to run, oldest first."""
    q = sa.select(sequence_jobs).where(
        sequence_jobs.c.org_id == org_id, sequence_jobs.c.status.in_(_RUNNABLE)
    )
    if user_id is not None:
        q = q.where(sequence_jobs.c.user_id == user_id)
    q = q.order_by(sequence_jobs.c.created_at, sequence_jobs.c.id).limit(limit)
    return [job_from_row(r) for r in conn.execute(q).mappings()]


def close_if_runnable(conn: sa.Connection, job_id: str, values: dict[str, Any]) -> bool:
    """End a job that is still waiting to run; False when a worker took it meanwhile."""
    q = (
        sa.update(sequence_jobs)
        .where(sequence_jobs.c.id == job_id, sequence_jobs.c.status.in_(_RUNNABLE))
        .values(**values)
    )
    return conn.execute(q).rowcount == 1
