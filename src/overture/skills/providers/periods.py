"""The period a note is about, and whether it covers the date a skill runs for (pure).

Working notes are rewritten by the rituals, so the ``Week.md`` on disk may be a week in February
when the plan is for December. A note says its own period in its front matter (``date``,
``week``, ``month``, ``dates: A to B``), in its file name (the periodic-notes convention:
``2026-12-01.md``, ``2026-W49.md``, ``2026-12.md``) or in its title (``# Week of 2026-02-16``).
A note whose period does not overlap the run's is stale, and is named so.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from overture.skills.context.dates import ResolvedDate, Scope

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{1,2})", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{2})(?!-\d)")
_TITLE = re.compile(r"^#\s+(?P<title>.+?)\s*$", re.MULTILINE)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}


@dataclass(frozen=True, slots=True)
class Period:
    """A day, an ISO week or a month, with its first and last dates."""

    unit: Scope
    start: date
    end: date

    def label(self, year: bool = True) -> str:
        if self.unit is Scope.DAY:
            return self.start.isoformat()
        if self.unit is Scope.WEEK:
            iso = self.start.isocalendar()
            return f"week {iso.week} of {iso.year}" if year else f"week {iso.week}"
        return self.start.strftime("%Y-%m")

    def covers(self, start: date, end: date) -> bool:
        return self.start <= end and start <= self.end


def day(d: date) -> Period:
    return Period(Scope.DAY, d, d)


def week(d: date) -> Period:
    monday = d - timedelta(days=d.weekday())
    return Period(Scope.WEEK, monday, monday + timedelta(days=6))


def month(d: date) -> Period:
    first = d.replace(day=1)
    return Period(Scope.MONTH, first, first.replace(day=calendar.monthrange(d.year, d.month)[1]))


def parse_period(text: str) -> Period | None:
    """``2026-12-01``, ``2026-W49`` or ``2026-12`` (the first found), or None."""
    text = text.strip()
    if m := _WEEK.search(text):
        try:
            return week(date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
        except ValueError:
            return None
    if m := _DAY.search(text):
        try:
            return day(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return None
    if (m := _MONTH.search(text)) and 1 <= int(m.group(2)) <= 12:
        return month(date(int(m.group(1)), int(m.group(2)), 1))
    return None


def _from_meta(meta: Mapping[str, Any]) -> Period | None:
    value = meta.get("date")
    if isinstance(value, datetime):
        return day(value.date())
    if isinstance(value, date):
        return day(value)
    dates = meta.get("dates")
    if isinstance(dates, str) and len(found := _DAY.findall(dates)) == 2:
        (a, b) = (date(*map(int, found[0])), date(*map(int, found[1])))
        unit = Scope.WEEK if (b - a).days <= 7 else Scope.MONTH
        return Period(unit, a, b)
    for key in ("date", "week", "month"):
        if meta.get(key) is not None:
            found_period = parse_period(str(meta[key]))
            if found_period is not None:
                return found_period
    return None


def _from_title(text: str) -> Period | None:
    match = _TITLE.search(text)
    if match is None:
        return None
    title = match.group("title")
    if re.search(r"\bweek\b", title, re.IGNORECASE) and (m := _DAY.search(title)):
        return week(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    found = parse_period(title)
    if found is not None:
        return found
    words = title.lower().split()
    for i, word in enumerate(words[:-1]):
        if word in _MONTHS and words[i + 1].isdigit() and len(words[i + 1]) == 4:
            return month(date(int(words[i + 1]), _MONTHS[word], 1))
    return None


def note_period(stem: str, meta: Mapping[str, Any], text: str) -> Period | None:
    """The period a note is about: front matter, then the file name, then the title."""
    return _from_meta(meta) or parse_period(stem) or _from_title(text)


def staleness(period: Period | None, target: ResolvedDate) -> str | None:
    """None when the note covers the run's period (or says none); else "for week 7, not week
    49" in the note's own unit."""
    if period is None or period.covers(target.start, target.end):
        return None
    wanted = {Scope.DAY: day, Scope.WEEK: week, Scope.MONTH: month}[period.unit](target.target_date)
    same_year = period.start.isocalendar().year == wanted.start.isocalendar().year
    return f"for {period.label(not same_year)}, not {wanted.label(not same_year)}"
