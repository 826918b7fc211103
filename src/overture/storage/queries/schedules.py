"""Named operations for the scheduler: claim a slot once, remember how far each schedule got."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.storage.queries.jobs import insert_ignore
from overture.storage.tables.orchestrator import schedule_fires, scheduler_state


def claim_slot(
    conn: sa.Connection, schedule: str, target: str, slot_at: datetime, status: str, by: str, now: datetime
) -> bool:
    """Record a slot's fate; False when another scheduler already recorded it."""
    row = {
        "schedule": schedule,
        "target": target,
        "slot_at": slot_at,
        "status": status,
        "event_id": None,
        "fired_by": by,
        "created_at": now,
    }
    return insert_ignore(conn, schedule_fires, [row], ["schedule", "target", "slot_at"]) == 1


def set_fire_event(conn: sa.Connection, schedule: str, target: str, slot_at: datetime, event_id: str) -> None:
    conn.execute(
        sa.update(schedule_fires)
        .where(
            schedule_fires.c.schedule == schedule,
            schedule_fires.c.target == target,
            schedule_fires.c.slot_at == slot_at,
        )
        .values(event_id=event_id)
    )


def checked_until(conn: sa.Connection, schedule: str) -> datetime | None:
    q = sa.select(scheduler_state.c.checked_until).where(scheduler_state.c.schedule == schedule)
    value: datetime | None = conn.execute(q).scalar()
    return value


def set_checked_until(conn: sa.Connection, schedule: str, at: datetime) -> None:
    done = conn.execute(
        sa.update(scheduler_state).where(scheduler_state.c.schedule == schedule).values(checked_until=at)
    ).rowcount
    if not done:
        insert_ignore(conn, scheduler_state, [{"schedule": schedule, "checked_until": at}], "schedule")


def fires(conn: sa.Connection, schedule: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(schedule_fires).order_by(schedule_fires.c.slot_at, schedule_fires.c.target)
    if schedule is not None:
        q = q.where(schedule_fires.c.schedule == schedule)
    return [dict(r) for r in conn.execute(q).mappings()]
