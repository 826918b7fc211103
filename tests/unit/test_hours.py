"""Active hours in local wall-clock time, across midnight, weekends and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest

from overture.core.hours import ActiveHours, format_workdays, is_active, next_active_start, parse_workdays

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")
UTC_ZONE = ZoneInfo("UTC")
SECOND = timedelta(seconds=1)

OFFICE = ActiveHours.parse("08:00-18:00", "mon-fri")
NIGHTS = ActiveHours.parse("22:00-06:00", "mon-fri")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- inside and outside a day window --------------------------------------------------


def test_inside_day_window_is_active_and_starts_now() -> None:
    """10:00 on a New York Friday is inside 08:00-18:00, so the next start is that moment."""
    at = utc(2026, 11, 20, 15, 0)  # Fri 10:00 EST
    assert is_active(OFFICE, NEW_YORK, at)
    assert next_active_start(OFFICE, NEW_YORK, at) == at


def test_before_window_waits_until_local_start_same_day() -> None:
    """07:00 local waits until 08:00 local the same day."""
    at = utc(2026, 11, 20, 12, 0)  # Fri 07:00 EST
    assert not is_active(OFFICE, NEW_YORK, at)
    assert next_active_start(OFFICE, NEW_YORK, at) == utc(2026, 11, 20, 13, 0)


def test_window_start_is_inclusive_and_end_exclusive() -> None:
    """Exactly 08:00 is active and exactly 18:00 is not."""
    assert is_active(OFFICE, NEW_YORK, utc(2026, 11, 19, 13, 0))
    assert is_active(OFFICE, NEW_YORK, utc(2026, 11, 19, 23) - SECOND)
    assert not is_active(OFFICE, NEW_YORK, utc(2026, 11, 19, 23, 0))
    assert next_active_start(OFFICE, NEW_YORK, utc(2026, 11, 19, 23, 0)) == utc(2026, 11, 20, 13)


def test_result_is_utc_whatever_zone_the_input_uses() -> None:
    """An input in another zone gives the same instant back, expressed in UTC."""
    at = datetime(2026, 11, 20, 16, 0, tzinfo=BERLIN)  # 15:00 UTC, 10:00 in New York
    result = next_active_start(OFFICE, NEW_YORK, at)
    assert result == utc(2026, 11, 20, 15, 0)
    assert result.tzinfo is UTC
    later = datetime(2026, 11, 20, 3, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert next_active_start(OFFICE, NEW_YORK, later).tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    """A naive datetime has no instant, so both functions raise ValueError."""
    with pytest.raises(ValueError, match="naive"):
        is_active(OFFICE, NEW_YORK, datetime(2026, 11, 20, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        next_active_start(OFFICE, NEW_YORK, datetime(2026, 11, 20, 10, 0))


# --- weekends and windows across midnight ----------------------------------------------


def test_friday_evening_skips_weekend_to_monday() -> None:
    """After Friday 18:00 in New York the next start is Monday 08:00 EST."""
    at = utc(2026, 11, 20, 23, 30)  # Fri 18:30 EST
    assert not is_active(OFFICE, NEW_YORK, at)
    assert next_active_start(OFFICE, NEW_YORK, at) == utc(2026, 11, 23, 13, 0)
    assert next_active_start(OFFICE, NEW_YORK, utc(2026, 11, 22, 12)) == utc(2026, 11, 23, 13)


def test_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    """Friday's 22:00-06:00 window covers Saturday 03:00 but no window starts Saturday 22:00."""
    assert is_active(NIGHTS, UTC_ZONE, utc(2026, 11, 20, 22, 0))  # Fri 22:00
    assert is_active(NIGHTS, UTC_ZONE, utc(2026, 11, 21, 3, 0))  # Sat 03:00, Friday's window
    assert not is_active(NIGHTS, UTC_ZONE, utc(2026, 11, 21, 6, 0))  # Sat 06:00, window over
    assert not is_active(NIGHTS, UTC_ZONE, utc(2026, 11, 21, 22, 0))  # Sat 22:00
    assert not is_active(NIGHTS, UTC_ZONE, utc(2026, 11, 23, 3, 0))  # Mon 03:00, no Sun window
    assert is_active(NIGHTS, UTC_ZONE, utc(2026, 11, 24, 3, 0))  # Tue 03:00, Monday's window


def test_across_midnight_next_start_after_weekend() -> None:
    """From Saturday night the next overnight window starts Monday 22:00 local."""
    at = utc(2026, 11, 21, 21, 0)  # Sat 22:00 in Berlin (CET, +01:00)
    assert not is_active(NIGHTS, BERLIN, at)
    assert next_active_start(NIGHTS, BERLIN, at) == utc(2026, 11, 23, 21, 0)
    assert next_active_start(NIGHTS, BERLIN, utc(2026, 11, 21, 2, 0)) == utc(2026, 11, 21, 2, 0)


def test_all_day_window_runs_from_start_to_next_start() -> None:
    """``00:00-00:00`` on mon-fri covers all of Friday, none of the weekend."""
    hours = ActiveHours.parse("00:00-00:00", "mon-fri")
    assert hours.all_day
    assert is_active(hours, NEW_YORK, utc(2026, 11, 21, 4, 59))  # Fri 23:59 EST
    assert not is_active(hours, NEW_YORK, utc(2026, 11, 21, 5, 0))  # Sat 00:00 EST
    assert next_active_start(hours, NEW_YORK, utc(2026, 11, 21, 5)) == utc(2026, 11, 23, 5)
    always = ActiveHours(time(9), time(9))
    assert is_active(always, KIRITIMATI, utc(2026, 1, 1, 0, 0))


# --- daylight saving time ---------------------------------------------------------------


def test_berlin_spring_forward_keeps_local_eight() -> None:
    """08:00 in Berlin is 07:00 UTC before 2026-03-29 and 06:00 UTC from that Sunday."""
    hours = ActiveHours.parse("08:00-18:00")
    assert next_active_start(hours, BERLIN, utc(2026, 3, 27, 20)) == utc(2026, 3, 28, 7)
    assert next_active_start(hours, BERLIN, utc(2026, 3, 28, 19)) == utc(2026, 3, 29, 6)
    assert is_active(hours, BERLIN, utc(2026, 3, 29, 6, 0))
    assert not is_active(hours, BERLIN, utc(2026, 3, 29, 5, 59))


def test_berlin_fall_back_keeps_local_eight() -> None:
    """08:00 in Berlin is 06:00 UTC on 2026-10-24 and 07:00 UTC on 2026-10-25."""
    hours = ActiveHours.parse("08:00-18:00")
    assert next_active_start(hours, BERLIN, utc(2026, 10, 23, 20)) == utc(2026, 10, 24, 6)
    assert next_active_start(hours, BERLIN, utc(2026, 10, 24, 19)) == utc(2026, 10, 25, 7)
    assert not is_active(hours, BERLIN, utc(2026, 10, 25, 6, 30))
    assert is_active(hours, BERLIN, utc(2026, 10, 25, 16, 59))  # 17:59 CET


def test_new_york_spring_forward_keeps_local_eight() -> None:
    """08:00 in New York is 13:00 UTC on 2026-03-07 and 12:00 UTC on 2026-03-08."""
    hours = ActiveHours.parse("08:00-18:00")
    assert next_active_start(hours, NEW_YORK, utc(2026, 3, 7, 0)) == utc(2026, 3, 7, 13)
    assert next_active_start(hours, NEW_YORK, utc(2026, 3, 7, 23)) == utc(2026, 3, 8, 12)


def test_new_york_fall_back_keeps_local_eight() -> None:
    """08:00 in New York is 12:00 UTC on 2026-10-31 and 13:00 UTC on 2026-11-01."""
    hours = ActiveHours.parse("08:00-18:00")
    assert next_active_start(hours, NEW_YORK, utc(2026, 10, 31, 0)) == utc(2026, 10, 31, 12)
    assert next_active_start(hours, NEW_YORK, utc(2026, 10, 31, 23)) == utc(2026, 11, 1, 13)
    assert not is_active(hours, NEW_YORK, utc(2026, 11, 1, 12, 30))


def test_nonexistent_start_begins_when_the_gap_ends() -> None:
    """02:30 does not exist in New York on 2026-03-08, so the window opens at 03:00 EDT."""
    hours = ActiveHours.parse("02:30-04:00")
    at = utc(2026, 3, 8, 6, 0)  # 01:00 EST
    assert next_active_start(hours, NEW_YORK, at) == utc(2026, 3, 8, 7, 0)
    assert not is_active(hours, NEW_YORK, utc(2026, 3, 8, 7) - SECOND)
    assert is_active(hours, NEW_YORK, utc(2026, 3, 8, 7, 0))
    assert not is_active(hours, NEW_YORK, utc(2026, 3, 8, 8, 0))  # 04:00 EDT
    # The day before, 02:30 exists and is EST.
    assert next_active_start(hours, NEW_YORK, utc(2026, 3, 7, 0)) == utc(2026, 3, 7, 7, 30)


def test_nonexistent_start_in_berlin() -> None:
    """02:30 does not exist in Berlin on 2026-03-29, so the window opens at 03:00 CEST."""
    hours = ActiveHours.parse("02:30-05:00")
    assert next_active_start(hours, BERLIN, utc(2026, 3, 28, 23)) == utc(2026, 3, 29, 1, 0)


def test_window_inside_the_gap_is_empty_that_day() -> None:
    """A window wholly inside the skipped hour does not happen that day; the next one does."""
    hours = ActiveHours.parse("02:00-02:30")
    assert next_active_start(hours, NEW_YORK, utc(2026, 3, 8, 6)) == utc(2026, 3, 9, 6)


def test_ambiguous_start_uses_first_occurrence() -> None:
    """01:30 happens twice in New York on 2026-11-01; the window opens at the first (EDT)."""
    hours = ActiveHours.parse("01:30-03:00")
    assert next_active_start(hours, NEW_YORK, utc(2026, 11, 1, 5, 0)) == utc(2026, 11, 1, 5, 30)
    assert is_active(hours, NEW_YORK, utc(2026, 11, 1, 6, 30))  # second 01:30, EST
    assert is_active(hours, NEW_YORK, utc(2026, 11, 1, 7, 59))  # 02:59 EST
    assert not is_active(hours, NEW_YORK, utc(2026, 11, 1, 8, 0))  # 03:00 EST


# --- far time zones ---------------------------------------------------------------------


def test_tokyo_friday_night_waits_for_monday() -> None:
    """21:00 on a Tokyo Friday waits until Monday 09:00 JST, which is Monday 00:00 UTC."""
    hours = ActiveHours.parse("09:00-17:00", "mon-fri")
    at = utc(2026, 11, 20, 12, 0)
    assert not is_active(hours, TOKYO, at)
    assert next_active_start(hours, TOKYO, at) == utc(2026, 11, 23, 0, 0)


def test_kiritimati_is_already_saturday() -> None:
    """At Friday 12:00 UTC it is Saturday 02:00 in Kiritimati (+14), so wait for Monday."""
    at = utc(2026, 11, 20, 12, 0)
    assert next_active_start(OFFICE, KIRITIMATI, at) == utc(2026, 11, 22, 18, 0)


def test_pago_pago_is_still_friday_morning() -> None:
    """At Friday 12:00 UTC it is Friday 01:00 in Pago Pago (-11), so the wait is hours."""
    at = utc(2026, 11, 20, 12, 0)
    assert not is_active(OFFICE, PAGO_PAGO, at)
    assert next_active_start(OFFICE, PAGO_PAGO, at) == utc(2026, 11, 20, 19, 0)
    assert is_active(OFFICE, PAGO_PAGO, utc(2026, 11, 21, 4, 59))  # Fri 17:59 SST


# --- parsing, formatting and validation -------------------------------------------------


@pytest.mark.parametrize(
    "text", ["08:00-18:00", "22:00-06:00", "00:00-00:00", "08:30:15-17:45", "00:00-23:59:59"]
)
def test_str_round_trips_through_parse(text: str) -> None:
    """``str`` of parsed hours is the same text and parses back to an equal value."""
    hours = ActiveHours.parse(text)
    assert str(hours) == text
    assert ActiveHours.parse(str(hours)) == hours


def test_parse_reads_times_and_workdays() -> None:
    """Parse fills start, end and workdays; spaces and a 24:00 end are accepted."""
    assert ActiveHours(time(8), time(18), frozenset({0, 1, 2, 3, 4})) == OFFICE
    assert ActiveHours.parse(" 8:00 - 17:30 ").start == time(8)
    assert ActiveHours.parse("08:00-18:00").workdays == frozenset(range(7))
    late = ActiveHours.parse("08:00-24:00")
    assert late.end == time(0)
    assert str(late) == "08:00-00:00"
    assert is_active(late, UTC_ZONE, utc(2026, 11, 20, 23, 59))


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("", "''"),
        ("8-18", "'8'"),
        ("08:00", "'08:00'"),
        ("25:00-18:00", "'25:00'"),
        ("08:60-18:00", "'08:60'"),
        ("24:00-08:00", "'24:00'"),
        ("08:00-18:00-20:00", "'08:00-18:00-20:00'"),
        ("eight-six", "'eight'"),
    ],
)
def test_parse_rejects_bad_hours_naming_the_text(text: str, bad: str) -> None:
    """Malformed hours raise ValueError that quotes the offending text."""
    with pytest.raises(ValueError, match=bad):
        ActiveHours.parse(text)


@pytest.mark.parametrize("text", ["funday", "mon-", "", "mon,,fri", "mon-wed-fri"])
def test_parse_rejects_bad_workdays(text: str) -> None:
    """Malformed workdays raise ValueError naming the workdays text."""
    with pytest.raises(ValueError, match="workdays"):
        ActiveHours.parse("08:00-18:00", text)


def test_construction_validates_fields() -> None:
    """No workdays, days outside 0..6 and zone-aware or fractional times are refused."""
    with pytest.raises(ValueError, match="at least one workday"):
        ActiveHours(time(8), time(18), frozenset())
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        ActiveHours(time(8), time(18), frozenset({7}))
    with pytest.raises(ValueError, match="naive"):
        ActiveHours(time(8, tzinfo=UTC), time(18))
    with pytest.raises(ValueError, match="whole seconds"):
        ActiveHours(time(8, 0, 0, 5), time(18))


def test_parse_workdays_forms() -> None:
    """Ranges, lists, full names, any case, and ranges that wrap past Sunday."""
    assert parse_workdays("mon-fri") == frozenset({0, 1, 2, 3, 4})
    assert parse_workdays("mon,wed,fri") == frozenset({0, 2, 4})
    assert parse_workdays("mon-sun") == frozenset(range(7))
    assert parse_workdays(" Sat , SUNDAY ") == frozenset({5, 6})
    assert parse_workdays("fri-mon") == frozenset({4, 5, 6, 0})


def test_format_workdays_forms() -> None:
    """Runs of three or more days become ranges; the rest are listed."""
    assert format_workdays(frozenset({0, 1, 2, 3, 4})) == "mon-fri"
    assert format_workdays(frozenset(range(7))) == "mon-sun"
    assert format_workdays(frozenset({0, 2, 4})) == "mon,wed,fri"
    assert format_workdays(frozenset({0, 4, 5, 6})) == "mon,fri-sun"
    assert format_workdays(frozenset({5, 6})) == "sat,sun"
    with pytest.raises(ValueError, match="non-empty"):
        format_workdays(frozenset())


def test_every_workday_set_round_trips() -> None:
    """All 127 non-empty sets of days survive format then parse unchanged."""
    for size in range(1, 8):
        for days in combinations(range(7), size):
            assert parse_workdays(format_workdays(frozenset(days))) == frozenset(days)
