"""Focus blocks in the free time, the way the directives ask (pure).

Directives are prose written by the person: "Working hours: 08:30-17:30", "Focus blocks are 90
minutes, in the morning when possible, never after 16:00", "Lunch 12:30-13:15 is not a meeting
slot", "Mornings before 11:00 are for focus work". The few rules that shape a focus block are
read from them; anything not said falls back to a plain working day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time

_TIME = r"(\d{1,2})[:.h](\d{2})"
_RANGE = re.compile(_TIME + r"\s*(?:-|\u2013|to)\s*" + _TIME)
_HOURS = re.compile(r"\b(?:working|work|office) hours?\b", re.IGNORECASE)
_LENGTH = re.compile(r"(\d+)\s*(?:min\b|mins\b|minutes\b)|(\d+(?:\.\d+)?)\s*(?:h\b|hours?\b)", re.IGNORECASE)
_NOT_AFTER = re.compile(r"\b(?:never|not|nothing|no focus)\s+after\s+" + _TIME, re.IGNORECASE)
_BEFORE = re.compile(r"\bbefore\s+" + _TIME, re.IGNORECASE)
_BUSY = re.compile(r"\b(?:lunch|break|school run|no meetings?|not a meeting slot)\b", re.IGNORECASE)
MIN_BLOCK = 45


def _t(hours: str, minutes: str) -> int:
    return int(hours) * 60 + int(minutes)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class FocusRules:
    """The day's working window, the block length, the latest end, and whether mornings come
    first; ``source`` lists the directive lines each came from."""

    start: int = 9 * 60
    end: int = 17 * 60 + 30
    length: int = 90
    latest: int | None = None
    mornings: bool = False
    busy: tuple[tuple[int, int], ...] = ()
    source: tuple[str, ...] = ()


def focus_rules(directives: Iterable[str]) -> FocusRules:
    """Pure: the focus rules the directive lines state."""
    start, end, length, latest, mornings = 9 * 60, 17 * 60 + 30, 90, None, False
    busy: list[tuple[int, int]] = []
    used: list[str] = []
    for raw in directives:
        line = raw.strip().lstrip("-*+ ").strip()
        lower = line.lower()
        span = _RANGE.search(line)
        if _HOURS.search(line) and span:
            start, end = _t(*span.groups()[:2]), _t(*span.groups()[2:])
            used.append(line)
            continue
        if _BUSY.search(line) and span:
            busy.append((_t(*span.groups()[:2]), _t(*span.groups()[2:])))
            used.append(line)
            continue
        if "focus" not in lower and "deep work" not in lower:
            continue
        used.append(line)
        if m := _LENGTH.search(line):
            length = int(m.group(1)) if m.group(1) else round(float(m.group(2)) * 60)
        if m := _NOT_AFTER.search(line):
            latest = _t(m.group(1), m.group(2))
        if "morning" in lower:
            mornings = True
            if (m := _BEFORE.search(line)) and latest is None:
                latest = _t(m.group(1), m.group(2))
    return FocusRules(start, end, length, latest, mornings, tuple(busy), tuple(used))


def free_time(rules: FocusRules, meetings: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pure: the gaps in the working window between meetings and the busy times."""
    taken = sorted([*meetings, *rules.busy])
    gaps: list[tuple[int, int]] = []
    cursor = rules.start
    for begin, finish in taken:
        if begin > cursor:
            gaps.append((cursor, min(begin, rules.end)))
        cursor = max(cursor, finish)
    if cursor < rules.end:
        gaps.append((cursor, rules.end))
    return [(a, b) for a, b in gaps if b > a]


def propose_blocks(
    rules: FocusRules, meetings: Sequence[tuple[int, int]], most: int = 2
) -> list[tuple[int, int]]:
    """Pure: up to ``most`` focus blocks of the rules' length (shorter, down to 45 minutes, when
    no gap is long enough), ending before the latest time, mornings first when asked."""
    blocks: list[tuple[int, int]] = []
    for begin, gap_end in free_time(rules, meetings):
        finish = min(gap_end, rules.latest) if rules.latest is not None else gap_end
        if finish - begin >= MIN_BLOCK:
            blocks.append((begin, begin + min(rules.length, finish - begin)))
    blocks.sort(key=lambda b: -(b[1] - b[0]) if not rules.mornings else b[0])
    return sorted(blocks[:most])


def minutes_of(value: time) -> int:
    return value.hour * 60 + value.minute


def parse_time(text: str) -> int | None:
    """``14:30``, ``14.30`` or ``1430`` as minutes after midnight, or None."""
    m = re.fullmatch(r"\s*(\d{1,2})[:.h]?(\d{2})\s*", text)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return _t(m.group(1), m.group(2))
