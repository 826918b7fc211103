"""The CRM's calendar table as a calendar source for prose skills run as steps.

Loaded as tier-3 context (``requires_context: [crm_calendar]``) so it is read only when a step
asks for it; when the user has events there, the run uses them instead of the vault's .ics files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from overture.engine.registry import ProviderRequest
from overture.storage.tables.crm import calendar_events

WINDOW_BEFORE = timedelta(days=7)
WINDOW_AFTER = timedelta(days=42)


def load_crm_calendar(request: ProviderRequest) -> list[dict[str, Any]]:
    """The user's calendar events from a week ago to six weeks ahead, as plain dicts."""
    now = request.now or datetime.now().astimezone()
    q = (
        sa.select(calendar_events)
        .where(
            calendar_events.c.org_id == request.org_id,
            calendar_events.c.user_id == request.user_id,
            calendar_events.c.status != "cancelled",
            calendar_events.c.starts_at >= now - WINDOW_BEFORE,
            calendar_events.c.starts_at < now + WINDOW_AFTER,
        )
        .order_by(calendar_events.c.starts_at)
    )
    with request.store.read() as conn:
        rows = conn.execute(q).mappings().all()
    return [
        {
            "title": r["title"],
            "start": r["starts_at"].isoformat(),
            "end": r["ends_at"].isoformat(),
            "all_day": r["all_day"],
            "location": r["location"] or "",
            "attendees": [_who(a) for a in r["attendees"] or []],
        }
        for r in rows
    ]


def _who(attendee: Any) -> str:
    if isinstance(attendee, Mapping):
        return str(attendee.get("name") or attendee.get("email") or "")
    return str(attendee)


def events_between(
    loaded: Iterable[Mapping[str, Any]],
) -> Callable[[date, date, tzinfo], list[Mapping[str, Any]]]:
    """A CallableCalendar function over events already loaded: those overlapping start..end."""
    items = list(loaded)

    def between(start: date, end: date, tz: tzinfo) -> list[Mapping[str, Any]]:
        lo = datetime.combine(start, time.min, tz)
        hi = datetime.combine(end + timedelta(days=1), time.min, tz)
        return [
            e
            for e in items
            if datetime.fromisoformat(str(e["start"])) < hi and datetime.fromisoformat(str(e["end"])) > lo
        ]

    return between
