"""Due dates people say out loud ("by Friday", "next Tuesday", "end of month"), resolved against
the day the meeting took place.

Pure and deterministic: the meeting date is an argument, never today's date, so an action item
extracted from last Tuesday's call is due when the speaker meant, not when the job happened to run.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "a couple of": 2, "a few": 3}


@dataclass(frozen=True)
class Due:
    """A resolved due date and the words it came from."""

    date: date
    phrase: str


def _next_weekday(day: date, weekday: int, *, strictly_after: bool = True) -> date:
    ahead = (weekday - day.weekday()) % 7
    if ahead == 0 and strictly_after:
        ahead = 7
    return day + timedelta(days=ahead)


def _monday_of_next_week(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _end_of_week(day: date) -> date:
    friday = day + timedelta(days=4 - day.weekday())
    return max(friday, day)


def _end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _nth_of_month(day: date, nth: int) -> date | None:
    year, month = day.year, day.month
    for _ in range(13):
        if nth <= calendar.monthrange(year, month)[1] and date(year, month, nth) >= day:
            return date(year, month, nth)
        month = month % 12 + 1
        year += month == 1
    return None


def _count(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return _NUMBERS.get(text)


_Rule = tuple[re.Pattern[str], str]
_RULES: tuple[_Rule, ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"\bend of next week\b", "end_next_week"),
        (r"\b(?:early |first thing )?next week\b", "next_week"),
        (r"\bnext " + _DAY + r"\b", "next_day"),
        (r"\b(?:first thing |on |by |this |until |before |for )?" + _DAY + r"\b", "day"),
        (r"\b(?:end of (?:the )?week|this week|by the weekend)\b", "end_week"),
        (r"\bend of (?:the )?month\b", "end_month"),
        (r"\bnext month\b", "next_month"),
        (r"\bin (\d+|a|one|two|three|four|a couple of|a few) weeks?\b", "in_weeks"),
        (r"\bin (\d+|a|one|two|three|four|a couple of|a few) days?\b", "in_days"),
        (r"\b(?:day after tomorrow)\b", "day_after"),
        (r"\b(?:first thing )?tomorrow\b", "tomorrow"),
        (
            r"\b(?:today|tonight|this (?:morning|afternoon|evening)|end of (?:the )?day|eod|"
            r"right after (?:this|the) call|after (?:this|the) call|later today)\b",
            "today",
        ),
        (r"\b(?:by|on|before|for) the (\d{1,2})(?:st|nd|rd|th)\b", "nth"),
    )
)


def resolve_due(text: str, spoken_on: date) -> Due | None:
    """The first due date ``text`` states, counted from ``spoken_on``; None if it states none."""
    best: tuple[int, Due] | None = None
    for pattern, kind in _RULES:
        match = pattern.search(text)
        if match is None:
            continue
        resolved = _apply(kind, match, spoken_on)
        if resolved is None:
            continue
        candidate = (match.start(), Due(resolved, match.group(0).strip()))
        # The earliest mention wins; on a tie the longer (more specific) phrase does.
        if best is None or (candidate[0], -len(candidate[1].phrase)) < (best[0], -len(best[1].phrase)):
            best = candidate
    return best[1] if best else None


def _apply(kind: str, match: re.Match[str], day: date) -> date | None:
    if kind == "today":
        return day
    if kind == "tomorrow":
        return day + timedelta(days=1)
    if kind == "day_after":
        return day + timedelta(days=2)
    if kind == "next_week":
        return _monday_of_next_week(day)
    if kind == "end_next_week":
        return _monday_of_next_week(day) + timedelta(days=4)
    if kind == "end_week":
        return _end_of_week(day)
    if kind == "end_month":
        return _end_of_month(day)
    if kind == "next_month":
        return _end_of_month(day) + timedelta(days=1)
    if kind == "next_day":
        weekday = WEEKDAYS.index(match.group(1).lower())
        return _monday_of_next_week(day) + timedelta(days=weekday)
    if kind == "day":
        return _next_weekday(day, WEEKDAYS.index(match.group(1).lower()))
    if kind in ("in_weeks", "in_days"):
        n = _count(match.group(1).lower())
        if n is None:
            return None
        return day + timedelta(days=n * 7 if kind == "in_weeks" else n)
    if kind == "nth":
        nth = int(match.group(1))
        return _nth_of_month(day, nth) if 1 <= nth <= 31 else None
    return None
