"""What a live page shows, reduced to a short fingerprint that changes when the page would.

The console polls these (one query each, on indexed columns) instead of being told of changes,
so it works the same with one server process or several on one PostgreSQL: whichever process
or worker changed a row, the next poll sees it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from overture.storage.tables.orchestrator import job_steps, outbox, pending_actions, sequence_jobs

GONE = "gone"


def _digest(rows: Any) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def inbox(conn: sa.Connection, org_id: str) -> str:
    """The org's pending actions: one comes in, or one is decided or expires."""
    q = (
        sa.select(pending_actions.c.id)
        .where(pending_actions.c.org_id == org_id, pending_actions.c.status == "pending")
        .order_by(pending_actions.c.id)
    )
    return _digest([r[0] for r in conn.execute(q)])


def action(conn: sa.Connection, org_id: str, action_id: str) -> str:
    """One action's status and when it was decided."""
    q = sa.select(pending_actions.c.status, pending_actions.c.decided_at).where(
        pending_actions.c.id == action_id, pending_actions.c.org_id == org_id
    )
    row = conn.execute(q).first()
    return GONE if row is None else _digest(tuple(row))


def job(conn: sa.Connection, org_id: str, job_id: str) -> str:
    """One job: its own row, its recorded steps, its follow-ups, its decided approvals and its
    effects' outcomes. Each count or maximum is on an indexed column of the job's rows."""
    jobs, steps = sequence_jobs.c, job_steps.c
    children = sequence_jobs.alias("children")
    q = sa.select(
        jobs.status,
        jobs.updated_at,
        sa.select(sa.func.count()).where(steps.job_id == job_id).scalar_subquery(),
        sa.select(sa.func.max(steps.id)).where(steps.job_id == job_id).scalar_subquery(),
        sa.select(sa.func.count()).where(children.c.parent_job_id == job_id).scalar_subquery(),
        sa.select(sa.func.max(children.c.updated_at))
        .where(children.c.parent_job_id == job_id)
        .scalar_subquery(),
        sa.select(sa.func.count())
        .where(pending_actions.c.job_id == job_id, pending_actions.c.status != "pending")
        .scalar_subquery(),
        sa.select(sa.func.count()).where(pending_actions.c.job_id == job_id).scalar_subquery(),
        sa.select(sa.func.count())
        .where(outbox.c.job_id == job_id, outbox.c.status.not_in(("pending", "sending")))
        .scalar_subquery(),
        sa.select(sa.func.sum(outbox.c.attempts)).where(outbox.c.job_id == job_id).scalar_subquery(),
    ).where(jobs.id == job_id, jobs.org_id == org_id)
    row = conn.execute(q).first()
    return GONE if row is None else _digest(tuple(row))
