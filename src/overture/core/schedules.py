"""Schedules as pure functions of the clock: which cron slots fall due, and which were missed.

A schedule fires an event per user (in each user's own time zone) or per org. Every slot has
a key (schedule, target, instant), so however many schedulers run, a slot fires once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from overture.durations import parse_duration

MAX_BACKFILL = timedelta(days=7)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Per(StrEnum):
    """Who a schedule fires for."""

    USER = "user"
    ORG = "org"


@dataclass(frozen=True)
class ScheduleSpec:
    """One declared schedule: an event type fired on a cron rhythm."""

    name: str
    event_type: str
    cron: str
    per: Per = Per.USER
    timezone: str = "user"
    workdays_only: bool = False
    grace: timedelta = timedelta(minutes=30)
    source: str = "cron:schedule"
    payload: dict[str, Any] = field(default_factory=dict)

    def zone_for(self, user_timezone: str | None) -> ZoneInfo:
        """The zone the cron is read in: the user's own, or the declared one."""
        return ZoneInfo(user_timezone or "UTC") if self.timezone == "user" else ZoneInfo(self.timezone)


def parse_schedule(data: Any, where: str) -> ScheduleSpec:
    """Validate one schedule mapping; errors name ``where`` and the field."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {"name", "event_type", "cron", "per", "timezone", "workdays_only", "grace", "source", "payload"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("name", "event_type", "cron"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValueError(f"{where}.{key}: required text")
    if not _NAME.match(data["name"]) or not _NAME.match(data["event_type"]):
        raise ValueError(f"{where}: name and event_type must be lower_snake_case")
    if not croniter.is_valid(data["cron"]):
        raise ValueError(f"{where}.cron: {data['cron']!r} is not a valid cron expression")
    try:
        per = Per(data.get("per", "user"))
    except ValueError:
        raise ValueError(f"{where}.per: must be user or org") from None
    tz = data.get("timezone", "user")
    if tz != "user":
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{where}.timezone: unknown time zone {tz!r}") from None
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        raise ValueError(f"{where}.payload: expected a mapping")
    return ScheduleSpec(
        name=data["name"],
        event_type=data["event_type"],
        cron=data["cron"],
        per=per,
        timezone=tz,
        workdays_only=bool(data.get("workdays_only", False)),
        grace=parse_duration(data.get("grace", "30m")),
        source=str(data.get("source", f"cron:{data['name']}")),
        payload=payload,
    )


def slots_between(spec: ScheduleSpec, zone: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
    """Cron instants in (after, until], read as local wall-clock times in ``zone``."""
    after = max(after, until - MAX_BACKFILL)
    it = croniter(spec.cron, after.astimezone(zone))
    slots: list[datetime] = []
    while True:
        nxt: datetime = it.get_next(datetime)
        if nxt > until:
            return slots
        slots.append(nxt)


def next_slot(spec: ScheduleSpec, zone: ZoneInfo, after: datetime) -> datetime:
    """The first cron instant after ``after``."""
    nxt: datetime = croniter(spec.cron, after.astimezone(zone)).get_next(datetime)
    return nxt


class SlotFate(StrEnum):
    FIRE = "fired"
    MISSED = "missed"
    NOT_A_WORKDAY = "not_a_workday"


def fate(spec: ScheduleSpec, slot: datetime, now: datetime, workdays: frozenset[int] | None) -> SlotFate:
    """Fire a due slot while inside its grace window; a slot past grace is recorded as missed."""
    if spec.workdays_only and workdays is not None and slot.weekday() not in workdays:
        return SlotFate.NOT_A_WORKDAY
    return SlotFate.FIRE if now - slot <= spec.grace else SlotFate.MISSED
