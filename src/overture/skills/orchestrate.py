"""One skill run, start to finish, as the seed's orchestration flow (steps 1-5 are
:func:`assemble`, shared with the session of :mod:`overture.skills.session`):

1. no ``orchestrated: true`` or no ``## Context`` → run the prose directly;
2. resolve the date argument (default: the skill's ``date`` default, else today), widened to
   the period the skill states (a weekly skill run for "tomorrow" plans tomorrow's week);
3. map each Context bullet to needs (a model classifies the leftovers, when there is one);
4. fulfil the needs concurrently; 5. render "Loading context for …";
6. execute the whole body after the Context section, writing only through the vault tool;
7. summarise (:func:`finish`): ``Drafted (no session)`` unless the person took part.

Writes are staged; the caller says whether to carry them out now (the CLI) or hand them back
(a sequence step queues them as outbox effects). Every model call goes through one
:class:`CallMeter` per run, which a sequence step ties to its ``StepContext`` so the calls'
cost reaches the cost ledger; the summary names what the calls cost.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overture.llm.base import LLMResult
from overture.skills.context.dates import ResolvedDate, zone
from overture.skills.context.fulfil import fulfil
from overture.skills.context.loading import render_loading
from overture.skills.context.needs import Need, NeedRegistry
from overture.skills.context.scope import resolve_for
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
from overture.skills.summary import Summary, render_summary, summarise


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


@dataclass(frozen=True)
class Assembly:
    """Steps 1 to 5 of a run: the date, the fulfilled needs and the "Loading context" text.
    ``run`` and ``chat`` start from the same assembly, so they load exactly the same context."""

    skill: SkillFile
    date: ResolvedDate
    results: tuple[NeedResult, ...]
    unrecognised: tuple[Bullet, ...]
    notes: tuple[str, ...]
    loading: str
    ms: float = 0.0

    @property
    def context(self) -> LoadedContext:
        return LoadedContext(self.skill.name, self.date, self.loading, self.results)


async def assemble(
    skill: SkillFile,
    env: SkillEnvironment,
    now: datetime,
    date_expr: str | None = None,
    meter: CallMeter | None = None,
) -> Assembly:
    """Resolve the date, map the Context bullets to needs and fulfil them concurrently; a bad
    date argument raises, a missing source degrades."""
    started = time.perf_counter()
    date = resolve_for(skill, date_expr, now, env.timezone, env.workdays)
    if not skill.runs_orchestrated:
        return Assembly(skill, date, (), (), (), "", (time.perf_counter() - started) * 1000)
    meter = meter if meter is not None else CallMeter()
    classifier = bound(env.classifier, meter) if env.classifier is not None else bound(env.model, meter)
    needs, unrecognised, notes = await _needs(skill, env.needs, classifier)
    providers: dict[str, Provider] = {}
    for need in needs:
        provider = env.provider_for(need.kind)
        if provider is not None:
            providers[need.kind] = provider
    fulfil_env = FulfilEnv(date, zone(env.timezone), now, env.vault, env.calendar)
    results = tuple(await fulfil(needs, providers, fulfil_env, env.timeout_s))
    loading = render_loading(skill.name, date, results, unrecognised)
    ms = (time.perf_counter() - started) * 1000
    return Assembly(skill, date, results, unrecognised, tuple(notes), loading, ms)


async def run_skill(
    skill: SkillFile,
    env: SkillEnvironment,
    now: datetime,
    date_expr: str | None = None,
    apply_writes: bool = True,
    meter: CallMeter | None = None,
    dry_run: bool = False,
) -> SkillRun:
    """Run ``skill`` at the moment ``now`` without the person: the prose is executed once (by
    the model, or drafted offline), so the run ends ``Drafted (no session)``. Writes are made
    now (``apply_writes``), handed back (a step queues them) or, in a ``dry_run``, reported as
    what would be written. ``meter`` carries the model calls' cost to a sequence step."""
    meter = meter if meter is not None else CallMeter()
    assembly = await assemble(skill, env, now, date_expr, meter)
    tools = VaultTools(env.vault)
    output = await _execute(bound(env.model, meter), skill.prose_text, assembly.context, tools)
    writes = tuple(tools.staged)
    if apply_writes and not dry_run:
        tools.commit()
    return finish(assembly, env, output, writes, meter.results, dry_run=dry_run)


def finish(
    assembly: Assembly,
    env: SkillEnvironment,
    output: ProseResult,
    writes: tuple[StagedWrite, ...],
    calls: tuple[LLMResult[Any], ...],
    dry_run: bool = False,
) -> SkillRun:
    """Step 7: the summary of what was loaded, what was done (or would be, in a dry run) and
    what the person decided, with the status the outcome earned."""
    actions = [
        *assembly.notes,
        *(w.action(env.vault, dry_run) for w in writes),
        *output.actions,
    ]
    if calls:
        actions.append(ModelUsage.of(calls).line())
    skill = assembly.skill
    summary = summarise(
        skill.name,
        assembly.results,
        assembly.unrecognised,
        actions,
        direct=not skill.runs_orchestrated,
        outcome=output.outcome,
        problems=output.problems,
    )
    return SkillRun(
        skill.name,
        assembly.date,
        assembly.results,
        assembly.unrecognised,
        assembly.loading,
        output,
        writes,
        summary,
        calls,
    )


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
