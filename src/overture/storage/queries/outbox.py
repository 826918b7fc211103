"""Named operations on the outbox: fenced, renewable claims of effects, and their outcomes.

A dispatcher claims a few rows under a token of its own and renews the claim while it works;
every later write about a row (started, finished, released) is conditional on that token, so a
dispatcher whose claim ran out (it stalled, or lost the database) changes nothing another has
taken over since. ``started_at`` is written before a handler acts and cleared with the outcome:
a row reclaimed with it still set was being carried out by a worker that died (in doubt).

A job whose effect ended ``failed`` or ``in_doubt`` carries the count in its execution metadata
(``effect_failures``), so it never reads as a plain success.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.core.records import EFFECT_FAILURES
from overture.storage.tables.orchestrator import outbox, sequence_jobs

#: Outbox statuses that are final and need a person: retried only on request.
FAILED = ("failed", "in_doubt")


def claim(
    conn: sa.Connection, token: str, now: datetime, until: datetime, limit: int
) -> list[dict[str, Any]]:
    """Take up to ``limit`` effects under ``token``: pending ones whose retry time has come, or
    ones whose claim ran out. Rows keep ``started_at``: set, the last attempt is in doubt."""
    due = sa.or_(
        sa.and_(
            outbox.c.status == "pending",
            sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now),
        ),
        sa.and_(outbox.c.status == "sending", outbox.c.claimed_until < now),
    )
    pick = (
        sa.select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit).with_for_update(skip_locked=True)
    )
    ids = [r.id for r in conn.execute(pick)]
    if not ids:
        return []
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.id.in_(ids))
        .values(status="sending", claim_token=token, claimed_until=until)
    )
    q = sa.select(outbox).where(outbox.c.id.in_(ids)).order_by(outbox.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def _held(row_id: int, token: str) -> sa.ColumnElement[bool]:
    return sa.and_(outbox.c.id == row_id, outbox.c.claim_token == token, outbox.c.status == "sending")


def start(conn: sa.Connection, row_id: int, token: str, now: datetime, until: datetime) -> bool:
    """Record that an attempt begins (and renew the claim); False when the claim is lost."""
    stmt = (
        sa.update(outbox)
        .where(_held(row_id, token))
        .values(started_at=now, attempts=outbox.c.attempts + 1, claimed_until=until)
    )
    return conn.execute(stmt).rowcount == 1


def renew(conn: sa.Connection, token: str, until: datetime) -> int:
    """Push the claim's end out for every row still held under ``token``."""
    stmt = (
        sa.update(outbox)
        .where(outbox.c.claim_token == token, outbox.c.status == "sending")
        .values(claimed_until=until)
    )
    return int(conn.execute(stmt).rowcount)


def finish(
    conn: sa.Connection,
    row_id: int,
    token: str,
    status: str,
    now: datetime,
    error: str | None,
    retry_at: datetime | None = None,
) -> bool:
    """Record an attempt's outcome, only while the claim is still held; ``retry_at`` is when a
    row put back to ``pending`` may be tried again."""
    stmt = (
        sa.update(outbox)
        .where(_held(row_id, token))
        .values(
            status=status,
            last_error=error,
            claim_token=None,
            started_at=None,
            claimed_until=retry_at,
            sent_at=now if status == "sent" else None,
        )
    )
    return conn.execute(stmt).rowcount == 1


def release(conn: sa.Connection, token: str) -> int:
    """Give back the rows of a claim not yet started (a stopping worker)."""
    stmt = (
        sa.update(outbox)
        .where(outbox.c.claim_token == token, outbox.c.status == "sending", outbox.c.started_at.is_(None))
        .values(status="pending", claim_token=None, claimed_until=None)
    )
    return int(conn.execute(stmt).rowcount)


def next_due(conn: sa.Connection) -> datetime | None:
    """When the next effect may be claimed: a pending one's retry time, or a held claim's end."""
    pending = sa.select(sa.func.min(sa.func.coalesce(outbox.c.claimed_until, outbox.c.created_at))).where(
        outbox.c.status == "pending"
    )
    held = sa.select(sa.func.min(outbox.c.claimed_until)).where(outbox.c.status == "sending")
    times = [t for t in (conn.execute(pending).scalar(), conn.execute(held).scalar()) if t is not None]
    return min(times) if times else None


def get(conn: sa.Connection, row_id: int, org_id: str | None = None) -> dict[str, Any] | None:
    q = sa.select(outbox).where(outbox.c.id == row_id)
    if org_id is not None:
        q = q.where(outbox.c.org_id == org_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def failed_of(conn: sa.Connection, job_id: str) -> list[dict[str, Any]]:
    """The job's effects that failed for good or are in doubt."""
    q = sa.select(outbox).where(outbox.c.job_id == job_id, outbox.c.status.in_(FAILED)).order_by(outbox.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def retry(conn: sa.Connection, row_ids: list[int]) -> int:
    """Queue failed or in-doubt effects again, with a fresh count of attempts."""
    if not row_ids:
        return 0
    stmt = (
        sa.update(outbox)
        .where(outbox.c.id.in_(row_ids), outbox.c.status.in_(FAILED))
        .values(status="pending", attempts=0, claim_token=None, claimed_until=None, started_at=None)
    )
    return int(conn.execute(stmt).rowcount)


def lock_job(conn: sa.Connection, job_id: str) -> None:
    """Hold the job's row until the transaction ends (PostgreSQL), before its effects change:
    a runner releasing the job meanwhile then sees the effect's outcome when it counts them."""
    if conn.dialect.name != "sqlite":
        conn.execute(sa.select(sequence_jobs.c.id).where(sequence_jobs.c.id == job_id).with_for_update())


def flag_job(conn: sa.Connection, job_id: str) -> int:
    """Write the job's count of failed or in-doubt effects into its execution metadata (the key
    goes away at 0); returns the count."""
    count_q = sa.select(sa.func.count()).where(outbox.c.job_id == job_id, outbox.c.status.in_(FAILED))
    count = int(conn.execute(count_q).scalar() or 0)
    meta_q = sa.select(sequence_jobs.c.execution_metadata).where(sequence_jobs.c.id == job_id)
    row = conn.execute(meta_q).first()
    if row is None:
        return count
    meta = dict(row[0] or {})
    if meta.get(EFFECT_FAILURES, 0) == count:
        return count
    if count:
        meta[EFFECT_FAILURES] = count
    else:
        meta.pop(EFFECT_FAILURES, None)
    conn.execute(sa.update(sequence_jobs).where(sequence_jobs.c.id == job_id).values(execution_metadata=meta))
    return count
