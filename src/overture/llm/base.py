"""The one interface every language-model provider implements.

A caller asks for a *structured* answer: a task name, instructions, the input as data, and a
pydantic model the answer must validate against. Providers report token usage and cost so
the step can record it in the cost ledger; they raise ``RateLimited`` on 429s (the job is
deferred) and ``StepTimeout`` on timeouts (the step's failure policy applies).

A request may also carry a ``check``: what the answer must agree with beyond its schema, read
against the request's own input (a model citing a transcript segment that does not exist, say).
The model providers treat a check's problems exactly like schema errors: the same corrective
retry, then ``InvalidModelOutput``, which carries what the failed attempts cost so it is still
charged. The offline rules are not checked: a retry cannot change a rule's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from overture.errors import StepError

T = TypeVar("T", bound=BaseModel)


class InvalidModelOutput(StepError):
    """The model's answer did not validate against the requested schema, even after a retry."""

    def __init__(self, message: str | None = None, spent: Spent | None = None) -> None:
        super().__init__(message)
        self.spent = spent  # what the failed attempts cost: billed all the same, so still charged


@dataclass(frozen=True)
class Spent:
    """What calls that produced no usable answer cost: billed tokens, who answered, the price
    (None when the model's price is unknown) and how many attempts were made."""

    usage: Usage
    provider: str
    model: str
    cost_usd: float | None
    attempts: int


@dataclass(frozen=True)
class Usage:
    """Tokens as billed; cached and cache-creation tokens kept apart (providers count differently)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_creation_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
        )


@dataclass(frozen=True)
class LLMRequest(Generic[T]):
    """What a skill asks a model for."""

    task: str
    instructions: str
    input: dict[str, Any]
    schema: type[T]
    max_output_tokens: int = 2048
    timeout_s: float = 60.0
    metadata: dict[str, Any] = field(default_factory=dict)
    check: Callable[[T, dict[str, Any]], Sequence[str]] | None = None
    """Problems of a schema-valid answer read against ``input`` (none: it is accepted). Each
    problem is sent back to the model on the retry and ends up in the step's error, so it says
    what is wrong in plain words, by position, without quoting the input."""

    def problems(self, value: T) -> list[str]:
        """What ``check`` finds wrong with ``value``; none without a check."""
        return list(self.check(value, self.input)) if self.check is not None else []


@dataclass(frozen=True)
class LLMResult(Generic[T]):
    """A validated answer with what it cost. ``cost_usd`` is None when the model's price is unknown."""

    value: T
    usage: Usage
    provider: str
    model: str
    cost_usd: float | None
    attempts: int = 1


class LLMProvider(Protocol):
    """Offline rules, an OpenAI-compatible endpoint, or Anthropic."""

    name: str
    model: str

    def structured(self, request: LLMRequest[T]) -> LLMResult[T]:
        """Answer ``request`` with a value of ``request.schema``, retrying once on invalid output."""
        ...
