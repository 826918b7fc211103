"""resolve-references for people: the People notes of the people the period's meetings bring.

Which people depends on the bullet: the partners of 1:1s ("People files for anyone with 1:1
meetings"), every attendee ("People notes for the attendees of each meeting"), or every
attendee of a meeting the bullet names by its title ("…and everyone in the Billing migration
sync"). A 1:1 is found by its title or by having one person besides its organizer. The vault's
owner (the directives' ``name``) is never their own counterpart. A 1:1 partner, or someone in a
named meeting, without a note makes the need partial; another attendee without one is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overture.skills.context.dates import Scope
from overture.skills.context.needs import Need
from overture.skills.providers.base import Availability, Block, FulfilEnv, NeedResult, describe, unavailable
from overture.skills.providers.calendar import CalendarEvent
from overture.skills.providers.names import PersonKeys, match_person, words
from overture.skills.providers.vault import Vault


@dataclass
class Meeting:
    """Why a person is wanted: the meeting, and whether it is their 1:1 or named by the bullet."""

    event: CalendarEvent
    one_on_one: bool
    named: bool


@dataclass
class Wanted:
    """One person to find: the names they go by, and the meetings they are in."""

    names: list[str]
    meetings: list[Meeting] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return any(m.one_on_one or m.named for m in self.meetings)

    @property
    def ordered(self) -> list[Meeting]:
        """Their meetings, 1:1s first."""
        return sorted(self.meetings, key=lambda m: not m.one_on_one)


def owner_names(vault: Vault, events: Iterable[CalendarEvent]) -> set[tuple[str, ...]]:
    """Who the vault belongs to, as name words: the directives' ``name``/``email``/``aliases``,
    else whoever organizes most of the period's meetings."""
    owner: set[tuple[str, ...]] = set()
    for note in vault.directives():
        keys = PersonKeys.of("", vault.meta(note))
        owner.update(words(n) for n in (*keys.names[1:], *keys.emails) if n)
    if not owner:
        organizers = [e.organizer for e in events if e.organizer is not None]
        if organizers:
            top = max(organizers, key=organizers.count)
            owner.update(words(n) for n in (top.name, top.email) if n)
    return owner


def wanted_people(need: Need, events: list[CalendarEvent], owner: set[tuple[str, ...]]) -> list[Wanted]:
    """Pure: the people the bullet asks for, in meeting order, 1:1 partners first."""
    scope = need.params.get("scope", "1:1")
    text = need.text.lower()
    found: list[Wanted] = []

    def add(names: list[str], meeting: Meeting) -> None:
        names = [n for n in names if n and words(n) not in owner]
        if not names:
            return
        key = words(names[0])
        for person in found:
            if any(words(n) == key for n in person.names):
                person.meetings.append(meeting)
                return
        found.append(Wanted(names, [meeting]))

    for event in events:
        named = len(event.title) > 3 and event.title.lower() in text
        if event.is_one_on_one and "1:1" in scope:
            others = event.others()
            names = [*event.counterparts()[:1], *(a.name for a in others), *(a.email for a in others)]
            add(names, Meeting(event, True, named))
            continue
        if named or "attendees" in scope:
            for attendee in event.attendees:
                add([attendee.name, attendee.email], Meeting(event, False, named))
    return sorted(found, key=lambda w: not any(m.one_on_one for m in w.meetings))


def _when(event: CalendarEvent, scope: Scope) -> str:
    return event.start.strftime("%H:%M") if scope is Scope.DAY else event.start.strftime("%a %H:%M")


def _why(meeting: Meeting, scope: Scope) -> str:
    at = _when(meeting.event, scope)
    return f"1:1 at {at}" if meeting.one_on_one else f"{meeting.event.title} at {at}"


async def people(need: Need, env: FulfilEnv) -> NeedResult:
    """The People notes for the people :func:`wanted_people` names."""
    vault = env.require_vault()
    try:
        events = await env.events()
    except Exception as exc:
        return unavailable(need, f"calendar unavailable: {describe(exc)}")
    index = vault.people_index()
    wanted = wanted_people(need, events, owner_names(vault, events))
    if not wanted:
        nobody = "No 1:1s scheduled" if need.params.get("scope", "1:1") == "1:1" else "No one to prepare for"
        return NeedResult(need, Availability.LOADED, nobody, count=0, data={"people": [], "missing": []})
    blocks: list[Block] = []
    sources: list[str] = []
    problems: list[str] = []
    shown: list[str] = []
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    scope = env.target.scope
    for person in wanted:
        why = "; ".join(_why(m, scope) for m in person.ordered)
        note = _note(person.names, index)
        if note is None:
            name = person.names[0]
            shown.append(f"{name} ({why}, ⚠ no note)" if person.required else f"{name} ({why}, no note)")
            if person.required:
                problems.append(f"no People note for {name}")
                missing.append(name)
            continue
        path, keys = note
        rel = vault.relative(path)
        if rel in sources:
            continue
        text = vault.read(path)
        blocks.append(Block(f"{keys.display} (Person)", text, rel))
        sources.append(rel)
        shown.append(f"{keys.display} ({why})")
        found.append(_entry(keys.display, rel, text, person, scope))
    return NeedResult(
        need,
        Availability.PARTIAL if problems else Availability.LOADED,
        ", ".join(shown),
        blocks=tuple(blocks),
        sources=tuple(sources),
        problems=tuple(problems),
        count=len(found),
        data={"people": found, "missing": missing},
    )


def _note(names: list[str], index: list[tuple[Path, PersonKeys]]) -> tuple[Path, PersonKeys] | None:
    keys = [k for _, k in index]
    for name in names:
        match = match_person(name, keys)
        if match is not None:
            return next((p, k) for p, k in index if k is match)
    return None


def _entry(name: str, rel: str, text: str, person: Wanted, scope: Scope) -> dict[str, Any]:
    first = person.ordered[0]
    return {
        "name": name,
        "path": rel,
        "when": _when(first.event, scope),
        "content": text,
        "one_on_one": any(m.one_on_one for m in person.meetings),
        "meetings": [{"title": m.event.title, "when": _when(m.event, scope)} for m in person.ordered],
    }
