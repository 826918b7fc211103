"""Calendar sources: ``.ics`` files and feeds (recurring events expanded), or any callable.

A source answers one question, "the events between two local dates", so the CRM's calendar
table, a Google or Microsoft client, or a test fake can stand in for the ``.ics`` reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol

import httpx
import icalendar
import recurring_ical_events

from overture.errors import SourceUnavailable

_TAG = r"(?:1\s*[:-]\s*1|1-on-1|one[- ]on[- ]one|1on1)"
_ONE_ON_ONE = re.compile(rf"\b{_TAG}\b", re.IGNORECASE)
_NAME_IN_TITLE = (
    re.compile(rf"{_TAG}\s*(?:with|w/|:|-|\u2013|\u2014)\s*(?P<name>.+)", re.I),
    re.compile(rf"^(?P<name>.+?)\s*(?:/|<>|&|and|x)\s*(?:me|I)\s*{_TAG}", re.I),
    re.compile(rf"^(?P<name>.+?)\s*[-\u2013\u2014:]?\s*{_TAG}\s*$", re.I),
)
FEED_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Attendee:
    name: str
    email: str = ""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One occurrence, in the user's zone. ``end`` is None for an event without one."""

    title: str
    start: datetime
    end: datetime | None = None
    all_day: bool = False
    attendees: tuple[Attendee, ...] = ()
    organizer: Attendee | None = None
    location: str = ""

    @property
    def is_one_on_one(self) -> bool:
        """A 1:1 by its title ("1:1 with Sarah", "Sarah / me 1:1", "One-on-one: Sam"), or a
        meeting of its organizer and one other person ("Esther <> Robin")."""
        if _ONE_ON_ONE.search(self.title):
            return True
        return self.organizer is not None and len(self.attendees) <= 2 and len(self.others()) == 1

    def others(self) -> list[Attendee]:
        """The attendees other than the organizer."""
        me = {self.organizer.email.lower(), self.organizer.name.lower()} - {""} if self.organizer else set()
        return [a for a in self.attendees if not me & {a.email.lower(), a.name.lower()}]

    def counterparts(self) -> list[str]:
        """Who the 1:1 is with: the name in the title, else attendees other than the organizer."""
        for pattern in _NAME_IN_TITLE:
            match = pattern.search(self.title.strip())
            if match and match.group("name").strip():
                return [match.group("name").strip(" .")]
        return [a.name or a.email for a in self.others()]

    def when(self) -> str:
        """``09:00-10:00``, ``09:00``, or ``All day``."""
        if self.all_day:
            return "All day"
        start = self.start.strftime("%H:%M")
        return f"{start}-{self.end.strftime('%H:%M')}" if self.end else start

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "date": self.start.date().isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "when": self.when(),
            "all_day": self.all_day,
            "one_on_one": self.is_one_on_one,
            "with": self.counterparts() if self.is_one_on_one else [],
            "attendees": [a.name or a.email for a in self.attendees],
        }


class CalendarSource(Protocol):
    """Events that overlap the local dates ``start``..``end`` (inclusive), sorted by start."""

    def events(self, start: date, end: date, tz: tzinfo) -> list[CalendarEvent]: ...


class IcsCalendar:
    """Reads ``.ics`` files, folders of them, and http(s)/webcal feeds; expands recurrences."""

    def __init__(self, sources: Sequence[str | Path], fetch: Callable[[str], bytes] | None = None) -> None:
        self.sources = [str(s) for s in sources]
        self._fetch = fetch or _fetch_feed

    def events(self, start: date, end: date, tz: tzinfo) -> list[CalendarEvent]:
        if not self.sources:
            raise SourceUnavailable("no calendar sources are configured")
        lo = datetime.combine(start, time.min, tz)
        hi = datetime.combine(end + timedelta(days=1), time.min, tz)
        found: list[CalendarEvent] = []
        for raw in self._calendars():
            try:
                cal = icalendar.Calendar.from_ical(raw)
                occurrences = recurring_ical_events.of(cal).between(lo, hi)
            except Exception as exc:
                raise SourceUnavailable(f"calendar data is invalid: {exc}") from None
            found.extend(to_event(component, tz) for component in occurrences)
        return sorted(found, key=lambda e: (e.start, e.title))

    def _calendars(self) -> Iterable[bytes]:
        for source in self.sources:
            if source.startswith(("http://", "https://", "webcal://")):
                yield self._fetch(source.replace("webcal://", "https://", 1))
                continue
            path = Path(source).expanduser()
            files = sorted(path.glob("*.ics")) if path.is_dir() else [path]
            for file in files:
                try:
                    yield file.read_bytes()
                except OSError as exc:
                    raise SourceUnavailable(f"cannot read {file}: {exc.strerror or exc}") from None


class CallableCalendar:
    """Adapts ``fn(start, end, tz)`` returning events or dicts (title, start, end, attendees)."""

    def __init__(
        self, fn: Callable[[date, date, tzinfo], Iterable[CalendarEvent | Mapping[str, Any]]]
    ) -> None:
        self.fn = fn

    def events(self, start: date, end: date, tz: tzinfo) -> list[CalendarEvent]:
        out = [e if isinstance(e, CalendarEvent) else _from_mapping(e, tz) for e in self.fn(start, end, tz)]
        return sorted(out, key=lambda e: (e.start, e.title))


def _fetch_feed(url: str) -> bytes:
    try:
        response = httpx.get(url, timeout=FEED_TIMEOUT_S, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"calendar feed {url} failed: {exc}") from None
    return response.content


def _local(value: date | datetime, tz: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    return datetime.combine(value, time.min, tz)


def _person(prop: Any) -> Attendee:
    email = str(prop).removeprefix("mailto:").removeprefix("MAILTO:")
    name = str(getattr(prop, "params", {}).get("CN", "")).strip()
    return Attendee(name or email, email)


def to_event(component: Any, tz: tzinfo) -> CalendarEvent:
    """One expanded VEVENT as a CalendarEvent in ``tz``."""
    start_raw = component["DTSTART"].dt
    all_day = not isinstance(start_raw, datetime)
    end_prop = component.get("DTEND")
    end = _local(end_prop.dt, tz) if end_prop is not None else None
    raw = component.get("ATTENDEE")
    attendees = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    organizer = component.get("ORGANIZER")
    return CalendarEvent(
        title=str(component.get("SUMMARY", "(untitled)")),
        start=_local(start_raw, tz),
        end=end,
        all_day=all_day,
        attendees=tuple(_person(a) for a in attendees),
        organizer=_person(organizer) if organizer is not None else None,
        location=str(component.get("LOCATION", "")),
    )


def _from_mapping(data: Mapping[str, Any], tz: tzinfo) -> CalendarEvent:
    def moment(value: Any) -> datetime:
        return _local(datetime.fromisoformat(value) if isinstance(value, str) else value, tz)

    start = moment(data["start"])
    end = data.get("end")
    return CalendarEvent(
        title=str(data.get("title", "(untitled)")),
        start=start,
        end=moment(end) if end else None,
        all_day=bool(data.get("all_day", False)),
        attendees=tuple(Attendee(str(a)) for a in data.get("attendees", ())),
        location=str(data.get("location", "")),
    )
