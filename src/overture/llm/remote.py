"""What the OpenAI-compatible and Anthropic providers share: the prompt wording, reading and
validating an answer, the single corrective retry, and turning SDK failures into ours.

Kept apart from the two SDK modules so the retry rule ("an invalid answer is retried once,
telling the model what was wrong, then the step fails") is written once, and the two
providers differ only in how they put a question on the wire.

Nothing here logs prompts, answers or keys: problems are described by JSON position and
schema path only, so the text is safe both for logs and for ``job_steps.error``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from overture.errors import RateLimited, StepTimeout
from overture.integrations.apis import ApiError, http_date, retry_after_s
from overture.llm.base import InvalidModelOutput, LLMRequest, LLMResult, Spent, Usage
from overture.llm.pricing import PriceTable

T = TypeVar("T", bound=BaseModel)
log = logging.getLogger("overture.llm")

_NAME = re.compile(r"[^a-zA-Z0-9_-]+")
MAX_PROBLEMS = 8


@dataclass(frozen=True)
class Reply:
    """One answer off the wire: the parsed JSON (or why there is none), usage and model."""

    data: Any
    problem: str | None
    usage: Usage
    model: str


def schema_name(request: LLMRequest[Any]) -> str:
    """A name both APIs accept (``[a-zA-Z0-9_-]``, at most 64) for the answer's schema/tool."""
    name = _NAME.sub("_", request.task).strip("_") or request.schema.__name__
    return name[:64]


def input_text(request: LLMRequest[Any]) -> str:
    """The request's input as the user message: JSON, so the model sees the data's structure."""
    return json.dumps(request.input, ensure_ascii=False, default=str)


def correction(problem: str) -> str:
    """The message sent with the retry: what was wrong, and what to do instead."""
    return (
        f"Your previous answer was not valid: {problem}. "
        "Answer again with a single JSON object that matches the schema exactly."
    )


def parse_json(text: str | None) -> tuple[Any, str | None]:
    """``(value, None)`` for a JSON object, else ``(None, why not)`` without echoing the text."""
    if not text or not text.strip():
        return None, "the answer was empty"
    try:
        value = json.loads(_unfenced(text))
    except json.JSONDecodeError as exc:
        return None, f"the answer is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"the answer is a JSON {type(value).__name__}, not an object"
    return value, None


def validate(request: LLMRequest[T], reply: Reply) -> tuple[T | None, str | None]:
    """The reply as a ``request.schema`` instance that passes the request's check, or the
    problem in words (paths and messages only)."""
    if reply.problem is not None:
        return None, reply.problem
    try:
        value = request.schema.model_validate(reply.data)
    except ValidationError as exc:
        return None, describe(exc)
    problems = request.problems(value)
    if problems:
        return None, disagreement(problems)
    return value, None


def disagreement(problems: list[str]) -> str:
    """A check's problems as one sentence, capped like schema errors."""
    more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
    return "the answer does not agree with the input: " + "; ".join(problems[:MAX_PROBLEMS]) + more


def describe(exc: ValidationError) -> str:
    """Pydantic's errors as ``path: message``, leaving out the offending values."""
    problems = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()]
    more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
    return "schema mismatch: " + "; ".join(problems[:MAX_PROBLEMS]) + more


def answer_with_one_retry(
    provider: str,
    model: str,
    request: LLMRequest[T],
    prices: PriceTable,
    first: Callable[[], Reply],
    again: Callable[[str], Reply],
) -> LLMResult[T]:
    """Ask once; if the answer does not validate, ``again`` with the problem, once; then give up.

    A schema error and a failed ``request.check`` are the same kind of problem here. Usage is
    summed over both attempts, since both are billed, and travels with ``InvalidModelOutput``
    (``spent``) when no answer is usable, so the caller can charge it all the same. The price is
    looked up under the configured ``model`` first (the alias an operator prices), then under
    the model the response names (often a dated snapshot of it).
    """
    started = time.perf_counter()
    reply = first()
    usage, attempts = reply.usage, 1
    value, problem = validate(request, reply)
    if problem is not None:
        log.warning(
            "%s task %s: invalid answer from %s (%s); retrying once",
            provider,
            request.task,
            reply.model,
            problem,
        )
        reply = again(problem)
        usage, attempts = usage + reply.usage, 2
        value, problem = validate(request, reply)
    cost = prices.cost_of_answer(provider, model, reply.model, usage)
    if value is None:
        raise InvalidModelOutput(
            f"{provider} model {reply.model} gave no valid answer for task {request.task!r} "
            f"after {attempts} attempts: {problem}",
            spent=Spent(usage, provider, reply.model, cost, attempts),
        )
    log.info(
        "%s task %s: model=%s attempts=%d input_tokens=%d output_tokens=%d cached=%d cost_usd=%s in %.0f ms",
        provider,
        request.task,
        reply.model,
        attempts,
        usage.input_tokens,
        usage.output_tokens,
        usage.cached_input_tokens,
        "unknown" if cost is None else f"{cost:.6f}",
        (time.perf_counter() - started) * 1000,
    )
    return LLMResult(value, usage, provider, reply.model, cost, attempts)


def rate_limited(provider: str, headers: Mapping[str, str], detail: str) -> RateLimited:
    """A 429 as ``RateLimited``, with the wait the service asked for (``retry-after-ms``, which
    OpenAI sends, or ``Retry-After`` in seconds or as an HTTP date)."""
    wait: float | None = None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            wait = float(millis) / 1000
        except ValueError:
            wait = None
    if wait is None:
        reference = http_date(headers.get("date")) or datetime.now(UTC)
        wait = retry_after_s(headers.get("retry-after"), reference)
    return RateLimited(f"{provider} rate limit: {detail}", retry_after_s=wait)


def timed_out(provider: str, seconds: float) -> StepTimeout:
    return StepTimeout(f"{provider} did not answer within {seconds:g}s")


def api_error(provider: str, detail: str, status: int | None = None) -> ApiError:
    return ApiError(provider, detail, status=status)


def _unfenced(text: str) -> str:
    """JSON-mode models sometimes wrap the object in a markdown code fence; look inside it."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped[3:-3]
        first_line, _, rest = stripped.partition("\n")
        return rest if first_line.strip().isalpha() or not first_line.strip() else stripped
    return stripped
