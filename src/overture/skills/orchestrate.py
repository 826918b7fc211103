"""One skill run, start to finish, as the seed's orchestration flow:

1. no ``orchestrated: true`` or no ``## Context`` → run the prose directly;
2. resolve the date argument (default: the skill's ``date`` default, else today);
3. map each Context bullet to needs (a model classifies the leftovers, when there is one);
4. fulfil the needs concurrently; 5. render "Loading context for …";
6. execute the prose after the Context section, writing only through the vault tool;
7. summarise.

Writes are staged; the caller says whether to carry them out now (the CLI) or hand them back
(a sequence step queues them as outbox effects).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overture.skills.dates import ResolvedDate, resolve_date, zone
from overture.skills.environment import SkillEnvironment
from overture.skills.fulfil import fulfil
from overture.skills.llm import LoadedContext, NeedClassifier, ProseModel, ProseResult
from overture.skills.loading import render_loading
from overture.skills.needs import Need, NeedRegistry
from overture.skills.providers.base import FulfilEnv, NeedResult, Provider
from overture.skills.skillfile import Bullet, SkillFile
from overture.skills.summary import Summary, render_summary, summarise
from overture.skills.vault_tools import StagedWrite, VaultTools


@dataclass(frozen=True)
class SkillRun:
    """Everything one run produced."""

    skill: str
    date: ResolvedDate | None
    results: tuple[NeedResult, ...]
    unrecognised: tuple[Bullet, ...]
    loading: str
    output: ProseResult
    writes: tuple[StagedWrite, ...]
    summary: Summary

    @property
    def markdown(self) -> str:
        return render_summary(self.summary)

    def as_json(self) -> dict[str, Any]:
        """The step output: name, status, context, actions, unavailable, summary, and detail."""
        return {
            **self.summary.as_dict(),
            "context": [r.as_dict() for r in self.results],
            "context_lines": list(self.summary.context),
            "date": self.date.as_dict() if self.date else None,
            "not_understood": [{"text": b.text, "line": b.line} for b in self.unrecognised],
            "writes": [{"path": w.path, "mode": w.mode.value} for w in self.writes],
            "model": {
                "provider": self.output.provider,
                "model": self.output.model,
                "ran": self.output.completed,
            },
        }


async def run_skill(
    skill: SkillFile,
    env: SkillEnvironment,
    now: datetime,
    date_expr: str | None = None,
    apply_writes: bool = True,
) -> SkillRun:
    """Run ``skill`` at the moment ``now``; a bad date argument raises, a missing source degrades."""
    date = resolve_date(date_expr or skill.default_for("date"), now, env.timezone, env.workdays)
    tools = VaultTools(env.vault)
    results: tuple[NeedResult, ...] = ()
    unrecognised: tuple[Bullet, ...] = ()
    loading = ""
    if skill.runs_orchestrated:
        needs, unrecognised = _needs(skill, env.needs, env.model)
        providers: dict[str, Provider] = {}
        for need in needs:
            provider = env.provider_for(need.kind)
            if provider is not None:
                providers[need.kind] = provider
        fulfil_env = FulfilEnv(date, zone(env.timezone), now, env.vault, env.calendar)
        results = tuple(await fulfil(needs, providers, fulfil_env, env.timeout_s))
        loading = render_loading(skill.name, date, results, unrecognised)
    context = LoadedContext(skill.name, date, loading, results)
    output = await _execute(env.model, skill.prose_text, context, tools)
    writes = tuple(tools.staged)
    if apply_writes:
        tools.commit()
    actions = [w.action(env.vault) for w in writes] + list(output.actions)
    summary = summarise(skill.name, results, unrecognised, actions, direct=not skill.runs_orchestrated)
    return SkillRun(skill.name, date, results, unrecognised, loading, output, writes, summary)


def _needs(
    skill: SkillFile, registry: NeedRegistry, model: ProseModel
) -> tuple[list[Need], tuple[Bullet, ...]]:
    """The pattern table first; a model that can classify gets what the table left over."""
    plan = registry.plan(skill.bullets)
    needs = list(plan.needs)
    left: list[Bullet] = []
    for bullet in plan.unrecognised:
        kind = model.classify_need(bullet.text, registry.kinds) if isinstance(model, NeedClassifier) else None
        if kind is not None and registry.get(kind) is not None:
            needs.append(registry.need(kind, bullet))
        else:
            left.append(bullet)
    return needs, tuple(left)


async def _execute(model: ProseModel, prose: str, context: LoadedContext, tools: VaultTools) -> ProseResult:
    result = model.execute(prose, context, tools)
    if inspect.isawaitable(result):
        return await result
    return result
