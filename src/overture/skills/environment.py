"""Where a skill run gets its sources: the vault, the calendar, the model, the need types.

The model comes from the settings (``llm_provider`` and friends): with ``openai`` or
``anthropic`` the prose is executed, and unrecognised bullets classified, by that provider;
with ``offline`` (and when no settings are given) the offline model drafts what it can.
Settings has no fields for the rest yet, so each is taken from an explicit argument, else an
``OVERTURE_*`` environment variable, else a default (the planner pack's sample vault, and the
``.ics`` files in the vault's Calendars folder).

A deployment shared by several people gives each their own vault with a template,
``OVERTURE_VAULT=/srv/vaults/{user}``: a job's step and a console session then read and write
the vault of the job's or the signed-in person's user id (:meth:`SkillEnvironment.for_user`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path

from overture.errors import ValidationFailed
from overture.llm.factory import provider_from_settings
from overture.settings import Settings
from overture.skills.context.classifier import ModelNeedClassifier
from overture.skills.context.dates import MON_FRI, zone
from overture.skills.context.fulfil import DEFAULT_TIMEOUT_S
from overture.skills.context.needs import NeedRegistry
from overture.skills.prose.llm import NeedClassifier, OfflineProseModel, ProseModel
from overture.skills.prose.model import ModelProseModel
from overture.skills.providers.base import Provider
from overture.skills.providers.builtin import BUILTIN_PROVIDERS
from overture.skills.providers.calendar import CalendarSource, IcsCalendar
from overture.skills.providers.vault import Vault

ENV_VAULT = "OVERTURE_VAULT"
ENV_CALENDAR = "OVERTURE_CALENDAR"
ENV_TIMEZONE = "OVERTURE_TIMEZONE"
USER_PLACEHOLDER = "{user}"
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")


def user_vault(template: str, user_id: str) -> Path:
    """``user_id``'s vault under a per-user template; an id that could leave the template's
    folder (``..``, a slash) names no vault."""
    if not _FOLDER_NAME.fullmatch(user_id) or ".." in user_id:
        raise ValidationFailed(f"the user id {user_id!r} cannot name a vault folder")
    return Path(template.replace(USER_PLACEHOLDER, user_id)).expanduser()


@dataclass(frozen=True)
class SkillEnvironment:
    """Everything a run needs besides the skill, the moment and the date argument.
    ``classifier`` places bullets the pattern table left over; without one, a ``model`` that
    can classify does it."""

    vault: Vault
    calendar: CalendarSource | None
    model: ProseModel
    needs: NeedRegistry
    timezone: str | tzinfo = "UTC"
    timeout_s: float = DEFAULT_TIMEOUT_S
    workdays: frozenset[int] = MON_FRI
    providers: Mapping[str, Provider] = field(default_factory=lambda: dict(BUILTIN_PROVIDERS))
    classifier: NeedClassifier | None = None
    vault_template: str | None = None
    calendar_from_vault: bool = False

    def for_user(self, user_id: str) -> SkillEnvironment:
        """The environment of one person: their own vault (and its calendars) when the vault is
        a per-user template; this environment itself when everyone shares one vault."""
        if self.vault_template is None:
            return self
        vault = Vault(user_vault(self.vault_template, user_id))
        calendar = self.calendar
        if self.calendar_from_vault:
            files = [str(p) for p in vault.calendar_files()]
            calendar = IcsCalendar(files) if files else None
        return replace(self, vault=vault, calendar=calendar)

    @property
    def per_user(self) -> bool:
        return self.vault_template is not None

    def with_timezone(self, tz: str | tzinfo) -> SkillEnvironment:
        zone(tz)
        return replace(self, timezone=tz)

    def provider_for(self, kind: str) -> Provider | None:
        """A pack's own provider for its need type, else the built-in one."""
        need_type = self.needs.get(kind)
        if need_type is not None and need_type.provider is not None:
            return need_type.provider
        return self.providers.get(kind)

    def close(self) -> None:
        """Release the model provider's connections (a CLI run ends; an App's live on)."""
        closed: list[object] = []
        for part in (self.model, self.classifier):
            provider = getattr(part, "provider", None)
            close = getattr(provider, "close", None)
            if provider is not None and callable(close) and not any(provider is c for c in closed):
                closed.append(provider)
                close()


def models_from_settings(settings: Settings) -> tuple[ProseModel, NeedClassifier | None]:
    """The prose model and classifier ``settings.llm_provider`` calls for: the offline model
    and no classifier, or both backed by the configured provider (one client, shared)."""
    if settings.llm_provider == "offline":
        return OfflineProseModel(), None
    provider = provider_from_settings(settings)
    return ModelProseModel(provider), ModelNeedClassifier(provider)


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
    settings: Settings | None = None,
    classifier: NeedClassifier | None = None,
) -> SkillEnvironment:
    """An environment from explicit choices, the environment variables, and defaults.

    Without an explicit ``model``, ``settings`` choose the model and the classifier (see
    :func:`models_from_settings`); without settings either, the run is offline. A provider
    that is configured but lacks its model or key is a ValidationFailed naming the setting.
    """
    root = vault_path(vault, default_vault)
    template = str(root) if root is not None and USER_PLACEHOLDER in str(root) else None
    # With a template, this vault is never read: every run goes through for_user first.
    the_vault = Vault(root if root is not None else Path("vault"))
    if isinstance(calendar, str):
        calendar = [calendar]
    source: CalendarSource | None
    from_vault = False
    if calendar is None or isinstance(calendar, Sequence):
        named = calendar_sources(list(calendar or ()), None)
        from_vault = not named
        sources = named or ([] if template else calendar_sources((), the_vault))
        source = IcsCalendar(sources) if sources else None
    else:
        source = calendar
    tz = timezone or os.environ.get(ENV_TIMEZONE) or "UTC"
    zone(tz)
    if model is None:
        model, configured = models_from_settings(settings) if settings else (OfflineProseModel(), None)
        classifier = classifier or configured
    return SkillEnvironment(
        vault=the_vault,
        calendar=source,
        model=model,
        needs=needs or NeedRegistry.builtin(),
        timezone=tz,
        timeout_s=timeout_s,
        classifier=classifier,
        vault_template=template,
        calendar_from_vault=from_vault,
    )
