"""resolve-references for the periodic-notes convention and for the vault's own layout.

Periodic notes are ``Periodic/Daily/YYYY-MM-DD.md``, ``Periodic/Weekly/YYYY-Www.md`` and
``Periodic/Monthly/YYYY-MM.md``: the archive a ritual keeps of each day, week and month.
"Weekly archives from Periodic/Weekly" asks for the last few weeks before the run's; "the
existing daily archive if re-reviewing" asks for the run's own day, if it is there.
"Vault configuration" asks where things live: the layout as detected, and any configuration
note the vault keeps (``CLAUDE.md`` and the like, a ``Config`` or ``Vault`` note in Systemic).
"""

from __future__ import annotations

from datetime import date, timedelta

from overture.skills.context.dates import Scope
from overture.skills.context.needs import Need
from overture.skills.providers.base import Availability, Block, FulfilEnv, NeedResult, unavailable
from overture.skills.providers.periods import day, month, week
from overture.skills.providers.vault import Vault

CONFIG_NOTES = ("CLAUDE.md", "AGENTS.md")
CONFIG_PREFIXES = ("config", "vault", "settings")


def _dates(period: str, target: date, offset: int, count: int) -> list[date]:
    """The first day of each wanted period: the target's own (offset 0) or the ``count``
    before it, most recent first."""
    step = {"daily": day, "weekly": week, "monthly": month}[period]
    current = step(target).start
    out = [current] if offset == 0 else []
    while len(out) < count:
        current = step(current - timedelta(days=1)).start
        out.append(current)
    return out


def reference(env: FulfilEnv) -> date:
    """The day the run's period is counted from: a week belongs to the month of its Thursday
    (ISO 8601), so "last month" for the week of 30 November is November."""
    target = env.target
    return target.start + timedelta(days=3) if target.scope is Scope.WEEK else target.target_date


def periodic(need: Need, env: FulfilEnv) -> NeedResult:
    """The periodic notes the bullet asks for, from the vault's Periodic folder."""
    vault = env.require_vault()
    period = need.params.get("period", "daily")
    count = max(1, int(need.params.get("count", "1")))
    offset = int(need.params.get("offset", "0"))
    optional = bool(need.params.get("optional"))
    folder = vault.periodic_folder(period)
    if folder is None:
        reason = f"no {period.capitalize()} folder under {vault.layout.periodic}"
        if optional:
            return NeedResult(need, Availability.ABSENT, f"None archived ({reason})", count=0)
        return unavailable(need, reason)
    wanted = _dates(period, reference(env), offset, count)
    blocks, sources, names = [], [], []
    for when in wanted:
        note = vault.periodic_note(period, when)
        if note is None:
            continue
        rel = vault.relative(note)
        text = vault.read(note)
        blocks.append(Block(f"{need.label}: {note.stem}", text, rel))
        sources.append(rel)
        names.append(note.stem)
    where = vault.relative(folder)
    if not blocks:
        first = _dates(period, reference(env), offset, 1)[0]
        label = first.isoformat() if period == "daily" else first.strftime("%Y-%m")
        if period == "weekly":
            iso = first.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
        reason = f"no {period} note for {label} in {where}" if count == 1 else f"none archived in {where}"
        if optional:
            return NeedResult(need, Availability.ABSENT, f"None archived yet ({reason})", count=0)
        return unavailable(need, reason)
    return NeedResult(
        need,
        Availability.LOADED,
        f"{', '.join(names)} loaded from {where}",
        blocks=tuple(blocks),
        sources=tuple(sources),
        count=len(blocks),
        data={
            "notes": [
                {"name": n, "path": s, "content": b.body}
                for n, s, b in zip(names, sources, blocks, strict=True)
            ]
        },
    )


def layout_text(vault: Vault) -> str:
    """The layout as a list: each role, its folder, and whether it is there."""
    lines = []
    for role, folder in vault.layout.roles().items():
        there = (vault.root / folder).is_dir()
        lines.append(f"- {role}: {folder}" + ("" if there else " (not in this vault)"))
    for period in ("daily", "weekly", "monthly"):
        found = vault.periodic_folder(period)
        if found is not None:
            lines.append(f"- {period} notes: {vault.relative(found)}/ (periodic-notes file names)")
    return "\n".join(lines)


def vault_config(need: Need, env: FulfilEnv) -> NeedResult:
    """Where things live in the vault, and its configuration notes if it keeps any."""
    vault = env.require_vault()
    named = need.params.get("file")
    notes = [note] if named and (note := vault.find_note(named)) is not None else []
    notes += [
        vault.root / n for n in CONFIG_NOTES if (vault.root / n).is_file() and vault.inside(vault.root / n)
    ]
    notes += [p for p in vault.notes(vault.layout.systemic) if p.stem.lower().startswith(CONFIG_PREFIXES)]
    notes = list(dict.fromkeys(notes))
    blocks = [Block("Vault layout", layout_text(vault), ".")]
    sources: list[str] = []
    for note in notes:
        rel = vault.relative(note)
        blocks.append(Block(f"Vault configuration ({note.name})", vault.read(note), rel))
        sources.append(rel)
    names = ", ".join(n.name for n in notes)
    summary = "Layout detected" + (f", configuration loaded ({names})" if names else "")
    return NeedResult(
        need,
        Availability.LOADED,
        summary,
        blocks=tuple(blocks),
        sources=tuple(sources),
        count=len(blocks),
        data={"layout": vault.layout.roles()},
    )
