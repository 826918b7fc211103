"""Choosing the provider from settings, and the one call skills make: ``ask``.

``ask`` is where a model call becomes a cost on the step: the step's ``StepContext`` carries
it into the ``cost_ledger`` in the same transaction as the step's record, so it counts
against the org's budget exactly once even if the job is replayed.

A model whose price is unknown is recorded with its tokens and a cost of 0 — the ledger has
no "unknown" marker, and a guess would be worse — and ``LLMResult.cost_usd`` stays ``None``
so the caller can tell. A call whose answer never validated (``InvalidModelOutput``) was billed
all the same: what its attempts cost is recorded on the step before the error goes on, and the
engine writes a failed step's costs to the ledger too. ``ask`` returns just the validated
value; ``ask_result`` returns the whole ``LLMResult`` and ``call_summary`` turns it into a
small dict (with ``cost_unknown``) that a skill can put in its step output when it wants the
call visible there. A warning is logged for each unpriced call, naming the model so the
operator can add it to ``llm_prices``.
"""

from __future__ import annotations

import logging
from typing import Any

from overture.core.step_context import StepContext
from overture.errors import ValidationFailed
from overture.llm.base import InvalidModelOutput, LLMProvider, LLMRequest, LLMResult, T, Usage
from overture.llm.offline import OfflineProvider
from overture.llm.pricing import PriceTable, prompt_tokens
from overture.settings import Settings

log = logging.getLogger("overture.llm")


def provider_from_settings(settings: Settings, offline: OfflineProvider | None = None) -> LLMProvider:
    """The provider ``settings.llm_provider`` names: ``offline`` (the default, using the given
    ``offline`` provider and its registered rules), ``openai`` or ``anthropic``.

    The real providers need ``llm_model`` and ``llm_api_key``; a missing one is reported by
    its setting and environment variable names rather than failing at the first call.
    """
    kind = settings.llm_provider
    if kind == "offline":
        return offline if offline is not None else OfflineProvider()
    model = settings.llm_model.strip()
    if not model:
        example = "gpt-4o-mini" if kind == "openai" else "claude-sonnet-4-6"
        raise ValidationFailed(
            f"llm_provider is {kind!r} but llm_model is empty: set OVERTURE_LLM_MODEL "
            f"(or llm_model in overture.toml) to the model to call, e.g. {example}"
        )
    key = settings.llm_api_key.get_secret_value().strip() if settings.llm_api_key else ""
    if not key:
        raise ValidationFailed(
            f"llm_provider is {kind!r} but llm_api_key is empty: set OVERTURE_LLM_API_KEY "
            "(local OpenAI-compatible servers that ignore keys accept any placeholder)"
        )
    prices = PriceTable.load(settings.llm_prices)
    common: dict[str, Any] = {
        "model": model,
        "api_key": key,
        "base_url": settings.llm_base_url or None,
        "timeout_s": settings.llm_timeout_s,
        "prices": prices,
    }
    # The SDKs are imported only when configured: importing both costs seconds of CPU at every
    # worker and command start, and the offline default uses neither.
    if kind == "openai":
        from overture.llm.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider(**common)
    if kind == "anthropic":
        from overture.llm.anthropic_provider import AnthropicProvider

        return AnthropicProvider(**common)
    raise ValidationFailed(f"llm_provider {kind!r} is not one of offline, openai, anthropic")


def ask(ctx: StepContext, provider: LLMProvider, request: LLMRequest[T]) -> T:
    """Ask ``provider`` for ``request``'s structured answer and record what it cost on the step.

    Raises what the provider raises: ``InvalidModelOutput`` (after one retry, its attempts'
    cost recorded on the step first), ``RateLimited`` (the engine defers the job) and
    ``StepTimeout`` (the step's failure policy applies).
    """
    return ask_result(ctx, provider, request).value


def ask_result(ctx: StepContext, provider: LLMProvider, request: LLMRequest[T]) -> LLMResult[T]:
    """As ``ask``, returning the whole result: usage, model, attempts, and ``cost_usd``
    (``None`` when the price is unknown; the ledger then records the tokens at 0)."""
    try:
        result = provider.structured(request)
    except InvalidModelOutput as exc:
        if exc.spent is not None:
            spent = exc.spent
            _charge(ctx, spent.provider, spent.model, spent.usage, spent.cost_usd, request.task)
        raise
    _charge(ctx, result.provider, result.model, result.usage, result.cost_usd, request.task)
    return result


def _charge(
    ctx: StepContext, provider: str, model: str, usage: Usage, cost_usd: float | None, task: str
) -> None:
    """Put one call's tokens and cost on the step (unknown price: the tokens at $0, and a warning)."""
    ctx.cost(provider, model, prompt_tokens(provider, usage), usage.output_tokens, cost_usd or 0.0)
    if cost_usd is None:
        log.warning(
            "no price for %s model %r (task %s): its tokens are recorded at $0; add it to llm_prices",
            provider,
            model,
            task,
        )


def ledger_input_tokens(result: LLMResult[Any]) -> int:
    """Every prompt token, cached or not, so ledger rows compare across providers (Anthropic
    reports cache reads and writes outside ``input_tokens``; OpenAI inside)."""
    return prompt_tokens(result.provider, result.usage)


def call_summary(result: LLMResult[Any]) -> dict[str, Any]:
    """A JSON-ready account of one call for a step's output: who answered, tokens, cost, and
    ``cost_unknown`` when the model has no price."""
    u = result.usage
    return {
        "provider": result.provider,
        "model": result.model,
        "attempts": result.attempts,
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cached_input_tokens": u.cached_input_tokens,
        "cache_creation_tokens": u.cache_creation_tokens,
        "cost_usd": result.cost_usd,
        "cost_unknown": result.cost_usd is None,
    }
