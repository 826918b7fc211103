"""The events an org received, each with the job it started and where that job stands now:
the place to find the job of an event, and to see at a glance which ones failed or were
cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from overture.storage.tables.orchestrator import events, sequence_jobs

#: Job statuses that need a look: the job ended without doing its work.
TROUBLE = ("failed", "cancelled", "halted", "expired")


@dataclass(frozen=True)
class Received:
    """One received event and its job's current status (None: it started no job)."""

    id: str
    type: str
    source: str
    user_id: str
    received_at: datetime
    outcome: str
    reason: str
    detail: str
    job_id: str | None
    job_status: str | None
    job_reason: str | None


def recent(
    conn: sa.Connection, org_id: str, *, trouble: bool = False, before: str | None = None, limit: int = 50
) -> list[Received]:
    """The org's events, newest first (ids sort by arrival), older than event ``before``; with
    ``trouble``, only those whose job failed, was cancelled, halted or expired."""
    e, j = events.c, sequence_jobs.c
    q = (
        sa.select(
            e.id,
            e.type,
            e.source,
            e.user_id,
            e.received_at,
            e.outcome,
            e.reason,
            e.detail,
            e.job_id,
            j.status.label("job_status"),
            j.status_reason.label("job_reason"),
        )
        .select_from(events.outerjoin(sequence_jobs, sequence_jobs.c.id == e.job_id))
        .where(e.org_id == org_id)
        .order_by(e.id.desc())
        .limit(limit)
    )
    if trouble:
        q = q.where(j.status.in_(TROUBLE))
    if before:
        q = q.where(e.id < before)
    return [Received(**r) for r in conn.execute(q).mappings()]
