"""Named operations on ``meeting_bots``: the MeetingBaaS recording bot of each calendar event.

One row per calendar event, made before the first call to MeetingBaaS and changed only by the
handler that holds its claim, so two effect handlers never act on one event's bot at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.ids import new_id
from overture.storage.queries.jobs import insert_ignore
from overture.storage.tables.integrations import meeting_bots

#: Statuses in which MeetingBaaS has (or may have, mid-creation) a bot for the event.
LIVE = ("scheduled", "creating")


@dataclass(frozen=True)
class MeetingBot:
    """A calendar event's bot, as last decided."""

    id: str
    org_id: str
    user_id: str
    calendar_event_id: str
    bot_id: str | None
    status: str
    meeting_url: str | None
    join_at: datetime | None
    reason: str
    detail: str
    version_at: datetime | None
    request_key: str | None
    claimed_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def live(self) -> bool:
        return self.status in LIVE


def get_bot(conn: sa.Connection, calendar_event_id: str) -> MeetingBot | None:
    q = sa.select(meeting_bots).where(meeting_bots.c.calendar_event_id == calendar_event_id)
    row = conn.execute(q).mappings().first()
    return MeetingBot(**row) if row else None


def has_live_bot(conn: sa.Connection, calendar_event_id: str) -> bool:
    """Whether a bot is scheduled (or being created) for the calendar event."""
    bot = get_bot(conn, calendar_event_id)
    return bot is not None and bot.live


def ensure_bot(conn: sa.Connection, org_id: str, user_id: str, calendar_event_id: str, now: datetime) -> None:
    """Make the event's row (no bot yet) unless it exists."""
    row = {
        "id": new_id(),
        "org_id": org_id,
        "user_id": user_id,
        "calendar_event_id": calendar_event_id,
        "bot_id": None,
        "status": "none",
        "meeting_url": None,
        "join_at": None,
        "reason": "new",
        "detail": "",
        "version_at": None,
        "request_key": None,
        "claimed_until": None,
        "created_at": now,
        "updated_at": now,
    }
    insert_ignore(conn, meeting_bots, [row], "calendar_event_id")


def claim_bot(conn: sa.Connection, calendar_event_id: str, now: datetime, until: datetime) -> bool:
    """Take the event's row until ``until`` unless another handler holds it; True if taken."""
    c = meeting_bots.c
    taken = conn.execute(
        sa.update(meeting_bots)
        .where(
            c.calendar_event_id == calendar_event_id,
            sa.or_(c.claimed_until.is_(None), c.claimed_until < now),
        )
        .values(claimed_until=until)
        .returning(c.id)
    ).all()
    return bool(taken)


def update_bot(conn: sa.Connection, calendar_event_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(
        sa.update(meeting_bots).where(meeting_bots.c.calendar_event_id == calendar_event_id).values(**values)
    )


def list_bots(conn: sa.Connection, org_id: str | None = None, limit: int = 100) -> list[MeetingBot]:
    """Bots, the most recently changed first."""
    q = sa.select(meeting_bots).order_by(meeting_bots.c.updated_at.desc(), meeting_bots.c.id).limit(limit)
    if org_id is not None:
        q = q.where(meeting_bots.c.org_id == org_id)
    return [MeetingBot(**r) for r in conn.execute(q).mappings()]
