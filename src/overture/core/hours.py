"""Active hours: when a user may be contacted, judged in the user's own wall-clock time.

Pure functions: the moment to judge is always an argument, never read from a clock.
A window belongs to the local day it starts on, so ``22:00-06:00`` on Friday runs into
Saturday morning even when Saturday is not a workday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ALL_DAYS = frozenset(range(7))
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")  # ASCII digits only
_LOOKAHEAD_DAYS = 8  # every weekday recurs within a week; one more covers a DST-emptied window
_WORKDAYS_HINT = "use e.g. mon-fri or mon,wed,fri"


@dataclass(frozen=True)
class ActiveHours:
    """A daily local window, on the workdays it may start on; ``start == end`` is all day."""

    start: time
    end: time
    workdays: frozenset[int] = _ALL_DAYS

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"active hours {name} must be a naive time of day: {value!r}")
            if value.microsecond:
                raise ValueError(f"active hours {name} must be whole seconds: {value!r}")
        days = frozenset(self.workdays)
        if not days:
            raise ValueError("active hours need at least one workday")
        if not days <= _ALL_DAYS:
            raise ValueError(f"workdays must be 0 (Monday) to 6 (Sunday): {sorted(days)!r}")
        object.__setattr__(self, "workdays", days)

    @classmethod
    def parse(cls, text: str, workdays: str | None = None) -> ActiveHours:
        """Read ``08:00-18:00`` (``24:00`` allowed as an end) and optional ``mon-fri``."""
        parts = text.split("-")
        if len(parts) != 2:
            raise ValueError(f"not active hours: {text!r} (use e.g. 08:00-18:00)")
        start = _parse_time(parts[0], text, is_end=False)
        end = _parse_time(parts[1], text, is_end=True)
        days = _ALL_DAYS if workdays is None else parse_workdays(workdays)
        return cls(start=start, end=end, workdays=days)

    @property
    def all_day(self) -> bool:
        """True when each window lasts a whole day (``start == end``)."""
        return self.start == self.end

    def __str__(self) -> str:
        return f"{_format_time(self.start)}-{_format_time(self.end)}"


def parse_workdays(text: str) -> frozenset[int]:
    """Read ``mon-fri``, ``mon,wed,fri`` or ``fri-mon`` (ranges wrap) into 0=Monday..6=Sunday."""
    if not text.strip():
        raise ValueError(f"no workdays given: {text!r} ({_WORKDAYS_HINT})")
    days: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            first_name, _, last_name = part.partition("-")
            first, last = _parse_day(first_name, text), _parse_day(last_name, text)
            days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
        else:
            days.add(_parse_day(part, text))
    return frozenset(days)


def format_workdays(days: frozenset[int]) -> str:
    """Write workdays the way ``parse_workdays`` reads them; runs of three or more as ranges."""
    if not days or not days <= _ALL_DAYS:
        raise ValueError(f"workdays must be a non-empty subset of 0..6: {sorted(days)!r}")
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    pieces: list[str] = []
    for run in runs:
        if len(run) >= 3:
            pieces.append(f"{_DAY_NAMES[run[0]]}-{_DAY_NAMES[run[-1]]}")
        else:
            pieces.extend(_DAY_NAMES[day] for day in run)
    return ",".join(pieces)


def is_active(hours: ActiveHours, tz: ZoneInfo, at: datetime) -> bool:
    """Whether ``at`` (timezone-aware, any zone) falls inside one of the user's windows."""
    moment = _to_utc(at)
    if hours.all_day and hours.workdays == _ALL_DAYS:
        return True
    today = moment.astimezone(tz).date()
    # A window ends at most a day after its local start, plus any DST gap it lands in.
    for offset in (-2, -1, 0, 1):
        start, end = _window(hours, tz, today + timedelta(days=offset))
        if start <= moment < end:
            return True
    return False


def next_active_start(hours: ActiveHours, tz: ZoneInfo, at: datetime) -> datetime:
    """The first moment at or after ``at`` inside active hours, in UTC (``at`` itself if active)."""
    moment = _to_utc(at)
    if is_active(hours, tz, moment):
        return moment
    today = moment.astimezone(tz).date()
    for offset in range(-1, _LOOKAHEAD_DAYS + 1):
        start, end = _window(hours, tz, today + timedelta(days=offset))
        if moment <= start < end:
            return start
    raise RuntimeError(f"no active window within {_LOOKAHEAD_DAYS} days of {moment.isoformat()}")


def _window(hours: ActiveHours, tz: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The UTC span of the window starting on local ``day``; empty if it is not a workday."""
    start = _local_instant(day, hours.start, tz)
    if day.weekday() not in hours.workdays:
        return start, start
    end_day = day if hours.end > hours.start else day + timedelta(days=1)
    return start, _local_instant(end_day, hours.end, tz)


def _local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: first occurrence if repeated, gap's end if skipped."""
    local = datetime.combine(day, wall, tzinfo=tz)  # fold=0 picks the first of two occurrences
    instant = local.astimezone(UTC)
    naive = local.replace(tzinfo=None)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    # The wall time was skipped (spring forward): find the transition, the first instant whose
    # local time is later than the wall time. fold=1 reads it with the offset after the gap.
    before = int(local.replace(fold=1).timestamp())
    after = int(instant.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) > naive:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def _to_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"need a timezone-aware datetime, got naive {at.isoformat()}")
    return at.astimezone(UTC)


def _parse_time(part: str, whole: str, *, is_end: bool) -> time:
    match = _TIME.fullmatch(part.strip())
    if match is None:
        raise ValueError(f"not a time of day: {part.strip()!r} in active hours {whole!r} (HH:MM)")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if is_end and (hour, minute, second) == (24, 0, 0):
        return time(0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time of day: {part.strip()!r} in active hours {whole!r}")
    return time(hour, minute, second)


def _format_time(value: time) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}"
    return f"{text}:{value.second:02d}" if value.second else text


def _parse_day(name: str, whole: str) -> int:
    key = name.strip().lower()
    for names in (_DAY_NAMES, _FULL_DAY_NAMES):
        if key in names:
            return names.index(key)
    raise ValueError(f"not a day: {name.strip()!r} in workdays {whole!r} ({_WORKDAYS_HINT})")
