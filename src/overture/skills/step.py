"""Prose skills as sequence steps: ``uses: skill:planning-daily``.

The step's output is the run's summary as JSON. Vault writes are not made inside the step: they
are queued as outbox effects, so they happen once, after the step is recorded, and a step run
again after a crash writes nothing twice (the engine's rule for every external effect).
Model calls are recorded on the step as they are made (through the run's meter), so their
cost reaches the cost ledger with the step's record and counts against the org's AI budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from overture.core.step_context import EffectRequest, StepContext
from overture.engine.registry import Registry, StepFn
from overture.settings import Settings
from overture.skills.context.fulfil import DEFAULT_TIMEOUT_S
from overture.skills.context.needs import NeedRegistry
from overture.skills.crm_calendar import events_between
from overture.skills.environment import SkillEnvironment, build_environment, user_vault
from overture.skills.orchestrate import run_skill
from overture.skills.prose.llm import NeedClassifier, ProseModel
from overture.skills.prose.metering import CallMeter
from overture.skills.prose.vault_tools import VaultEscape, apply_write
from overture.skills.providers.calendar import CalendarSource, CallableCalendar
from overture.skills.skillfile import SkillFile, load_skill_dir

VAULT_WRITE = "skills.vault_write"
SESSIONS = "skills.sessions"
"""Registry extension: skill name → (skill, environment), for sessions held in the console."""


class VaultWriteEffect:
    """Carries out queued vault writes, only into vaults a pack registered, or the job's own
    user's vault under a registered per-user template (the payload comes back from the
    database; it does not get to choose the folder)."""

    def __init__(self) -> None:
        self.roots: set[Path] = set()
        self.templates: set[str] = set()

    def allowed(self, root: Path, user_id: str) -> bool:
        if root in self.roots:
            return True
        if not user_id:
            return False
        return any(user_vault(t, user_id).resolve() == root for t in self.templates)

    def __call__(self, effect: EffectRequest) -> None:
        root = Path(str(effect.payload["vault"])).resolve()
        if not self.allowed(root, str(effect.payload.get("user") or "")):
            raise VaultEscape(f"{root} is not a registered vault")
        apply_write(root, str(effect.payload["path"]), str(effect.payload["content"]))


def _user_timezone(ctx: StepContext) -> str | None:
    user = (ctx.context.get("tier1") or {}).get("user") or {}
    tz = user.get("timezone")
    return str(tz) if tz else None


def prose_step(skill: SkillFile, env: SkillEnvironment) -> StepFn:
    """The step handler for one skill. Inputs: ``date`` (an expression; empty means the
    skill's default) and ``timezone`` (default: the job's user's time zone)."""

    def run_prose_skill(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        tz = inputs.get("timezone") or _user_timezone(ctx) or env.timezone
        date = str(inputs.get("date") or "").strip() or None
        # A loop of its own, closed when the run ends: the engine's Invoker would run an async
        # handler on a private loop that nothing ever closes.
        meter = CallMeter(ctx)
        run_env = env.for_user(ctx.user_id).with_timezone(tz)
        crm_events = (ctx.context.get("tier3") or {}).get("crm_calendar")
        if crm_events:  # the CRM knows this user's calendar: it beats the vault's .ics files
            run_env = replace(run_env, calendar=CallableCalendar(events_between(crm_events)))
        run = asyncio.run(run_skill(skill, run_env, ctx.now, date, apply_writes=False, meter=meter))
        for write in run.writes:
            payload = {
                "vault": str(run_env.vault.root.resolve()),
                "user": ctx.user_id,
                "path": write.path,
                "content": write.content,
            }
            ctx.effect(VAULT_WRITE, payload)
        out = run.output
        if not run.calls and (out.input_tokens or out.output_tokens or out.usd):
            # A model of a pack's own that reports usage without going through the meter.
            ctx.cost(out.provider, out.model, out.input_tokens, out.output_tokens, out.usd)
        return run.as_json()

    run_prose_skill.__doc__ = skill.description or f"The prose skill {skill.name}."
    run_prose_skill.__name__ = f"skill_{skill.name.replace('-', '_')}"
    return run_prose_skill


def register_prose_skills(
    registry: Registry,
    folder: Path,
    settings: Settings,
    *,
    vault: str | Path | None = None,
    default_vault: Path | None = None,
    calendar: CalendarSource | Sequence[str] | None = None,
    model: ProseModel | None = None,
    classifier: NeedClassifier | None = None,
    needs: NeedRegistry | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[SkillFile]:
    """Register every ``folder/*/SKILL.md`` as ``skill:NAME``; returns the skills registered.

    The vault is ``vault``, else $OVERTURE_VAULT, else ``default_vault``; the calendar is
    ``calendar``, else $OVERTURE_CALENDAR, else the vault's Calendars folder. The model is
    ``model``, else the one ``settings.llm_provider`` names (offline by default).
    """
    skills = load_skill_dir(Path(folder))
    env = build_environment(
        vault=vault,
        default_vault=default_vault,
        calendar=calendar,
        model=model,
        classifier=classifier,
        needs=needs,
        timeout_s=timeout_s,
        settings=settings,
    )
    sessions: dict[str, tuple[SkillFile, SkillEnvironment]] = registry.extensions.setdefault(SESSIONS, {})
    for skill in skills.values():
        registry.skill(skill.name)(prose_step(skill, env))
        sessions.setdefault(skill.name, (skill, env))
    writer = registry.effects.get(VAULT_WRITE)
    if not isinstance(writer, VaultWriteEffect):
        writer = VaultWriteEffect()
        registry.effect(VAULT_WRITE)(writer)
    if env.vault_template is not None:
        writer.templates.add(env.vault_template)
    else:
        writer.roots.add(env.vault.root.resolve())
    return list(skills.values())
