"""One skill run, start to finish, as the seed's orchestration flow:

1. no ``orchestrated: true`` or no ``## Context`` → run the prose directly;
2. resolve the date argument (default: the skill's ``date`` default, else today);
3. map each Context bullet to needs (a model classifies the leftovers, when there is one);
4. fulfil the needs concurrently; 5. render "Loading context for …";
6. execute the prose after the Context section, writing only through the vault tool;
7. summarise.

Writes are staged; the caller says whether to carry them out now (the CLI) or hand them back
(a sequence step queues them as outbox effects). Every model call goes through one
:class:`CallMeter` per run, which a sequence step ties to its ``StepContext`` so the calls'
cost reaches the cost ledger; the summary names what the calls cost.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from overture.llm.base import LLMResult
from overture.skills.context.dates import ResolvedDate, resolve_date, zone
from overture.skills.context.fulfil import fulfil
from overture.skills.context.loading import render_loading
from overture.skills.context.needs import Need, NeedRegistry
from overture.skills.environment import SkillEnvironment
from overture.skills.prose.llm import (
    BulletClassifier,
    Classification,
    LoadedContext,
    NeedClassifier,
    ProseModel,
    ProseResult,
)
from overture.skills.prose.metering import CallMeter, ModelUsage, bound, failure
from overture.skills.prose.vault_tools import StagedWrite, VaultTools
from overture.skills.providers.base import FulfilEnv, NeedResult, Provider
from overture.skills.skillfile import Bullet, SkillFile
from overture.skills.summary import RunStatus, Summary, render_summary, summarise


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
    calls: tuple[LLMResult[Any], ...] = ()

    @property
    def usage(self) -> ModelUsage:
        """What the run's model calls cost, all of them (classification and the prose)."""
        return ModelUsage.of(self.calls)

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
            "usage": self.usage.as_dict(),
            "reply": self.output.text if self.output.completed else "",
        }


async def run_skill(
    skill: SkillFile,
    env: SkillEnvironment,
    now: datetime,
    date_expr: str | None = None,
    apply_writes: bool = True,
    meter: CallMeter | None = None,
) -> SkillRun:
    """Run ``skill`` at the moment ``now``; a bad date argument raises, a missing source degrades.
    ``meter`` carries the model calls' cost to a sequence step (a fresh one when not given)."""
    date = resolve_date(date_expr or skill.default_for("date"), now, env.timezone, env.workdays)
    meter = meter if meter is not None else CallMeter()
    model = bound(env.model, meter)
    classifier = bound(env.classifier, meter) if env.classifier is not None else model
    tools = VaultTools(env.vault)
    results: tuple[NeedResult, ...] = ()
    unrecognised: tuple[Bullet, ...] = ()
    notes: list[str] = []
    loading = ""
    if skill.runs_orchestrated:
        needs, unrecognised, notes = await _needs(skill, env.needs, classifier)
        providers: dict[str, Provider] = {}
        for need in needs:
            provider = env.provider_for(need.kind)
            if provider is not None:
                providers[need.kind] = provider
        fulfil_env = FulfilEnv(date, zone(env.timezone), now, env.vault, env.calendar)
        results = tuple(await fulfil(needs, providers, fulfil_env, env.timeout_s))
        loading = render_loading(skill.name, date, results, unrecognised)
    context = LoadedContext(skill.name, date, loading, results)
    output = await _execute(model, skill.prose_text, context, tools)
    writes = tuple(tools.staged)
    if apply_writes:
        tools.commit()
    calls = meter.results
    actions = [*notes, *(w.action(env.vault) for w in writes), *output.actions]
    if calls:
        actions.append(ModelUsage.of(calls).line())
    summary = summarise(skill.name, results, unrecognised, actions, direct=not skill.runs_orchestrated)
    if output.problems:
        summary = replace(
            summary, status=RunStatus.DEGRADED, unavailable=(*summary.unavailable, *output.problems)
        )
    return SkillRun(skill.name, date, results, unrecognised, loading, output, writes, summary, calls)


async def _needs(
    skill: SkillFile, registry: NeedRegistry, classifier: object
) -> tuple[list[Need], tuple[Bullet, ...], list[str]]:
    """The pattern table first; a classifier, when there is one, gets what the table left over
    (each bullet in a thread of its own, since a model call blocks). Returns the needs, the
    bullets still not understood, and a note on each classification for the summary."""
    plan = registry.plan(skill.bullets)
    needs = list(plan.needs)
    if not plan.unrecognised or not isinstance(classifier, BulletClassifier | NeedClassifier):
        return needs, plan.unrecognised, []
    kinds = registry.kinds
    verdicts = await asyncio.gather(
        *(asyncio.to_thread(_classify, classifier, b.text, kinds) for b in plan.unrecognised)
    )
    left: list[Bullet] = []
    notes: list[str] = []
    for bullet, verdict in zip(plan.unrecognised, verdicts, strict=True):
        need_type = registry.get(verdict.kind) if verdict.kind is not None else None
        if need_type is None:
            left.append(bullet)
            if verdict.note:
                notes.append(f'Could not place "{bullet.text}": {verdict.note}')
            continue
        need = registry.need(need_type.kind, bullet, verdict.params)
        if all(n.key != need.key for n in needs):
            needs.append(need)
        if verdict.note:
            notes.append(f'Classified "{bullet.text}" as {need.label}: {verdict.note}')
    return needs, tuple(left), notes


def _classify(
    classifier: BulletClassifier | NeedClassifier, text: str, kinds: Mapping[str, str]
) -> Classification:
    """One verdict; a classifier that raises leaves the bullet not understood, never the run
    aborted (a pack's classifier may not be as careful as the model one)."""
    try:
        if isinstance(classifier, BulletClassifier):
            return classifier.classify_bullet(text, kinds)
        return Classification(classifier.classify_need(text, kinds))
    except Exception as exc:
        return Classification(None, note=f"the classifier failed ({failure(exc)})")


async def _execute(model: ProseModel, prose: str, context: LoadedContext, tools: VaultTools) -> ProseResult:
    result = model.execute(prose, context, tools)
    if inspect.isawaitable(result):
        return await result
    return result
