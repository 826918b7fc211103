"""What a loaded sequence is: steps with their kinds, policies, gates and source lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Literal

Loc = tuple[str | int, ...]
ApprovalPattern = Literal["draft", "confirm", "select"]
ActiveHours = Literal["defer", "ignore"]


class StepKind(StrEnum):
    SKILL = "skill"
    FUNCTION = "function"
    CRM = "crm"
    NOTIFY = "notify"
    FOLLOWUP = "followup"


class FailurePolicy(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failed step is tried again."""

    attempts: int = 1
    backoff: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    max_backoff: timedelta = timedelta(minutes=5)

    def delay(self, failed_attempts: int) -> timedelta:
        """Wait before the next try: backoff * factor ** (failed_attempts - 1), capped."""
        cap = self.max_backoff.total_seconds()
        try:
            seconds = self.backoff.total_seconds() * self.factor ** (max(failed_attempts, 1) - 1)
        except OverflowError:
            seconds = cap
        return timedelta(seconds=min(seconds, cap))


@dataclass(frozen=True, slots=True)
class ApprovalSpec:
    """A human-in-the-loop gate in front of a step."""

    pattern: ApprovalPattern
    expires: timedelta = timedelta(hours=48)
    title: str | None = None


@dataclass(frozen=True, slots=True)
class DedupeSpec:
    """Which payload fields make two events "the same", and for how long."""

    fields: tuple[str, ...]
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class PayloadField:
    """One field a sequence needs from its event's payload: a dotted path, a type, required?"""

    path: str
    type: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class PayloadSchema:
    """The fields a sequence needs from its event's payload (checked by ``payload.py``)."""

    fields: tuple[PayloadField, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a sequence; inputs are frozen (mappings read-only, lists as tuples)."""

    index: int
    name: str
    uses: str
    kind: StepKind
    target: str
    inputs: Mapping[str, Any]
    when: str | None
    ai: bool
    on_failure: FailurePolicy
    retry: RetryPolicy
    timeout: timedelta | None
    requires_context: tuple[str, ...]
    effect: bool
    approval: ApprovalSpec | None
    line: int


@dataclass(frozen=True, slots=True)
class Sequence:
    """What happens, step by step, when one event type arrives."""

    event_type: str
    description: str
    active_hours: ActiveHours
    dedupe: DedupeSpec | None
    steps: tuple[Step, ...]
    path: str
    lines: Mapping[Loc, int] = field(default_factory=dict, repr=False, compare=False)
    payload: PayloadSchema | None = None

    @property
    def uses_ai(self) -> bool:
        """Whether any step spends AI budget."""
        return any(step.ai for step in self.steps)

    def line_of(self, *path: str | int) -> int | None:
        """Line of a field such as ("steps", 2, "uses"), else of its nearest ancestor."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None
