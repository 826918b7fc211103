"""What an offline session talks about, read from the loaded context (pure): the day's
meetings, the items on offer as priorities, what each 1:1 partner is waiting on, the
directives' lines, and the open items of a plan under review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from overture.skills.context.needs import CALENDAR, DIRECTIVES, PEOPLE, PERIODIC, VAULT_FILE
from overture.skills.prose.drafts import PREP_WORDS, PRIORITY_WORDS, DraftInput, bullets_under, tasks
from overture.skills.providers.base import Availability

CARRY_WORDS = ("carry", "carried", "leftover", "tomorrow")
GOAL_WORDS = ("goals", "outcomes", "priorit", "focus")


@dataclass(frozen=True)
class Offer:
    """An item offered to the person, and where it came from ("Week.md", "2026-11-30")."""

    text: str
    source: str


def meetings(src: DraftInput, day: date | None) -> list[Mapping[str, Any]]:
    """The calendar events of ``day`` (all of them when None), as the calendar need loaded them."""
    data = src.data(CALENDAR)
    if data is None:
        return []
    return [e for e in data.get("events", []) if day is None or e["date"] == day.isoformat()]


def stale(src: DraftInput, file: str) -> str:
    """Why a loaded note is stale ("for week 7, not week 49"), or ""."""
    data = src.data(VAULT_FILE, file)
    return str(data.get("stale", "")) if data is not None else ""


def open_items(text: str, words: tuple[str, ...]) -> list[str]:
    """Unticked bullets under headings with one of ``words``."""
    return [t for t, done in bullets_under(text, words) if not done]


def _periodic_notes(src: DraftInput, period_label: str) -> list[Mapping[str, Any]]:
    for r in src.results:
        if r.need.kind == PERIODIC and r.need.label == period_label and r.availability is Availability.LOADED:
            return list(r.data.get("notes", []))
    return []


def day_offers(src: DraftInput) -> list[Offer]:
    """Candidates for the day's priorities, carried items first: the open items of an earlier
    Today.md, yesterday's unfinished Top 3, then the week's open focus (named stale if so)."""
    offers: list[Offer] = []
    today = src.data(VAULT_FILE, "Today.md")
    if today is not None and str(today.get("content", "")):
        carried = open_items(str(today["content"]), CARRY_WORDS) or [
            t for t, done in tasks(str(today["content"])) if not done
        ]
        offers += [Offer(t, "Today.md") for t in carried]
    for note in _periodic_notes(src, "Daily note"):
        offers += [
            Offer(t, str(note["name"])) for t in open_items(str(note["content"]), ("top 3", *PRIORITY_WORDS))
        ]
    week = src.data(VAULT_FILE, "Week.md")
    if week is not None:
        label = "Week.md" + (f", {week['stale']}" if week.get("stale") else "")
        offers += [Offer(t, label) for t in open_items(str(week["content"]), PRIORITY_WORDS)]
    return _unique(offers)


def week_carried(src: DraftInput) -> list[Offer]:
    """The newest weekly archive's "Carry into" items, which must each be settled first."""
    notes = _periodic_notes(src, "Weekly archives") or _periodic_notes(src, "Weekly note")
    for note in notes:
        found = open_items(str(note["content"]), ("carry",))
        if found:
            return [Offer(t, str(note["name"])) for t in found]
    return []


def week_offers(src: DraftInput) -> list[Offer]:
    """Candidates for the week's outcomes: Month.md's open goals, else last month's note's,
    then the last weekly archive's unfinished outcomes."""
    offers: list[Offer] = []
    month = src.data(VAULT_FILE, "Month.md")
    if month is not None:
        offers += [Offer(t, "Month.md") for t in open_items(str(month["content"]), GOAL_WORDS)]
    else:
        for note in _periodic_notes(src, "Monthly note"):
            offers += [Offer(t, str(note["name"])) for t in open_items(str(note["content"]), GOAL_WORDS)]
    for note in (_periodic_notes(src, "Weekly archives") or [])[:1]:
        offers += [Offer(t, str(note["name"])) for t in open_items(str(note["content"]), ("outcomes",))]
    return _unique(offers)


def _unique(offers: list[Offer]) -> list[Offer]:
    seen: set[str] = set()
    out = []
    for offer in offers:
        key = offer.text.strip().lower()
        if key not in seen:
            seen.add(key)
            out.append(offer)
    return out


def one_on_ones(src: DraftInput) -> list[Mapping[str, Any]]:
    """The loaded People notes of the period's 1:1 partners."""
    result = src.result(PEOPLE)
    if result is None or result.availability is Availability.UNAVAILABLE:
        return []
    return [p for p in result.data.get("people", []) if p.get("one_on_one", True)]


def waiting_on(person: Mapping[str, Any]) -> list[str]:
    """What a person's note says is open: waiting on me, open, next, talking points, topics."""
    return open_items(str(person.get("content", "")), PREP_WORDS)


def directive_lines(src: DraftInput) -> list[str]:
    data = src.data(DIRECTIVES)
    if data is None:
        return []
    texts = [str(d.get("content", "")) for d in data.get("directives", [])] or [str(data.get("content", ""))]
    return [line for text in texts for line in text.splitlines() if line.strip().startswith(("-", "*", "+"))]


def plan_open_items(src: DraftInput) -> tuple[list[str], list[str]]:
    """A plan under review: its done and open tasks (checkboxes anywhere in Today.md)."""
    data = src.data(VAULT_FILE, "Today.md")
    if data is None:
        return [], []
    found = tasks(str(data.get("content", "")))
    return [t for t, ok in found if ok], [t for t, ok in found if not ok]
