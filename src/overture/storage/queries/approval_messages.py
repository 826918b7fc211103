"""Named operations on the messages around a pending action: its request, reminder and outcome.

Each is a notification whose unique ``dedupe_key`` names the action, so "at most once" is the
database's to enforce: a reminder or an outcome queued twice is one row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.core.records import ActionStatus, PendingAction
from overture.storage.queries.approvals import _action
from overture.storage.tables.orchestrator import notifications, pending_actions

REQUEST = "approval_request:"
REMINDER = "approval_reminder:"
OUTCOME = "approval_outcome:"
_DECIDED = tuple(s.value for s in ActionStatus if s != ActionStatus.PENDING)


def _keyed(prefix: str) -> sa.ColumnElement[str]:
    return sa.literal(prefix, sa.String()) + pending_actions.c.id


def _epoch(conn: sa.Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[float]:
    """Seconds since 1970 of a stored moment (SQLite keeps UTC text, PostgreSQL timestamptz)."""
    if conn.dialect.name == "sqlite":
        return (sa.func.julianday(column) - 2440587.5) * 86400.0
    return sa.cast(sa.extract("epoch", column), sa.Float())


def notice(conn: sa.Connection, key: str) -> dict[str, Any] | None:
    """The notification queued under ``key`` (e.g. ``REQUEST + action_id``), if any."""
    row = conn.execute(sa.select(notifications).where(notifications.c.dedupe_key == key)).mappings().first()
    return dict(row) if row else None


def due_for_reminder(conn: sa.Connection, now: datetime, fraction: float, limit: int) -> list[PendingAction]:
    """Pending actions past ``fraction`` of their life, not expired, never reminded."""
    reminded = notifications.alias("reminded")
    created, expires = _epoch(conn, pending_actions.c.created_at), _epoch(conn, pending_actions.c.expires_at)
    q = (
        sa.select(pending_actions)
        .outerjoin(reminded, reminded.c.dedupe_key == _keyed(REMINDER))
        .where(
            pending_actions.c.status == ActionStatus.PENDING.value,
            pending_actions.c.expires_at > now,
            reminded.c.id.is_(None),
            created + (expires - created) * fraction <= now.timestamp(),
        )
        .order_by(pending_actions.c.expires_at)
        .limit(limit)
    )
    return [_action(r) for r in conn.execute(q).mappings()]


def decided_without_outcome(
    conn: sa.Connection, channel: str, since: datetime, limit: int
) -> list[PendingAction]:
    """Actions decided (or expired) whose request went out on ``channel`` and whose outcome has
    not been queued yet. ``since`` bounds the scan by expiry, so it stays on the index."""
    request = notifications.alias("request")
    outcome = notifications.alias("outcome")
    q = (
        sa.select(pending_actions)
        .join(request, request.c.dedupe_key == _keyed(REQUEST))
        .outerjoin(outcome, outcome.c.dedupe_key == _keyed(OUTCOME))
        .where(
            pending_actions.c.status.in_(_DECIDED),
            pending_actions.c.expires_at >= since,
            request.c.channel == channel,
            request.c.status == "sent",
            outcome.c.id.is_(None),
        )
        .order_by(pending_actions.c.expires_at)
        .limit(limit)
    )
    return [_action(r) for r in conn.execute(q).mappings()]
