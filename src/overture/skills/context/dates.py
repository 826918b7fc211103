"""The seed's resolve-dates, as a pure function of the expression, ``now`` and a time zone.

"Today" is a local notion: the same UTC instant is Saturday in Kiritimati and Thursday in Pago
Pago, so the instant is converted to the user's zone before any date arithmetic. Weeks start
on Monday (ISO 8601), which is what "this week" and "next monday" mean in a planning vault.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from overture.errors import ValidationFailed

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MON_FRI = frozenset(range(5))
_SHORT = {name[:3]: i for i, name in enumerate(WEEKDAYS)} | {"tues": 1, "thur": 3, "thurs": 3}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.IGNORECASE)
_ISO_MONTH = re.compile(r"(\d{4})-(\d{2})")
_HELP = (
    "try today, tomorrow, yesterday, a weekday (friday, next monday), this week, next week, "
    "last week, upcoming week, this month, next month, YYYY-MM-DD, YYYY-Www or YYYY-MM"
)


class DateExpressionError(ValidationFailed):
    """The date expression is not understood."""


class Scope(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class ResolvedDate:
    """What resolve-dates returns: the target date, its scope, how it relates to today, and
    the workdays of a week scope; ``start``/``end`` bound the period (both inclusive)."""

    target_date: date
    scope: Scope
    relative: str
    workdays: tuple[date, ...]
    start: date
    end: date
    today: date
    timezone: str

    @property
    def days(self) -> tuple[date, ...]:
        """Every date in the period."""
        return tuple(self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1))

    @property
    def label(self) -> str:
        """How the period reads in headings: ``2026-02-15``, ``week of 2026-02-16``, ``2026-02``."""
        if self.scope is Scope.DAY:
            return self.target_date.isoformat()
        if self.scope is Scope.WEEK:
            return f"week of {self.start.isoformat()}"
        return self.target_date.strftime("%Y-%m")

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_date": self.target_date.isoformat(),
            "scope": self.scope.value,
            "relative": self.relative,
            "workdays": [d.isoformat() for d in self.workdays],
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": self.timezone,
        }


def zone(name: str | tzinfo) -> tzinfo:
    """A tzinfo from an IANA name (or a tzinfo as is); unknown names are a ValidationFailed."""
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)"
        ) from None


def local_today(now: datetime, tz: str | tzinfo) -> date:
    """The user's calendar date at the instant ``now`` (which must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone(tz)).date()


def resolve_date(
    expression: str | None,
    now: datetime,
    tz: str | tzinfo = "UTC",
    workdays: frozenset[int] = MON_FRI,
) -> ResolvedDate:
    """Resolve a flexible time expression; no expression means today."""
    tzi = zone(tz)
    today = local_today(now, tzi)
    text = " ".join((expression or "today").strip().lower().split())
    tz_name = str(getattr(tzi, "key", tzi))
    day = _day(text, today)
    if day is not None:
        return ResolvedDate(day, Scope.DAY, _relative(text, day, today), (), day, day, today, tz_name)
    week = _week(text, today)
    if week is not None:
        monday, relative = week
        sunday = monday + timedelta(days=6)
        days = tuple(monday + timedelta(days=i) for i in range(7) if i in workdays)
        return ResolvedDate(monday, Scope.WEEK, relative, days, monday, sunday, today, tz_name)
    month = _month(text, today)
    if month is not None:
        first, relative = month
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return ResolvedDate(first, Scope.MONTH, relative, (), first, last, today, tz_name)
    raise DateExpressionError(f"date {expression!r}: not understood; {_HELP}")


def _weekday(word: str) -> int | None:
    if word in WEEKDAYS:
        return WEEKDAYS.index(word)
    return _SHORT.get(word)


def _day(text: str, today: date) -> date | None:
    fixed = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if text in fixed:
        return today + timedelta(days=fixed[text])
    if _ISO_DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise DateExpressionError(f"date {text!r}: no such day") from None
    words = text.split()
    if len(words) == 1 and (wd := _weekday(words[0])) is not None:
        return today + timedelta(days=(wd - today.weekday()) % 7)
    if len(words) == 2 and (wd := _weekday(words[1])) is not None:
        monday = today - timedelta(days=today.weekday())
        if words[0] == "next":
            return monday + timedelta(days=7 + wd)
        if words[0] == "this":
            return monday + timedelta(days=wd)
        if words[0] == "last":
            return today - timedelta(days=(today.weekday() - wd) % 7 or 7)
    return None


def _relative(text: str, day: date, today: date) -> str:
    delta = (day - today).days
    named = {0: "today", 1: "tomorrow", -1: "yesterday"}
    if delta in named:
        return named[delta]
    if _ISO_DAY.fullmatch(text):
        return f"in {delta} days" if delta > 0 else f"{-delta} days ago"
    return text


def _week(text: str, today: date) -> tuple[date, str] | None:
    monday = today - timedelta(days=today.weekday())
    offsets = {"this week": 0, "next week": 7, "last week": -7}
    if text in offsets:
        return monday + timedelta(days=offsets[text]), text
    if text in ("upcoming week", "the upcoming week", "coming week", "the coming week"):
        start = today if today.weekday() == 0 else monday + timedelta(days=7)
        return start, "this week" if start == monday else "next week"
    match = _ISO_WEEK.fullmatch(text)
    if match:
        try:
            start = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            raise DateExpressionError(f"date {text!r}: no such ISO week") from None
        names = {0: "this week", 7: "next week", -7: "last week"}
        return start, names.get((start - monday).days, text.upper())
    return None


def _month(text: str, today: date) -> tuple[date, str] | None:
    first = today.replace(day=1)
    if text == "this month":
        return first, text
    if text == "next month":
        return _add_months(first, 1), text
    if text == "last month":
        return _add_months(first, -1), text
    match = _ISO_MONTH.fullmatch(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise DateExpressionError(f"date {text!r}: no such month")
        start = date(year, month, 1)
        names = {0: "this month", 1: "next month", -1: "last month"}
        gap = (year - today.year) * 12 + month - today.month
        return start, names.get(gap, text)
    return None


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def widen(resolved: ResolvedDate, scope: Scope, workdays: frozenset[int] = MON_FRI) -> ResolvedDate:
    """A day widened to the week or month around it, for a skill whose scope is wider than
    the date it was given ("tomorrow" for a weekly skill is tomorrow's week)."""
    order = (Scope.DAY, Scope.WEEK, Scope.MONTH)
    if order.index(scope) <= order.index(resolved.scope):
        return resolved
    target = resolved.target_date
    relative = f"{scope.value} of {resolved.relative}"
    if scope is Scope.WEEK:
        monday = target - timedelta(days=target.weekday())
        days = tuple(monday + timedelta(days=i) for i in range(7) if i in workdays)
        end = monday + timedelta(days=6)
        return ResolvedDate(monday, scope, relative, days, monday, end, resolved.today, resolved.timezone)
    first = target.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return ResolvedDate(first, scope, relative, (), first, last, resolved.today, resolved.timezone)
