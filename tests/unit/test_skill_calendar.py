"""Calendar sources: .ics files and feeds with recurrences expanded, callables, and 1:1 detection."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from overture.errors import SourceUnavailable
from overture.packs.planner import SAMPLE_VAULT
from overture.skills.providers.calendar import Attendee, CalendarEvent, CallableCalendar, IcsCalendar

SAMPLE_ICS = SAMPLE_VAULT / "00_Brain" / "Systemic" / "Calendars" / "work.ics"
BERLIN_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:berlin@test
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260106T140000
DTEND;TZID=Europe/Berlin:20260106T143000
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=10
EXDATE;TZID=Europe/Berlin:20260217T140000
SUMMARY:Design sync
END:VEVENT
END:VCALENDAR
"""


def test_recurring_events_in_the_sample_calendar_are_expanded_for_a_day() -> None:
    """Tuesday 17 Feb 2026: the weekday standup and the weekly 1:1 with Sarah, in local time."""
    events = IcsCalendar([SAMPLE_ICS]).events(date(2026, 2, 17), date(2026, 2, 17), ZoneInfo("Europe/London"))
    assert [(e.when(), e.title, e.is_one_on_one) for e in events] == [
        ("09:00-09:15", "Team standup", False),
        ("14:00-14:30", "1:1 with Sarah Chen", True),
    ]
    assert events[1].counterparts() == ["Sarah Chen"]


def test_a_week_expands_every_rule_including_a_fortnightly_one_and_an_all_day_event() -> None:
    """Week of 16 Feb: 5 standups, 3 1:1s (Marcus's fortnightly one on the 19th), 2 sessions, the offsite."""
    events = IcsCalendar([SAMPLE_ICS.parent]).events(date(2026, 2, 16), date(2026, 2, 22), ZoneInfo("UTC"))
    assert len(events) == 11
    assert [e.title for e in events if e.is_one_on_one] == [
        "1:1 with Sarah Chen",
        "Priya / me 1:1",
        "1:1 with Marcus Reid",
    ]
    offsite = next(e for e in events if e.all_day)
    assert (offsite.title, offsite.start.date(), offsite.when()) == (
        "Team offsite",
        date(2026, 2, 19),
        "All day",
    )
    next_week = IcsCalendar([SAMPLE_ICS]).events(date(2026, 2, 23), date(2026, 2, 27), ZoneInfo("UTC"))
    assert "1:1 with Marcus Reid" not in [e.title for e in next_week]


def test_zoned_events_are_shown_in_the_users_zone_and_exdates_are_skipped() -> None:
    """A 14:00 Berlin meeting is 08:00 in New York; the excluded 17 Feb occurrence is absent."""
    source = IcsCalendar(["https://calendar.example/feed.ics"], fetch=lambda url: BERLIN_ICS)
    new_york = ZoneInfo("America/New_York")
    assert [e.when() for e in source.events(date(2026, 2, 10), date(2026, 2, 10), new_york)] == [
        "08:00-08:30"
    ]
    assert source.events(date(2026, 2, 17), date(2026, 2, 17), new_york) == []


def test_a_webcal_feed_is_fetched_over_https() -> None:
    """webcal:// addresses are fetched as https://."""
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return BERLIN_ICS

    IcsCalendar(["webcal://calendar.example/feed.ics"], fetch=fetch).events(
        date(2026, 2, 10), date(2026, 2, 10), ZoneInfo("UTC")
    )
    assert asked == ["https://calendar.example/feed.ics"]


def test_missing_files_invalid_data_and_no_sources_are_unavailable(tmp_path: Path) -> None:
    """Each broken source raises SourceUnavailable with a reason the summary can show."""
    utc = ZoneInfo("UTC")
    with pytest.raises(SourceUnavailable, match="cannot read"):
        IcsCalendar([tmp_path / "gone.ics"]).events(date(2026, 2, 10), date(2026, 2, 10), utc)
    (tmp_path / "bad.ics").write_text("this is not a calendar")
    with pytest.raises(SourceUnavailable, match="calendar data is invalid"):
        IcsCalendar([tmp_path / "bad.ics"]).events(date(2026, 2, 10), date(2026, 2, 10), utc)
    with pytest.raises(SourceUnavailable, match="no calendar sources"):
        IcsCalendar([]).events(date(2026, 2, 10), date(2026, 2, 10), utc)


def test_a_callable_source_may_return_dicts() -> None:
    """A CRM-style callable returning dicts with ISO times becomes sorted CalendarEvents."""

    def rows(start: date, end: date, tz: tzinfo) -> list[dict[str, object]]:
        return [
            {
                "title": "Pipeline review",
                "start": "2026-02-17T15:00:00+00:00",
                "end": "2026-02-17T16:00:00+00:00",
            },
            {"title": "1:1 with Dana", "start": "2026-02-17T10:00:00+00:00", "attendees": ["Dana"]},
        ]

    events = CallableCalendar(rows).events(date(2026, 2, 17), date(2026, 2, 17), ZoneInfo("Asia/Tokyo"))
    assert [(e.when(), e.title) for e in events] == [
        ("19:00", "1:1 with Dana"),
        ("00:00-01:00", "Pipeline review"),
    ]


@pytest.mark.parametrize(
    ("title", "one_on_one", "who"),
    [
        ("1:1 with Sarah Chen", True, ["Sarah Chen"]),
        ("Priya / me 1:1", True, ["Priya"]),
        ("Sam - 1:1", True, ["Sam"]),
        ("One-on-one: Lee Park", True, ["Lee Park"]),
        ("1-on-1 w/ Kim", True, ["Kim"]),
        ("Weekly sync", False, []),
        ("Q1:1 planning", False, []),
    ],
)
def test_one_on_ones_and_who_they_are_with(title: str, one_on_one: bool, who: list[str]) -> None:
    """Common 1:1 titles are recognised and the other person's name is taken from the title."""
    event = CalendarEvent(title, datetime(2026, 2, 17, 9, tzinfo=UTC))
    assert event.is_one_on_one is one_on_one
    assert (event.counterparts() if one_on_one else []) == who


def test_a_plain_1_1_title_falls_back_to_the_attendees_other_than_the_organizer() -> None:
    """ "1:1" alone: the counterpart is every attendee who is not the organizer."""
    me = Attendee("Alex Rivera", "alex@example.com")
    event = CalendarEvent(
        "1:1",
        datetime(2026, 2, 17, 9, tzinfo=UTC),
        attendees=(me, Attendee("Jordan Blake", "jordan@example.com")),
        organizer=me,
    )
    assert event.counterparts() == ["Jordan Blake"]
