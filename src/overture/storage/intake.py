"""What ingesting one event reads and writes, on the driver: every fact its gates need in a
single read, then its event, job and audit rows. It runs once per event on every path (API,
webhooks, schedules, follow-ups), so it skips SQLAlchemy statement building."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.storage.driver import Driver
from overture.storage.store import WAKE_CHANNEL
from overture.storage.tables.orchestrator import audit_log, events, sequence_jobs

# One row whatever exists: the seed row keeps the LEFT JOINs answering when the org, the user,
# the switch or an earlier event is missing. A removed org or user is missing.
_LOOKUP = (
    "SELECT o.id, u.id, u.timezone, u.active_hours, u.workdays, f.enabled, d.id, d.job_id "
    "FROM (SELECT 1 AS one) AS seed "
    "LEFT JOIN orgs o ON o.id = {p} AND o.removed_at IS NULL "
    "LEFT JOIN users u ON u.id = {p} AND u.org_id = o.id AND u.removed_at IS NULL "
    "LEFT JOIN feature_settings f ON f.org_id = o.id AND f.event_type = {p} "
    "LEFT JOIN (SELECT id, job_id FROM events WHERE org_id = {p} AND type = {p} AND dedupe_key = {p} "
    "AND received_at >= {p} AND outcome IN ('accepted', 'deferred') "
    "ORDER BY received_at LIMIT 1) AS d ON 1 = 1"
)


@dataclass(frozen=True)
class UserHours:
    id: str
    timezone: str
    active_hours: str | None
    workdays: str


@dataclass(frozen=True)
class Lookup:
    """What the gates ask of the database about one event."""

    org_exists: bool
    user: UserHours | None
    feature_enabled: bool
    duplicate: tuple[str, str | None] | None  # an earlier accepted/deferred event and its job


def lookup(
    drv: Driver, org_id: str, user_id: str, event_type: str, dedupe_key: str, since: datetime
) -> Lookup:
    """The org, the user in it, the org's switch for the type, and an earlier event with the key."""
    params = (org_id, user_id, event_type, org_id, event_type, dedupe_key, drv.time(since))
    row = drv.first(_LOOKUP, params)
    assert row is not None
    org, uid, tz, hours, workdays, enabled, dup_id, dup_job = row
    return Lookup(
        org_exists=org is not None,
        user=UserHours(uid, tz, hours, workdays) if uid is not None else None,
        # Event types without a switch are enabled; nothing is enabled for an unknown org.
        feature_enabled=org is not None and (enabled is None or bool(enabled)),
        duplicate=(dup_id, dup_job) if dup_id is not None else None,
    )


def record(
    drv: Driver,
    event: Mapping[str, Any],
    job: Mapping[str, Any] | None,
    audits: Iterable[Mapping[str, Any]],
    wake: bool = False,
) -> None:
    """Write the event's row, its job's (if it has one) and the audit rows, in the caller's
    transaction; with ``wake``, PostgreSQL also notifies listening workers at commit."""
    rows: list[tuple[sa.Table, Mapping[str, Any]]] = [(events, event)]
    if job is not None:
        rows.append((sequence_jobs, job))
    rows.extend((audit_log, row) for row in audits)
    if drv.sqlite:
        for table, row in rows:
            drv.insert(table, row)
        return
    # PostgreSQL: one round trip. Data-modifying WITH clauses run whether or not they are read.
    parts: list[str] = []
    params: list[Any] = []
    for i, (table, row) in enumerate(rows):
        parts.append(f"w{i} AS ({drv.insert_sql(table, tuple(row))})")
        params.extend(drv.encode(table, row))
    tail = "SELECT pg_notify(%s, '')" if wake else "SELECT 1"
    if wake:
        params.append(WAKE_CHANNEL)
    cur = drv.conn.cursor()
    try:
        cur.execute("WITH " + ", ".join(parts) + " " + tail, params)
    finally:
        cur.close()


_MADE_JOBS = ("accepted", "deferred")


def recent_jobs(conn: sa.Connection, org_id: str, since: datetime) -> int:
    """How many of an org's events received since ``since`` made a job (the ingest rate's count)."""
    q = sa.select(sa.func.count()).where(
        events.c.org_id == org_id, events.c.received_at >= since, events.c.outcome.in_(_MADE_JOBS)
    )
    return int(conn.execute(q).scalar() or 0)
