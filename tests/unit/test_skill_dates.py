"""Date resolution against a fixed clock: every expression, week scope, year ends, far zones."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from overture.clock import FakeClock
from overture.errors import ValidationFailed
from overture.skills.context.dates import DateExpressionError, Scope, resolve_date

# Wednesday 18 February 2026, 10:00 UTC.
NOW = FakeClock(datetime(2026, 2, 18, 10, 0, tzinfo=UTC)).now()


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("expression", "target", "relative"),
    [
        (None, "2026-02-18", "today"),
        ("", "2026-02-18", "today"),
        ("today", "2026-02-18", "today"),
        ("tomorrow", "2026-02-19", "tomorrow"),
        ("yesterday", "2026-02-17", "yesterday"),
        ("wednesday", "2026-02-18", "today"),
        ("friday", "2026-02-20", "friday"),
        ("Fri", "2026-02-20", "fri"),
        ("monday", "2026-02-23", "monday"),
        ("tuesday", "2026-02-24", "tuesday"),
        ("next monday", "2026-02-23", "next monday"),
        ("next friday", "2026-02-27", "next friday"),
        ("  Next   MONDAY ", "2026-02-23", "next monday"),
        ("this friday", "2026-02-20", "this friday"),
        ("last monday", "2026-02-16", "last monday"),
        ("last wednesday", "2026-02-11", "last wednesday"),
        ("2026-02-18", "2026-02-18", "today"),
        ("2026-02-19", "2026-02-19", "tomorrow"),
        ("2026-03-05", "2026-03-05", "in 15 days"),
        ("2026-02-01", "2026-02-01", "17 days ago"),
    ],
)
def test_day_expressions(expression: str | None, target: str, relative: str) -> None:
    """Each day expression resolves to one date with day scope, no workdays, and its relation."""
    resolved = resolve_date(expression, NOW, "UTC")
    assert (resolved.target_date, resolved.scope, resolved.relative) == (d(target), Scope.DAY, relative)
    assert resolved.workdays == ()
    assert resolved.start == resolved.end == d(target)


def test_this_week_has_monday_as_target_and_five_workdays() -> None:
    """ "this week" on a Wednesday: target Monday 16th, workdays Monday to Friday, ends Sunday."""
    resolved = resolve_date("this week", NOW, "UTC")
    assert resolved.scope is Scope.WEEK and resolved.relative == "this week"
    assert resolved.target_date == d("2026-02-16")
    assert resolved.workdays == tuple(d(f"2026-02-{n}") for n in (16, 17, 18, 19, 20))
    assert (resolved.start, resolved.end) == (d("2026-02-16"), d("2026-02-22"))
    assert resolved.label == "week of 2026-02-16"


def test_next_and_last_week_and_an_iso_week() -> None:
    """next week starts 23 Feb, last week 9 Feb; 2026-W09 is next week by another name."""
    assert resolve_date("next week", NOW, "UTC").workdays[0] == d("2026-02-23")
    assert resolve_date("next week", NOW, "UTC").workdays[-1] == d("2026-02-27")
    assert resolve_date("last week", NOW, "UTC").target_date == d("2026-02-09")
    iso = resolve_date("2026-W09", NOW, "UTC")
    assert (iso.target_date, iso.relative, iso.scope) == (d("2026-02-23"), "next week", Scope.WEEK)


def test_workdays_follow_the_users_working_week() -> None:
    """A Sunday-to-Thursday working week gives those five days of the ISO week."""
    resolved = resolve_date("this week", NOW, "UTC", workdays=frozenset({6, 0, 1, 2, 3}))
    assert resolved.workdays == tuple(d(f"2026-02-{n}") for n in (16, 17, 18, 19, 22))


def test_month_expressions() -> None:
    """next month is March 1st to 31st with month scope; this month and an ISO month too."""
    nxt = resolve_date("next month", NOW, "UTC")
    assert (nxt.target_date, nxt.scope, nxt.start, nxt.end) == (
        d("2026-03-01"),
        Scope.MONTH,
        d("2026-03-01"),
        d("2026-03-31"),
    )
    assert resolve_date("this month", NOW, "UTC").end == d("2026-02-28")
    assert resolve_date("last month", NOW, "UTC").target_date == d("2026-01-01")
    iso = resolve_date("2026-03", NOW, "UTC")
    assert (iso.target_date, iso.relative, iso.label) == (d("2026-03-01"), "next month", "2026-03")


def test_next_week_across_the_year_boundary() -> None:
    """From Wednesday 30 December 2026, next week is 4-8 January 2027."""
    now = datetime(2026, 12, 30, 12, 0, tzinfo=UTC)
    resolved = resolve_date("next week", now, "UTC")
    assert resolved.target_date == d("2027-01-04")
    assert resolved.workdays == tuple(d(f"2027-01-0{n}") for n in (4, 5, 6, 7, 8))


def test_other_expressions_across_the_year_boundary() -> None:
    """this week spans two years; next month, tomorrow and next monday roll into 2027."""
    now = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    this_week = resolve_date("this week", now, "UTC")
    assert this_week.workdays == (
        d("2026-12-28"),
        d("2026-12-29"),
        d("2026-12-30"),
        d("2026-12-31"),
        d("2027-01-01"),
    )
    assert resolve_date("next month", now, "UTC").target_date == d("2027-01-01")
    assert resolve_date("tomorrow", now, "UTC").target_date == d("2027-01-01")
    assert resolve_date("next monday", now, "UTC").target_date == d("2027-01-04")
    assert resolve_date("2027-W01", now, "UTC").target_date == d("2027-01-04")


def test_month_ends_and_leap_days() -> None:
    """tomorrow from 31 January is 1 February; from 28 February 2028 it is the 29th."""
    assert resolve_date("tomorrow", datetime(2026, 1, 31, 9, tzinfo=UTC)).target_date == d("2026-02-01")
    assert resolve_date("tomorrow", datetime(2028, 2, 28, 9, tzinfo=UTC)).target_date == d("2028-02-29")
    assert resolve_date("this month", datetime(2028, 2, 10, tzinfo=UTC)).end == d("2028-02-29")


def test_far_time_zones_disagree_about_today_at_the_same_instant() -> None:
    """At 10:30 UTC on 20 Nov 2026 it is Saturday the 21st in Kiritimati (UTC+14) and Thursday
    the 19th in Pago Pago (UTC-11): every expression resolves from the user's own today."""
    instant = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    east = "Pacific/Kiritimati"
    west = "Pacific/Pago_Pago"
    assert resolve_date("today", instant, east).target_date == d("2026-11-21")
    assert resolve_date("today", instant, west).target_date == d("2026-11-19")
    assert resolve_date("tomorrow", instant, east).target_date == d("2026-11-22")
    assert resolve_date("tomorrow", instant, west).target_date == d("2026-11-20")
    assert resolve_date("friday", instant, east).target_date == d("2026-11-27")
    assert resolve_date("friday", instant, west).target_date == d("2026-11-20")
    assert resolve_date("2026-11-20", instant, east).relative == "yesterday"
    assert resolve_date("2026-11-20", instant, west).relative == "tomorrow"
    assert resolve_date("today", instant, east).timezone == east


def test_the_last_day_of_the_year_in_one_zone_is_new_year_in_another() -> None:
    """At 11:00 UTC on 31 Dec 2026 "next week" differs by zone only through the local today."""
    instant = datetime(2026, 12, 31, 11, 0, tzinfo=UTC)
    assert resolve_date("today", instant, "Pacific/Kiritimati").target_date == d("2027-01-01")
    assert resolve_date("this month", instant, "Pacific/Kiritimati").target_date == d("2027-01-01")
    assert resolve_date("this month", instant, "Pacific/Pago_Pago").target_date == d("2026-12-01")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("someday", "not understood"),
        ("next fortnight", "not understood"),
        ("2026-02-30", "no such day"),
        ("2026-13", "no such month"),
        ("2026-W60", "no such ISO week"),
    ],
)
def test_expressions_it_cannot_resolve_are_refused(expression: str, message: str) -> None:
    """Unknown or impossible dates raise DateExpressionError saying why."""
    with pytest.raises(DateExpressionError) as caught:
        resolve_date(expression, NOW, "UTC")
    assert message in str(caught.value)


def test_an_unknown_time_zone_and_a_naive_now_are_refused() -> None:
    """A zone that is not an IANA name, and a ``now`` without a zone, are errors."""
    with pytest.raises(ValidationFailed, match="unknown time zone 'Mars/Olympus'"):
        resolve_date("today", NOW, "Mars/Olympus")
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_date("today", datetime(2026, 2, 18, 10, 0), "UTC")


def test_as_dict_is_the_seeds_shape() -> None:
    """target_date, scope, relative and workdays as plain JSON values."""
    data = resolve_date("next week", NOW, "Europe/Paris").as_dict()
    assert data == {
        "target_date": "2026-02-23",
        "scope": "week",
        "relative": "next week",
        "workdays": ["2026-02-23", "2026-02-24", "2026-02-25", "2026-02-26", "2026-02-27"],
        "start": "2026-02-23",
        "end": "2026-03-01",
        "timezone": "Europe/Paris",
    }
