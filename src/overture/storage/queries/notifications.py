"""Named operations on notifications: the one queue of messages to people."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from overture.storage.tables.orchestrator import notifications

_DUE = (
    sa.select(notifications)
    .where(
        notifications.c.status == "pending",
        notifications.c.send_after <= sa.bindparam("now", type_=notifications.c.send_after.type),
    )
    .order_by(notifications.c.user_id, notifications.c.created_at, notifications.c.id)
    .limit(sa.bindparam("limit"))
)


def claim_due(conn: sa.Connection, now: datetime, lease: timedelta, limit: int = 500) -> list[dict[str, Any]]:
    """Take the due messages for this delivery round: their ``send_after`` moves past ``now`` by
    ``lease``, so another worker does not send them too; a round that dies leaves them due again."""
    rows = [
        dict(r)
        for r in conn.execute(_DUE.with_for_update(skip_locked=True), {"now": now, "limit": limit}).mappings()
    ]
    mark(conn, [r["id"] for r in rows], send_after=now + lease)
    return rows


def sent_since(conn: sa.Connection, user_id: str, since: datetime) -> list[datetime]:
    """When this person was last messaged (digests count once; their parts not at all)."""
    q = sa.select(notifications.c.sent_at).where(
        notifications.c.user_id == user_id,
        notifications.c.status == "sent",
        notifications.c.sent_at >= since,
    )
    return [r.sent_at for r in conn.execute(q)]


def mark(conn: sa.Connection, ids: list[str], **values: Any) -> None:
    if ids:
        conn.execute(sa.update(notifications).where(notifications.c.id.in_(ids)).values(**values))


def insert(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(sa.insert(notifications).values(**row))


def for_user(conn: sa.Connection, user_id: str, status: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(notifications).where(notifications.c.user_id == user_id)
    if status is not None:
        q = q.where(notifications.c.status == status)
    return [
        dict(r) for r in conn.execute(q.order_by(notifications.c.created_at, notifications.c.id)).mappings()
    ]


def hour_ago(now: datetime) -> datetime:
    return now - timedelta(hours=1)
