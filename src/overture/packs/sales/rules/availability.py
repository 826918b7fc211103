"""When the prospect's side said they can (and cannot) meet, as constraints on slots: times of
day, weekdays wanted or excluded, weeks, dates before or after, time away, a time zone.
Relative dates are resolved against the day of the call."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from overture.packs.sales.rules.dates import WEEKDAYS
from overture.packs.sales.rules.detect.turns import Turn

_TIME_OF_DAY = re.compile(
    r"\b(mornings?|afternoons?|evenings?|after lunch|before lunch|after (?:six|5|6|five))\b"
)
_DAY = r"(?:mon|tues|wednes|thurs|fri)days?"
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_EXCLUDE = re.compile(
    rf"\b(?:not|no|never|avoid|except|but not|any day but|anything but|apart from|other than)\s+(?:on\s+)?"
    rf"({_DAY})(?:\s+(?:or|and|nor)\s+({_DAY}))?"
)
_ONLY = re.compile(rf"\b({_DAY})(?:\s+(?:or|and)\s+({_DAY}))?\b")
_WEEKS = re.compile(r"\b(next week|this week|the week after(?: next)?|week after next)\b")
_DATE = rf"the\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of\s+({_MONTH}))?|({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?"
_AFTER = re.compile(rf"\b(?:after|from|not before|nothing before|no earlier than|starting)\s+(?:{_DATE})")
_BEFORE = re.compile(rf"\b(?:before|by|until|no later than)\s+(?:{_DATE})")
_IN_MONTH = re.compile(rf"\b(?:in|during|any \w+ in)\s+({_MONTH})\b")
_OUT = r"(?:out|away|off|on leave|travelling|traveling|closed|on the road|not available|unavailable|not)"
_AWAY_WEEK = re.compile(rf"\b{_OUT}\b[^.?!]*?\bweek of (?:the\s+(\d{{1,2}})(?:st|nd|rd|th)?|(thanksgiving))")
_AWAY_RANGE = re.compile(
    rf"\b{_OUT}\b[^.?!]*?\bfrom (?:{_DATE})\s+(?:through|to|until|till)\s+(?:{_DATE}|(new year'?s))"
)
_AWAY_NAMED_WEEK = re.compile(
    rf"\b{_OUT}\b[^.?!]*?\b(?:(?:most of |all of |all )?(next week|this week)|(christmas) week)"
)
_ZONES = {
    "eastern": "America/New_York",
    "central": "America/Chicago",
    "mountain": "America/Denver",
    "pacific": "America/Los_Angeles",
    "uk time": "Europe/London",
    "london time": "Europe/London",
    "amsterdam time": "Europe/Amsterdam",
    "paris time": "Europe/Paris",
    "berlin time": "Europe/Berlin",
    "cet": "Europe/Paris",
    "singapore time": "Asia/Singapore",
    "sydney time": "Australia/Sydney",
    "ist": "Asia/Kolkata",
}
_MEETING_WORDS = re.compile(
    r"\b(?:work(?:s)?|free|available|easiest|better|best|good|suit|suits|out|away|off|closed|on leave|"
    r"travelling|road|not|only|after|before|prefer|mornings?|afternoons?|evenings?|fine|open|except|"
    r"lightest|any|clear|from|until|through)\b"
)


@dataclass
class Availability:
    """When the prospect's side said they can (or cannot) meet, as constraints on slots: days are
    local dates, ``before`` is exclusive."""

    segments: list[int] = field(default_factory=list)
    times_of_day: list[str] = field(default_factory=list)
    weekdays: list[int] = field(default_factory=list)
    not_weekdays: list[int] = field(default_factory=list)
    not_before: date | None = None
    before: date | None = None
    away: list[tuple[date, date]] = field(default_factory=list)
    timezone: str | None = None
    phrases: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "segments": self.segments,
            "times_of_day": self.times_of_day,
            "weekdays": self.weekdays,
            "not_weekdays": self.not_weekdays,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "before": self.before.isoformat() if self.before else None,
            "away": [[a.isoformat(), b.isoformat()] for a, b in self.away],
            "timezone": self.timezone,
            "phrases": self.phrases,
        }

    @property
    def stated(self) -> bool:
        return bool(self.segments)

    def describe(self) -> str:
        """The stated availability said back as the terms times will follow ("in the afternoons,
        avoiding Mondays"); empty when nothing was said."""
        names = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
        parts = []
        if self.times_of_day:
            parts.append("in the " + " or ".join(f"{t}s" for t in self.times_of_day))
        if self.weekdays:
            parts.append("on " + " or ".join(names[d] for d in self.weekdays))
        if self.not_weekdays:
            parts.append("avoiding " + " and ".join(names[d] for d in self.not_weekdays))
        if self.not_before:
            parts.append(f"from {self.not_before:%A, %b} {self.not_before.day}")
        if self.before:
            parts.append(f"before {self.before:%A, %b} {self.before.day}")
        for start, end in self.away[:2]:
            parts.append(f"not {start:%b} {start.day}-{end:%b} {end.day}, while you are away")
        return ", ".join(parts)

    def _key(self) -> tuple[object, ...]:
        return (
            len(self.times_of_day),
            len(self.weekdays),
            len(self.not_weekdays),
            self.not_before,
            self.before,
            len(self.away),
            self.timezone,
        )


def _weekday(word: str) -> int:
    return WEEKDAYS.index(word.rstrip("s") if word.rstrip("s") in WEEKDAYS else word)


def _date(groups: tuple[str | None, ...], spoken_on: date) -> date | None:
    """A date from ``_DATE``'s groups: "the 15th", "the 11th of January", "January 15"."""
    day_a, month_a, month_b, day_b = groups[:4]
    day = day_a or day_b
    month = month_a or month_b
    if day is None:
        return None
    if month is None:
        return _nth(int(day), spoken_on)
    wanted = _MONTHS.index(month) + 1
    year = spoken_on.year + (1 if wanted < spoken_on.month else 0)
    try:
        return date(year, wanted, int(day))
    except ValueError:
        return None


def _nth(day: int, spoken_on: date) -> date:
    """The next date whose day of the month is ``day``, from the day it was said."""
    month, year = spoken_on.month, spoken_on.year
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= spoken_on:
            return candidate
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
    return spoken_on


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def availability(turns: list[Turn], spoken_on: date) -> Availability:
    """The prospect side's stated availability, read from what they said about meeting times."""
    found = Availability()
    for turn in turns:
        if turn.side != "prospect":
            continue
        for i, sentence in enumerate(turn.sentences):
            if not _MEETING_WORDS.search(sentence):
                continue
            before = found._key()
            _read(sentence, spoken_on, found)
            if found._key() != before:
                if turn.index not in found.segments:
                    found.segments.append(turn.index)
                found.phrases.append(turn.said(i))
    return found


def _away(sentence: str, spoken_on: date, found: Availability) -> str:
    """Ranges the prospect is out for; the sentence with them taken out, so a week they are away
    is not read as a week they are free."""
    for match in _AWAY_RANGE.finditer(sentence):
        start = _date(match.groups()[:4], spoken_on)
        end = _date(match.groups()[4:8], spoken_on)
        if match.group(9):
            end = date((start or spoken_on).year + 1, 1, 1)
        if start and end:
            found.away.append((start, end))
    for match in _AWAY_WEEK.finditer(sentence):
        if match.group(2):
            monday = _monday(_thanksgiving(spoken_on.year))
        else:
            monday = _monday(_nth(int(match.group(1)), spoken_on))
        found.away.append((monday, monday + timedelta(days=4)))
    for match in _AWAY_NAMED_WEEK.finditer(sentence):
        if match.group(2):
            monday = _monday(date(spoken_on.year, 12, 25))
        else:
            monday = _monday(spoken_on) + timedelta(days=0 if match.group(1) == "this week" else 7)
        found.away.append((monday, monday + timedelta(days=4)))
    for pattern in (_AWAY_RANGE, _AWAY_WEEK, _AWAY_NAMED_WEEK):
        sentence = pattern.sub(" ", sentence)
    return sentence


def _read(sentence: str, spoken_on: date, found: Availability) -> None:
    sentence = _away(sentence, spoken_on, found)
    for match in _TIME_OF_DAY.finditer(sentence):
        word = match.group(1)
        kind = (
            "morning"
            if word == "before lunch"
            else "afternoon"
            if word == "after lunch"
            else word.rstrip("s")
        )
        kind = "evening" if kind.startswith("after ") else kind
        if kind not in found.times_of_day:
            found.times_of_day.append(kind)
    excluded = False
    for match in _EXCLUDE.finditer(sentence):
        for word in (match.group(1), match.group(2)):
            if word and (day := _weekday(word)) not in found.not_weekdays:
                found.not_weekdays.append(day)
                excluded = True
    if not excluded:
        for match in _ONLY.finditer(sentence):
            for word in (match.group(1), match.group(2)):
                if word and (day := _weekday(word)) not in found.weekdays:
                    found.weekdays.append(day)
    week = _WEEKS.search(sentence)
    if week:
        offset = {"this week": 0, "next week": 7}.get(week.group(1), 14)
        start = _monday(spoken_on) + timedelta(days=offset)
        found.not_before = max(found.not_before or start, start)
        found.before = start + timedelta(days=5)
    if (after := _AFTER.search(sentence)) is not None:
        found.not_before = _date(after.groups(), spoken_on) or found.not_before
    if (by := _BEFORE.search(sentence)) is not None:
        found.before = _date(by.groups(), spoken_on) or found.before
    if (month := _IN_MONTH.search(sentence)) is not None:
        wanted = _MONTHS.index(month.group(1)) + 1
        year = spoken_on.year + (1 if wanted < spoken_on.month else 0)
        found.not_before = date(year, wanted, 1)
        found.before = date(year + (wanted == 12), wanted % 12 + 1, 1)
    for name, zone in _ZONES.items():
        if re.search(rf"\b{name}\b", sentence):
            found.timezone = zone
