"""The providers behind the seed's pattern table: fetch-calendar and resolve-references.

Each takes one need and the run's shared :class:`FulfilEnv`. File reads are synchronous (the
fulfiller runs them in threads); the calendar and people providers are async because they
share one calendar fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from overture.errors import SourceUnavailable
from overture.skills.context.dates import Scope
from overture.skills.context.needs import CALENDAR, DIRECTIVES, PEOPLE, PROJECTS, VAULT_FILE, Need
from overture.skills.providers.base import (
    Availability,
    Block,
    FulfilEnv,
    NeedResult,
    Provider,
    describe,
    unavailable,
)
from overture.skills.providers.calendar import CalendarEvent


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceUnavailable(f"cannot read {path.name}: {exc}") from None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_events(events: list[CalendarEvent], days: tuple[date, ...], by_day: bool) -> str:
    """``- 09:00-10:00: Team standup`` lines, grouped under each day for a week or month."""
    if not by_day:
        return "\n".join(f"- {e.when()}: {e.title}" for e in events) or "- (no events)"
    parts = []
    for day in days:
        todays = [e for e in events if e.start.date() == day]
        if todays:
            lines = "\n".join(f"- {e.when()}: {e.title}" for e in todays)
            parts.append(f"{day.strftime('%a')} {day.isoformat()}:\n{lines}")
    return "\n\n".join(parts) or "- (no events)"


async def calendar(need: Need, env: FulfilEnv) -> NeedResult:
    """fetch-calendar: the period's events, recurring ones expanded."""
    events = await env.events()
    target = env.target
    body = format_events(events, target.days, target.scope is not Scope.DAY)
    source = ", ".join(getattr(env.calendar, "sources", None) or [type(env.calendar).__name__])
    return NeedResult(
        need,
        Availability.LOADED,
        f"{_plural(len(events), 'event')} for {target.label}",
        blocks=(Block(f"Calendar Events ({target.label})", body, source),),
        sources=(source,),
        count=len(events),
        data={"events": [e.as_dict() for e in events]},
    )


def vault_file(need: Need, env: FulfilEnv) -> NeedResult:
    """resolve-references for a named note such as Week.md: Captive first, then the vault."""
    vault = env.require_vault()
    name = need.params.get("file", "")
    path = vault.find_note(name) if name else None
    if path is None:
        return unavailable(need, f"{name or 'the file'} not found in the vault")
    rel = vault.relative(path)
    folder = "Captive" if rel.startswith(vault.layout.captive + "/") else str(Path(rel).parent)
    text = _read(path)
    return NeedResult(
        need,
        Availability.LOADED,
        f"Loaded from {folder}",
        blocks=(Block(f"{name}", text, rel),),
        sources=(rel,),
        count=1,
        data={"path": rel, "content": text},
    )


async def people(need: Need, env: FulfilEnv) -> NeedResult:
    """resolve-references for people: each 1:1 counterpart in the period, to a People note."""
    vault = env.require_vault()
    try:
        events = await env.events()
    except Exception as exc:
        return unavailable(need, f"calendar unavailable: {describe(exc)}")
    meetings: dict[str, CalendarEvent] = {}
    for event in events:
        if event.is_one_on_one:
            for name in event.counterparts():
                meetings.setdefault(name, event)
    if not meetings:
        return NeedResult(need, Availability.LOADED, "No 1:1s scheduled", count=0, data={"people": []})
    blocks, sources, problems, found, shown = [], [], [], [], []
    for name, event in meetings.items():
        when = (
            event.start.strftime("%H:%M")
            if env.target.scope is Scope.DAY
            else event.start.strftime("%a %H:%M")
        )
        note = vault.person_note(name)
        if note is None:
            problems.append(f"no People note for {name}")
            shown.append(f"{name} (1:1 at {when}, ⚠ no note)")
            continue
        rel = vault.relative(note)
        if rel in sources:
            continue
        text, full = _read(note), note.stem
        blocks.append(Block(f"{full} (Person)", text, rel))
        sources.append(rel)
        shown.append(f"{full} (1:1 at {when})")
        found.append({"name": full, "path": rel, "when": when, "content": text})
    return NeedResult(
        need,
        Availability.PARTIAL if problems else Availability.LOADED,
        ", ".join(shown),
        blocks=tuple(blocks),
        sources=tuple(sources),
        problems=tuple(problems),
        count=len(found),
        data={"people": found, "missing": [p.removeprefix("no People note for ") for p in problems]},
    )


def projects(need: Need, env: FulfilEnv) -> NeedResult:
    """resolve-references for active projects (status not done, archived or paused)."""
    vault = env.require_vault()
    if not (vault.root / vault.layout.projects).is_dir():
        return unavailable(need, f"no {vault.layout.projects} folder in the vault")
    notes = vault.active_projects()
    items = [{"name": p.stem, "path": vault.relative(p), "content": _read(p)} for p in notes]
    summary = ", ".join(i["name"] for i in items) or "No active projects"
    return NeedResult(
        need,
        Availability.LOADED,
        summary,
        blocks=tuple(Block(f"{i['name']} (Project)", i["content"], i["path"]) for i in items),
        sources=tuple(i["path"] for i in items),
        count=len(items),
        data={"projects": items},
    )


def directives(need: Need, env: FulfilEnv) -> NeedResult:
    """resolve-references for the user's directives and preferences (profile.md and friends)."""
    vault = env.require_vault()
    notes = vault.directives()
    if not notes:
        return unavailable(need, f"no directives in {vault.layout.directives}")
    texts = [(vault.relative(p), _read(p)) for p in notes]
    names = ", ".join(Path(rel).name for rel, _ in texts)
    return NeedResult(
        need,
        Availability.LOADED,
        f"User preferences loaded ({names})",
        blocks=tuple(Block("User Directives", text, rel) for rel, text in texts),
        sources=tuple(rel for rel, _ in texts),
        count=len(texts),
        data={"directives": [{"path": rel, "content": text} for rel, text in texts]},
    )


BUILTIN_PROVIDERS: Mapping[str, Provider] = {
    CALENDAR: calendar,
    VAULT_FILE: vault_file,
    PEOPLE: people,
    PROJECTS: projects,
    DIRECTIVES: directives,
}
