"""Where a skill run gets its sources: the vault, the calendar, the model, the need types.

Settings has no fields for these yet, so each is taken from an explicit argument, else an
``OVERTURE_*`` environment variable, else a default (the planner pack's sample vault, and the
``.ics`` files in the vault's Calendars folder).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path

from overture.skills.dates import MON_FRI, zone
from overture.skills.fulfil import DEFAULT_TIMEOUT_S
from overture.skills.llm import OfflineProseModel, ProseModel
from overture.skills.needs import NeedRegistry
from overture.skills.providers.base import Provider
from overture.skills.providers.builtin import BUILTIN_PROVIDERS
from overture.skills.providers.calendar import CalendarSource, IcsCalendar
from overture.skills.providers.vault import Vault

ENV_VAULT = "OVERTURE_VAULT"
ENV_CALENDAR = "OVERTURE_CALENDAR"
ENV_TIMEZONE = "OVERTURE_TIMEZONE"


@dataclass(frozen=True)
class SkillEnvironment:
    """Everything a run needs besides the skill, the moment and the date argument."""

    vault: Vault
    calendar: CalendarSource | None
    model: ProseModel
    needs: NeedRegistry
    timezone: str | tzinfo = "UTC"
    timeout_s: float = DEFAULT_TIMEOUT_S
    workdays: frozenset[int] = MON_FRI
    providers: Mapping[str, Provider] = field(default_factory=lambda: dict(BUILTIN_PROVIDERS))

    def with_timezone(self, tz: str | tzinfo) -> SkillEnvironment:
        zone(tz)
        return replace(self, timezone=tz)

    def provider_for(self, kind: str) -> Provider | None:
        """A pack's own provider for its need type, else the built-in one."""
        need_type = self.needs.get(kind)
        if need_type is not None and need_type.provider is not None:
            return need_type.provider
        return self.providers.get(kind)


def vault_path(explicit: str | Path | None = None, default: Path | None = None) -> Path | None:
    """The vault folder: the argument, else $OVERTURE_VAULT, else ``default``."""
    chosen = explicit or os.environ.get(ENV_VAULT) or default
    return Path(chosen).expanduser() if chosen else None


def calendar_sources(explicit: Sequence[str] = (), vault: Vault | None = None) -> list[str]:
    """Calendar sources: the arguments, else $OVERTURE_CALENDAR (comma-separated files, folders
    or feed URLs), else the ``.ics`` files in the vault's Calendars folder."""
    if explicit:
        return list(explicit)
    env = os.environ.get(ENV_CALENDAR, "")
    if env.strip():
        return [s.strip() for s in env.split(",") if s.strip()]
    return [str(p) for p in vault.calendar_files()] if vault is not None else []


def build_environment(
    *,
    vault: str | Path | None = None,
    default_vault: Path | None = None,
    calendar: CalendarSource | Sequence[str] | None = None,
    model: ProseModel | None = None,
    needs: NeedRegistry | None = None,
    timezone: str | tzinfo | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SkillEnvironment:
    """An environment from explicit choices, the environment variables, and defaults."""
    root = vault_path(vault, default_vault)
    the_vault = Vault(root if root is not None else Path("vault"))
    if isinstance(calendar, str):
        calendar = [calendar]
    source: CalendarSource | None
    if calendar is None or isinstance(calendar, Sequence):
        sources = calendar_sources(list(calendar or ()), the_vault)
        source = IcsCalendar(sources) if sources else None
    else:
        source = calendar
    tz = timezone or os.environ.get(ENV_TIMEZONE) or "UTC"
    zone(tz)
    return SkillEnvironment(
        vault=the_vault,
        calendar=source,
        model=model or OfflineProseModel(),
        needs=needs or NeedRegistry.builtin(),
        timezone=tz,
        timeout_s=timeout_s,
    )
