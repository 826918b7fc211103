"""The providers behind the seed's pattern table: fetch-calendar and resolve-references.

Each takes one need and the run's shared :class:`FulfilEnv`. File reads are synchronous (the
fulfiller runs them in threads) and go through the vault, which reads nothing outside it; the
calendar and people providers are async because they share one calendar fetch. People are in
:mod:`overture.skills.providers.people`, periodic notes and the vault's layout in
:mod:`overture.skills.providers.periodic`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from overture.skills.context.dates import Scope
from overture.skills.context.needs import (
    CALENDAR,
    DIRECTIVES,
    PEOPLE,
    PERIODIC,
    PROJECTS,
    VAULT_CONFIG,
    VAULT_FILE,
    Need,
)
from overture.skills.providers.base import Availability, Block, FulfilEnv, NeedResult, Provider, unavailable
from overture.skills.providers.calendar import CalendarEvent
from overture.skills.providers.people import people
from overture.skills.providers.periodic import periodic, vault_config
from overture.skills.providers.periods import note_period, staleness
from overture.skills.providers.vault import WORKING_NOTES, Vault, front_matter, project_name


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
    """resolve-references for a named note such as Week.md: a working note in Captive, any
    other by its path or name. A missing note is said not to exist yet (its template is never
    loaded in its place); a note about another period is loaded as stale and named so."""
    vault = env.require_vault()
    name = need.params.get("file", "")
    path = vault.find_note(name) if name else None
    if path is None:
        return _missing(need, vault, name)
    rel = vault.relative(path)
    folder = "Captive" if rel.startswith(vault.layout.captive + "/") else str(Path(rel).parent)
    text = vault.read(path)
    period = note_period(path.stem, front_matter(text), text)
    stale = staleness(period, env.target)
    loaded = f"Loaded from {folder}"
    asked_earlier = bool(need.params.get("earlier"))
    if stale is not None and asked_earlier and period is not None and period.end <= env.target.end:
        # asked for the last one (leftovers from the last plan): earlier is what it should be
        stale, loaded = None, f"{loaded} (for {period.label()})"
    title = need.label if stale is None else f"{need.label} (⚠ stale: {stale})"
    return NeedResult(
        need,
        Availability.LOADED if stale is None else Availability.PARTIAL,
        loaded if stale is None else f"⚠ {stale}",
        blocks=(Block(title, text, rel),),
        sources=(rel,),
        problems=() if stale is None else (f"stale, {stale}",),
        count=1,
        data={"path": rel, "content": text, "stale": stale or ""},
    )


def _missing(need: Need, vault: Vault, name: str) -> NeedResult:
    """A note that is not there: it does not exist yet (and its template is not it)."""
    label = need.label
    working = label in WORKING_NOTES
    where = "in Captive" if working else "in the vault"
    reason = f"{label} does not exist yet {where}"
    template = vault.template_for(label) if working else None
    if template:
        reason += f" (the template {template} is not the note)"
    path = vault.captive(label) if working else name
    if need.params.get("optional"):
        summary = f"Does not exist yet {where} (asked for only if it exists)"
        return NeedResult(need, Availability.ABSENT, summary, count=0, data={"path": path, "exists": False})
    return unavailable(need, reason)


def projects(need: Need, env: FulfilEnv) -> NeedResult:
    """resolve-references for active projects (status not done, archived or paused)."""
    vault = env.require_vault()
    if not (vault.root / vault.layout.projects).is_dir():
        return unavailable(need, f"no {vault.layout.projects} folder in the vault")
    notes = vault.active_projects()
    items = [
        {"name": project_name(p.stem), "path": vault.relative(p), "content": vault.read(p)} for p in notes
    ]
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
    texts = [(vault.relative(p), vault.read(p)) for p in notes]
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
    PERIODIC: periodic,
    VAULT_CONFIG: vault_config,
}
