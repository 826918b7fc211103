"""The default provider: no model, no network — rule functions registered per task.

Packs register a rule for each task they ask (``provider.register_rule("detect-intents",
fn)``); the provider runs it on the request's input and holds its answer to the same schema a
real model's answer must meet, so a skill cannot tell the offline answer apart and the demo
exercises the real validation path. Rules live on the provider instance, never in a module
global, so two Apps (or two tests) never see each other's rules.

Usage is estimated at about four characters per token, so that budgets, the cost ledger and
the execution metadata show plausible token counts; the cost is always zero.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from overture.errors import StepError
from overture.llm.base import InvalidModelOutput, LLMRequest, LLMResult, T, Usage
from overture.llm.remote import describe

Rule = Callable[[dict[str, Any]], dict[str, Any]]
R = TypeVar("R", bound=Rule)
CHARS_PER_TOKEN = 4


class NoRule(StepError):
    """The offline provider has no rule for this task."""


class OfflineProvider:
    """Answers each task with its registered rule; deterministic, free, and offline."""

    name = "offline"
    model = "rules-v1"

    def __init__(self, rules: Mapping[str, Rule] | None = None) -> None:
        self._rules: dict[str, Rule] = {}
        for task, fn in (rules or {}).items():
            self.register_rule(task, fn)

    def register_rule(self, task: str, fn: Rule) -> None:
        """Answer ``task`` with ``fn(input) -> dict``; a task has one rule."""
        if not task:
            raise ValueError("a rule needs a task name")
        if task in self._rules:
            raise ValueError(f"the offline provider already has a rule for task {task!r}")
        self._rules[task] = fn

    def rule(self, task: str) -> Callable[[R], R]:
        """Decorator form of ``register_rule``."""

        def deco(fn: R) -> R:
            self.register_rule(task, fn)
            return fn

        return deco

    @property
    def tasks(self) -> list[str]:
        """The tasks this provider can answer, sorted."""
        return sorted(self._rules)

    def structured(self, request: LLMRequest[T]) -> LLMResult[T]:
        """Run the task's rule and validate its answer against ``request.schema``.

        Raises ``NoRule`` for an unknown task and ``InvalidModelOutput`` when the rule's
        answer does not validate; there is no retry, since a rule answers the same way twice.
        The request's ``check`` is not run: it holds a model to its input so that a corrective
        retry can fix a slip, and a rule would only repeat itself; rules answer to their tests.
        """
        fn = self._rules.get(request.task)
        if fn is None:
            raise NoRule(
                f"the offline provider has no rule for task {request.task!r}; "
                f"registered tasks: {_listed(self._rules)}"
            )
        answer = fn(copy.deepcopy(request.input))
        if not isinstance(answer, dict):
            raise InvalidModelOutput(
                f"offline rule for task {request.task!r} returned {type(answer).__name__}, not a dict"
            )
        try:
            value = request.schema.model_validate(answer)
        except ValidationError as exc:
            raise InvalidModelOutput(
                f"offline rule for task {request.task!r} gave an invalid answer: {describe(exc)}"
            ) from None
        usage = Usage(
            input_tokens=estimate_tokens(request.instructions, _json(request.input)),
            output_tokens=estimate_tokens(_json(answer)),
        )
        return LLMResult(value, usage, self.name, self.model, 0.0)


def estimate_tokens(*texts: str) -> int:
    """About four characters per token (the usual rule of thumb for English text)."""
    return math.ceil(sum(len(t) for t in texts) / CHARS_PER_TOKEN)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "(none)"
