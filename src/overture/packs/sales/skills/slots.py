"""Mutual free time: slots inside everyone's working hours, in each person's own time zone, that
collide with no one's calendar. Pure: calendars, zones and the clock are arguments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.packs.sales import kit as k
from overture.packs.sales.kit import Kit
from overture.packs.sales.rules.availability import Availability, availability
from overture.packs.sales.skills.transcript import read_call

STEP = timedelta(minutes=30)
MEETING_HOURS = (time(9), time(17))


@dataclass(frozen=True)
class Person:
    """Someone who must be free: their zone, their meeting hours, their workdays (0=Monday)."""

    name: str
    zone: ZoneInfo
    start: time = MEETING_HOURS[0]
    end: time = MEETING_HOURS[1]
    workdays: frozenset[int] = frozenset(range(5))

    def works(self, start: datetime, end: datetime) -> bool:
        a, b = start.astimezone(self.zone), end.astimezone(self.zone)
        return (
            a.date() == b.date()
            and a.weekday() in self.workdays
            and self.start <= a.time()
            and b.time() <= self.end
        )


def _round_up(moment: datetime) -> datetime:
    base = moment.replace(second=0, microsecond=0)
    extra = (-base.minute) % 30
    return base + timedelta(minutes=extra) if extra or moment != base else base


def free_slots(
    people: Sequence[Person],
    busy: Iterable[tuple[datetime, datetime]],
    earliest: datetime,
    days: int,
    duration: timedelta,
    limit: int = 5,
) -> list[tuple[datetime, datetime]]:
    """Up to ``limit`` slots in order, at most two a day and two hours apart, so the choices
    spread over the coming days rather than filling the first free afternoon."""
    blocked = sorted(busy)
    picked: list[tuple[datetime, datetime]] = []
    per_day: dict[str, list[datetime]] = {}
    start, stop = _round_up(earliest), earliest + timedelta(days=days)
    while start + duration <= stop and len(picked) < limit:
        end = start + duration
        day = per_day.setdefault(start.astimezone(people[0].zone).date().isoformat(), [])
        if (
            len(day) < 2
            and not any(abs(start - other) < timedelta(hours=2) for other in day)
            and all(p.works(start, end) for p in people)
            and not any(s < end and start < e for s, e in blocked)
        ):
            day.append(start)
            picked.append((start, end))
        start += STEP
    return picked


def label(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """'Tue Nov 24, 10:00-10:30 EST' in the reader's zone."""
    a, b = start.astimezone(zone), end.astimezone(zone)
    return f"{a:%a %b} {a.day}, {a:%H:%M}-{b:%H:%M} {a.tzname()}"


def _not_before(value: Any, zone: ZoneInfo) -> datetime:
    """An ISO moment, or a date ("next week" resolved to its Monday) from the start of that day."""
    if not value:
        return datetime.min.replace(tzinfo=zone)
    text = str(value)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(0), zone)
    return datetime.fromisoformat(text)


_HOURS = {"morning": (time(9), time(12)), "afternoon": (time(12), time(17)), "evening": (time(17), time(20))}


def _window(found: Availability) -> tuple[time, time]:
    """Meeting hours narrowed to the times of day the prospect named."""
    if not found.times_of_day:
        return MEETING_HOURS
    spans = [_HOURS[t] for t in found.times_of_day if t in _HOURS]
    return (min(s for s, _ in spans), max(e for _, e in spans)) if spans else MEETING_HOURS


def _days(found: Availability) -> frozenset[int]:
    days = set(found.weekdays) if found.weekdays else set(range(5))
    return frozenset(days - set(found.not_weekdays)) or frozenset(range(5))


def register(registry: Registry, kit: Kit) -> None:
    @registry.skill("find-available-slots")
    def find_available_slots(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Times the rep, any colleagues named and the contact can all meet, in both time zones,
        on the terms the prospect stated on the call (times of day, days, weeks, time away)."""
        session = k.crm(ctx)
        me = k.rep(ctx)
        said, day = read_call(ctx, inputs.get("meeting_id"), inputs.get("sides"))
        stated = availability(said, day) if said and day else Availability()
        users = {u["id"]: u for u in session.users()}
        internal = [ctx.user_id, *[str(u) for u in inputs.get("attendees") or [] if str(u) in users]]
        people = [
            Person(
                str(users.get(u, me).get("name")), ZoneInfo(str(users.get(u, me).get("timezone") or "UTC"))
            )
            for u in internal
        ]
        contact = k.tier2(ctx, "contact") or {}
        known_zone = stated.timezone or (
            contact.get("timezone") if contact.get("timezone") != "UTC" else None
        )
        contact_zone = ZoneInfo(str(known_zone or people[0].zone.key))
        start, end = _window(stated)
        if contact:
            people.append(Person(str(contact.get("name")), contact_zone, start, end, _days(stated)))
        duration = timedelta(minutes=int(inputs.get("duration_min") or 30))
        earliest = max(ctx.now + timedelta(hours=2), _not_before(inputs.get("not_before"), people[0].zone))
        if stated.not_before:
            earliest = max(earliest, datetime.combine(stated.not_before, time(0), contact_zone))
        days = int(inputs.get("days") or 7)
        events = session.calendar(internal, earliest, earliest + timedelta(days=days))
        busy = [
            (datetime.fromisoformat(e["starts_at"]), datetime.fromisoformat(e["ends_at"])) for e in events
        ]
        busy += [
            (
                datetime.combine(a, time(0), contact_zone),
                datetime.combine(b + timedelta(days=1), time(0), contact_zone),
            )
            for a, b in stated.away
        ]
        if stated.before:
            cutoff = datetime.combine(stated.before, time(0), contact_zone)
            busy.append((cutoff, cutoff + timedelta(days=366)))
        found = free_slots(people, busy, earliest, days, duration, int(inputs.get("limit") or 5))
        return {
            "slots": [
                {
                    "start": s.isoformat(),
                    "end": e.isoformat(),
                    "rep_label": label(s, e, people[0].zone),
                    "contact_label": label(s, e, contact_zone),
                }
                for s, e in found
            ],
            "duration_min": int(duration.total_seconds() // 60),
            "contact_timezone": str(contact_zone),
            "calendars_checked": internal,
            "busy_blocks": len(busy),
            "terms": stated.describe(),
            "terms_segments": stated.segments,
            "availability": stated.as_dict(),
        }
