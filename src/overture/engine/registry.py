"""What packs register: skills, functions, CRM actions, effect handlers, providers and sequences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from overture.core.schedules import ScheduleSpec
from overture.engine.pack_checks import handler_problems, typed_problems
from overture.engine.typed_skills import TypedHandler, marked, typed_handler
from overture.errors import SequenceFileError
from overture.sequences import Sequence, StepKind

if TYPE_CHECKING:
    from overture.core.step_context import EffectRequest, StepContext
    from overture.storage.store import Store

StepFn = Callable[["StepContext", dict[str, Any]], Any]
EffectFn = Callable[["EffectRequest"], Any]
ProviderFn = Callable[["ProviderRequest"], Any]
F = TypeVar("F", bound=Callable[..., Any])

GATE_PATTERNS = ("draft", "confirm", "select")
_KIND_LABEL = {StepKind.SKILL: "skill", StepKind.FUNCTION: "function", StepKind.CRM: "CRM action"}


@dataclass(frozen=True)
class ProviderRequest:
    """What a context provider is given: who, what the event said, and the database."""

    store: Store
    org_id: str
    user_id: str
    payload: dict[str, Any]
    context: dict[str, Any]
    now: datetime | None = None


@dataclass
class Registry:
    """Everything the engine can call, by key. Packs fill it; the runner reads it."""

    handlers: dict[tuple[StepKind, str], StepFn] = field(default_factory=dict)
    effects: dict[str, EffectFn] = field(default_factory=dict)
    tier2: dict[str, ProviderFn] = field(default_factory=dict)
    tier3: dict[str, ProviderFn] = field(default_factory=dict)
    sequences: dict[str, Sequence] = field(default_factory=dict)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    descriptions: dict[tuple[StepKind, str], str] = field(default_factory=dict)
    gated: dict[tuple[StepKind, str], str] = field(default_factory=dict)
    typed: dict[tuple[StepKind, str], TypedHandler] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    def _add(self, kind: StepKind, key: str, fn: Callable[..., Any], gate: str | None) -> None:
        if (kind, key) in self.handlers:
            raise ValueError(f"{_KIND_LABEL[kind]} {key!r} is registered twice")
        if gate is not None and gate not in GATE_PATTERNS:
            raise ValueError(f"gate for {key!r} must be one of {', '.join(GATE_PATTERNS)}")
        spec = typed_handler(kind, key, fn, gate)
        if spec is not None:
            self.typed[(kind, key)] = spec
            fn = spec.step_fn()
        self.handlers[(kind, key)] = fn
        self.descriptions[(kind, key)] = ((fn.__doc__ or "").strip().splitlines() or [""])[0]
        if gate is not None:
            self.gated[(kind, key)] = gate

    def skill(self, key: str, *, gate: str | None = None) -> Callable[[F], F]:
        """Register a Python skill under ``key`` (``uses: skill:KEY``).

        ``gate`` names the approval pattern policy requires before this skill may run (an email
        send needs ``draft``): a sequence that uses it without that gate does not load, and no
        preference can waive it.
        """

        def deco(fn: F) -> F:
            self._add(StepKind.SKILL, key, fn, gate)
            return fn

        return deco

    def function(self, name: str, *, gate: str | None = None) -> Callable[[F], F]:
        """Register an adapter function (``uses: function:NAME``); ``gate`` as for skills."""

        def deco(fn: F) -> F:
            self._add(StepKind.FUNCTION, name, fn, gate)
            return fn

        return deco

    def crm(self, action: str, *, gate: str | None = None) -> Callable[[F], F]:
        """Register a CRM action (``uses: crm:ACTION``); ``gate`` as for skills."""

        def deco(fn: F) -> F:
            self._add(StepKind.CRM, action, fn, gate)
            return fn

        return deco

    def add(self, *fns: Callable[..., Any]) -> None:
        """Register functions marked with ``typed_skills.skill`` or ``function`` under their keys."""
        for fn in fns:
            spec = marked(fn)
            if spec is None:
                raise ValueError(f"{getattr(fn, '__name__', fn)!r} is not marked with @skill or @function")
            self._add(spec.kind, spec.key, fn, spec.gate)

    def effect(self, kind: str) -> Callable[[F], F]:
        """Register the handler that carries out outbox effects of ``kind`` after commit."""

        def deco(fn: F) -> F:
            self.effects[kind] = fn
            return fn

        return deco

    def add_sequence(self, sequence: Sequence) -> None:
        if sequence.event_type in self.sequences:
            other = self.sequences[sequence.event_type].path
            raise SequenceFileError(
                sequence.path,
                1,
                "event_type",
                f"{sequence.event_type!r} is also defined in {other}",
            )
        self.sequences[sequence.event_type] = sequence

    def add_schedule(self, spec: ScheduleSpec) -> None:
        if any(s.name == spec.name for s in self.schedules):
            raise ValueError(f"schedule {spec.name!r} is declared twice")
        self.schedules.append(spec)

    def handler(self, kind: StepKind, key: str) -> StepFn | None:
        return self.handlers.get((kind, key))

    def problems(self) -> list[SequenceFileError]:
        """Steps that name a skill, function or CRM action nobody registered, handlers the runner
        cannot call, ungated steps policy wants gated, and typed inputs and outputs that do not
        match what the sequences give and read."""
        errors = handler_problems(self.handlers)
        for seq in self.sequences.values():
            for step in seq.steps:
                if step.kind in _KIND_LABEL and (step.kind, step.target) not in self.handlers:
                    known = sorted(k for kk, k in self.handlers if kk == step.kind)
                    hint = f"; known: {', '.join(known)}" if known else ""
                    errors.append(
                        SequenceFileError(
                            seq.path,
                            seq.line_of("steps", step.index, "uses") or step.line,
                            f"steps[{step.index}].uses",
                            f"no {_KIND_LABEL[step.kind]} named {step.target!r} is registered{hint}",
                        )
                    )
        for seq in self.sequences.values():
            for step in seq.steps:
                required = self.gated.get((step.kind, step.target))
                if required and (step.approval is None or step.approval.pattern != required):
                    errors.append(
                        SequenceFileError(
                            seq.path,
                            seq.line_of("steps", step.index) or step.line,
                            f"steps[{step.index}].approval",
                            f"{step.target!r} may only run behind a {required!r} approval gate "
                            "(policy: every email send, deal-stage change and task from detected "
                            "intents is approved by a person)",
                        )
                    )
        for spec in self.schedules:
            if spec.event_type not in self.sequences:
                errors.append(
                    SequenceFileError(
                        "schedules",
                        None,
                        f"{spec.name}.event_type",
                        f"no sequence handles event type {spec.event_type!r}",
                    )
                )
        return errors + typed_problems(self.sequences, self.typed)
