"""Drafts the offline provider can write without a model: pure functions of the loaded context.

They are useful on their own (a Today.md with the day's meetings, 1:1 prep and the week's
priorities) and honest about what they are: each says it was drafted offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from overture.skills.context.dates import ResolvedDate
from overture.skills.context.needs import CALENDAR, PEOPLE, PROJECTS, VAULT_FILE
from overture.skills.providers.base import Availability, NeedResult

_BULLET = re.compile(r"^\s*[-*+]\s+(?:\[(?P<done>[ xX])\]\s+)?(?P<text>.+?)\s*$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$")
PRIORITY_WORDS = ("priorit", "focus", "major moves", "goals", "outcomes", "big rocks")
PREP_WORDS = ("talking points", "open", "next", "follow", "topics", "agenda", "waiting")


@dataclass(frozen=True)
class DraftInput:
    """What a draft reads: the resolved date and the fulfilled needs."""

    date: ResolvedDate
    results: tuple[NeedResult, ...]

    def result(self, kind: str, file: str | None = None) -> NeedResult | None:
        for r in self.results:
            if r.need.kind == kind and (file is None or r.need.label == file):
                return r
        return None

    def data(self, kind: str, file: str | None = None) -> Mapping[str, Any] | None:
        r = self.result(kind, file)
        missing = (Availability.UNAVAILABLE, Availability.ABSENT)
        return r.data if r is not None and r.availability not in missing else None


def bullets_under(text: str, words: tuple[str, ...]) -> list[tuple[str, bool | None]]:
    """Bullets under the first headings whose title contains one of ``words`` (as text and
    done-state: True/False for tasks, None for plain bullets)."""
    found: list[tuple[str, bool | None]] = []
    active = False
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            active = any(w in heading.group("title").lower() for w in words)
            continue
        bullet = _BULLET.match(line) if active else None
        if bullet:
            done = bullet.group("done")
            found.append((bullet.group("text"), None if done is None else done != " "))
    return found


def tasks(text: str) -> list[tuple[str, bool]]:
    """Every checkbox in a note: (text, done)."""
    out = []
    for line in text.splitlines():
        m = _BULLET.match(line)
        if m and m.group("done") is not None:
            out.append((m.group("text"), m.group("done") != " "))
    return out


def _schedule(src: DraftInput, day: date | None) -> list[str]:
    result = src.result(CALENDAR)
    if result is None:
        return ["- (the skill did not ask for the calendar)"]
    if result.availability is Availability.UNAVAILABLE:
        return [f"- ⚠ Calendar unavailable ({'; '.join(result.problems)}): check it by hand"]
    events = [e for e in result.data.get("events", []) if day is None or e["date"] == day.isoformat()]
    return [f"- {e['when']}: {e['title']}" for e in events] or ["- No meetings"]


def _priorities(src: DraftInput, file: str) -> list[str]:
    data = src.data(VAULT_FILE, file)
    if data is None:
        return [f"- (no {file} to take priorities from)"]
    items = bullets_under(str(data["content"]), PRIORITY_WORDS)
    return [f"- [ ] {text}" for text, done in items if not done] or [f"- (no priorities listed in {file})"]


def _people(src: DraftInput) -> list[str]:
    result = src.result(PEOPLE)
    if result is None:
        return []
    if result.availability is Availability.UNAVAILABLE:
        return ["## 1:1 prep", f"- ⚠ People unavailable ({'; '.join(result.problems)})", ""]
    lines = ["## 1:1 prep"]
    for person in result.data.get("people", []):
        lines.append(f"### {person['name']} ({person['when']})")
        points = bullets_under(str(person["content"]), PREP_WORDS)
        lines.extend(f"- {text}" for text, done in points if not done)
        if not points:
            lines.append("- (nothing open in their note)")
    lines.extend(f"### {name}\n- ⚠ no People note yet" for name in result.data.get("missing", []))
    if len(lines) == 1:
        lines.append("- No 1:1s scheduled")
    return [*lines, ""]


def _projects(src: DraftInput) -> list[str]:
    data = src.data(PROJECTS)
    if data is None:
        return []
    names = [f"- [[{p['name']}]]" for p in data.get("projects", [])] or ["- No active projects"]
    return ["## Active projects", *names, ""]


def draft_today(src: DraftInput) -> str:
    """Today.md for the target day: schedule, 1:1 prep, the week's priorities, projects."""
    day = src.date.target_date
    lines = [
        "---",
        f"date: {day.isoformat()}",
        "drafted_by: overture (offline)",
        "---",
        f"# {day.strftime('%A')} {day.isoformat()}",
        "",
        "## Schedule",
        *_schedule(src, day),
        "",
        *_people(src),
        "## Priorities (from Week.md)",
        *_priorities(src, "Week.md"),
        "",
        *_projects(src),
        "## Notes",
        "",
    ]
    return "\n".join(lines)


def draft_week(src: DraftInput) -> str:
    """Week.md for the target week: each workday's meetings, the month's priorities, projects."""
    d = src.date
    iso = d.start.isocalendar()
    lines = [
        "---",
        f"week: {iso.year}-W{iso.week:02d}",
        f"dates: {d.start.isoformat()} to {d.end.isoformat()}",
        "drafted_by: overture (offline)",
        "---",
        f"# Week of {d.start.isoformat()}",
        "",
    ]
    for day in d.workdays or d.days:
        lines += [f"## {day.strftime('%a')} {day.isoformat()}", *_schedule(src, day), ""]
    lines += [*_people(src), "## Priorities (from Month.md)", *_priorities(src, "Month.md"), ""]
    lines += [*_projects(src), "## Notes", ""]
    return "\n".join(lines)


def draft_review(src: DraftInput) -> str:
    """An end-of-day review to append to Today.md: what got done, what carries forward."""
    day = src.date.target_date
    data = src.data(VAULT_FILE, "Today.md")
    lines = [f"## Review ({day.isoformat()}, drafted offline)"]
    if data is None:
        lines.append("- ⚠ Today.md was not available: nothing to review against")
    else:
        items = tasks(str(data["content"]))
        done = [t for t, ok in items if ok]
        lines.append(f"- Done: {len(done)} of {len(items)} tasks")
        open_items = [t for t, ok in items if not ok]
        if open_items:
            lines.append("- Carry forward:")
            lines.extend(f"  - [ ] {t}" for t in open_items)
    calendar = src.data(CALENDAR)
    if calendar is None:
        lines.append("- Meetings: (calendar not loaded)")
    else:
        held = [e for e in calendar.get("events", []) if e["date"] == day.isoformat()]
        lines.append(f"- Meetings: {len(held)}")
    return "\n".join([*lines, ""])


Drafter = Callable[[DraftInput], str]
DRAFTERS: Mapping[tuple[str, str], Drafter] = {
    ("write", "Today.md"): draft_today,
    ("write", "Week.md"): draft_week,
    ("append", "Today.md"): draft_review,
}
