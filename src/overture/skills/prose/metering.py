"""Every model call of one skill run goes through a :class:`CallMeter`.

A run asks a model up to a few times (classifying Context bullets, then executing the prose).
Its cost has to land in two places: on the sequence step, where the engine writes it to the
cost ledger with the step's record, so the AI budget counts it exactly once; and in the run's
summary, where a person running the CLI sees what the run cost. The meter does both: in a step
it asks through :func:`overture.llm.factory.ask_result`, which records each call on the
``StepContext``; everywhere it keeps the results so the summary can total them.

The model and classifier are shared by every run of an environment, so they hold no per-run
state themselves: a run binds a copy of each to its own meter (:func:`bound`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from overture.core.step_context import StepContext
from overture.errors import OvertureError
from overture.llm.base import LLMProvider, LLMRequest, LLMResult, T
from overture.llm.factory import ask_result, ledger_input_tokens

X = TypeVar("X")


class CallMeter:
    """Asks providers on behalf of one run and remembers what each call cost."""

    def __init__(self, ctx: StepContext | None = None) -> None:
        self._ctx = ctx
        self._lock = threading.Lock()
        self._results: list[LLMResult[Any]] = []

    def ask(self, provider: LLMProvider, request: LLMRequest[T]) -> LLMResult[T]:
        """``provider``'s structured answer; in a step, its cost is recorded on the step too.
        Raises what the provider raises (nothing is recorded for a call that failed)."""
        if self._ctx is not None:
            result = ask_result(self._ctx, provider, request)
        else:
            result = provider.structured(request)
            self._charge(result)
        with self._lock:
            self._results.append(result)
        return result

    def record(self, result: LLMResult[Any]) -> None:
        """Keep a call made outside :meth:`ask` (a turn of a session with the person)."""
        self._charge(result)
        with self._lock:
            self._results.append(result)

    def _charge(self, result: LLMResult[Any]) -> None:
        """Account for a call made outside a step; a meter that bills an org overrides it."""

    def exhausted(self) -> str | None:
        """Why no further call may be made (an org's spent budget), or None."""
        return None

    def spent_usd(self) -> float:
        """What the calls so far cost (calls of unpriced models count as nothing)."""
        with self._lock:
            return sum(r.cost_usd or 0.0 for r in self._results)

    @property
    def results(self) -> tuple[LLMResult[Any], ...]:
        with self._lock:
            return tuple(self._results)


def failure(exc: BaseException) -> str:
    """Why a model call failed, for the summary: our errors in their own words (they never
    carry prompts or answers), anything else as type and message."""
    return str(exc) if isinstance(exc, OvertureError) else f"{type(exc).__name__}: {exc}"


@runtime_checkable
class Metered(Protocol):
    """A model or classifier that can be bound to one run's meter."""

    def with_meter(self, meter: CallMeter) -> Any: ...


def bound(part: X, meter: CallMeter) -> X:
    """``part`` bound to ``meter`` when it makes model calls; otherwise ``part`` itself."""
    if isinstance(part, Metered):
        return cast(X, part.with_meter(meter))
    return part


@dataclass(frozen=True)
class ModelUsage:
    """What a run's model calls added up to. Input tokens count every prompt token, cached or
    not, as the cost ledger does; ``cost_unknown`` when some model had no price."""

    calls: int = 0
    models: tuple[str, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    cost_unknown: bool = False

    @classmethod
    def of(cls, results: Iterable[LLMResult[Any]]) -> ModelUsage:
        results = list(results)
        models: list[str] = []
        for r in results:
            name = f"{r.provider} {r.model}"
            if name not in models:
                models.append(name)
        return cls(
            calls=len(results),
            models=tuple(models),
            input_tokens=sum(ledger_input_tokens(r) for r in results),
            output_tokens=sum(r.usage.output_tokens for r in results),
            usd=sum(r.cost_usd or 0.0 for r in results),
            cost_unknown=any(r.cost_usd is None for r in results),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "models": list(self.models),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.usd, 6),
            "cost_unknown": self.cost_unknown,
        }

    def line(self) -> str:
        """The summary's account: "Model: 2 calls to openai gpt-4o, 1450 input + 130 output
        tokens, $0.004925"."""
        calls = "1 call" if self.calls == 1 else f"{self.calls} calls"
        cost = f"${self.usd:.6f}"
        if self.cost_unknown:
            cost += " (cost unknown: no price for the model; add it to llm_prices)"
        return (
            f"Model: {calls} to {', '.join(self.models)}, "
            f"{self.input_tokens} input + {self.output_tokens} output tokens, {cost}"
        )
