"""Choosing a provider from settings, and ``ask`` recording what a call cost on the step."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from overture.core.step_context import StepContext
from overture.errors import ValidationFailed
from overture.llm.anthropic_provider import AnthropicProvider
from overture.llm.base import LLMRequest, LLMResult, T, Usage
from overture.llm.factory import ask, ask_result, call_summary, provider_from_settings
from overture.llm.offline import OfflineProvider
from overture.llm.openai_compat import OpenAICompatibleProvider
from overture.settings import Settings


class Answer(BaseModel):
    ok: bool


def step_context() -> StepContext:
    return StepContext(
        job_id="job-1",
        org_id="acme",
        user_id="ana",
        step_name="think",
        step_index=0,
        attempt=1,
        now=datetime(2026, 11, 21, tzinfo=UTC),
        event={},
        context={},
        outputs={},
        idempotency_key="job-1:0:think",
    )


class Canned:
    """A provider that answers with fixed usage and cost, standing in for a real one."""

    def __init__(self, name: str, model: str, usage: Usage, cost: float | None) -> None:
        self.name, self.model, self.usage, self.cost = name, model, usage, cost

    def structured(self, request: LLMRequest[T]) -> LLMResult[T]:
        return LLMResult(
            request.schema.model_validate({"ok": True}), self.usage, self.name, self.model, self.cost, 2
        )


REQUEST = LLMRequest("check", "Is it ok?", {}, Answer)


def settings(**values: Any) -> Settings:
    return Settings(database_url="sqlite://", packs=[], **values)


def test_offline_is_the_default_and_keeps_the_packs_rules() -> None:
    """With no LLM settings the offline provider is used: the one given (with its rules) or a new one."""
    rules = OfflineProvider({"check": lambda _d: {"ok": True}})
    assert provider_from_settings(settings(), rules) is rules
    assert isinstance(provider_from_settings(settings()), OfflineProvider)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm_provider": "openai", "llm_api_key": "sk-x"}, "llm_model is empty: set OVERTURE_LLM_MODEL"),
        (
            {"llm_provider": "anthropic", "llm_model": "claude-sonnet-4-6"},
            "llm_api_key is empty: set OVERTURE_LLM_API_KEY",
        ),
        ({"llm_provider": "openai", "llm_model": "gpt-4o", "llm_api_key": "  "}, "llm_api_key is empty"),
    ],
)
def test_real_providers_need_a_model_and_a_key(values: dict[str, Any], message: str) -> None:
    """A real provider without its model or key is refused up front, naming the setting."""
    with pytest.raises(ValidationFailed, match=message):
        provider_from_settings(settings(**values))


def test_real_providers_are_built_from_settings() -> None:
    """openai and anthropic get model, base URL, timeout and the price table with overrides."""
    openai_provider = provider_from_settings(
        settings(
            llm_provider="openai",
            llm_model="qwen3:32b",
            llm_api_key="ollama",
            llm_base_url="http://127.0.0.1:11434/v1",
            llm_timeout_s=12,
            llm_prices={"qwen3:32b": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0}},
        )
    )
    assert isinstance(openai_provider, OpenAICompatibleProvider)
    assert (openai_provider.model, openai_provider.base_url, openai_provider.timeout_s) == (
        "qwen3:32b",
        "http://127.0.0.1:11434/v1",
        12,
    )
    assert openai_provider.prices.entry("qwen3:32b") is not None
    anthropic_provider = provider_from_settings(
        settings(llm_provider="anthropic", llm_model="claude-sonnet-4-6", llm_api_key="sk-ant-x")
    )
    assert isinstance(anthropic_provider, AnthropicProvider)
    assert anthropic_provider.base_url == "https://api.anthropic.com"
    openai_provider.close()
    anthropic_provider.close()


def test_ask_records_tokens_and_cost_on_the_step() -> None:
    """The step's cost row holds every prompt token (Anthropic's cache included) and the price."""
    ctx = step_context()
    usage = Usage(input_tokens=100, output_tokens=20, cached_input_tokens=300, cache_creation_tokens=50)
    value = ask(ctx, Canned("anthropic", "claude-sonnet-4-6", usage, 0.0123), REQUEST)
    assert value == Answer(ok=True)
    assert ctx.costs == [
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-6",
            "input_tokens": 450,
            "output_tokens": 20,
            "cost_micros": 12300,
        }
    ]


def test_unknown_price_is_recorded_at_zero_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    """No price: the tokens are recorded at $0, a warning names the model (not the prompt), and
    the call summary says cost_unknown."""
    ctx = step_context()
    with caplog.at_level(logging.WARNING, logger="overture.llm"):
        result = ask_result(ctx, Canned("openai", "llama3.1:8b", Usage(1000, 50, 200), None), REQUEST)
    assert ctx.costs[0]["input_tokens"] == 1000 and ctx.costs[0]["cost_micros"] == 0
    assert "no price for openai model 'llama3.1:8b'" in caplog.text and "Is it ok?" not in caplog.text
    summary = call_summary(result)
    assert summary["cost_unknown"] is True and summary["cost_usd"] is None and summary["attempts"] == 2
    assert (
        call_summary(ask_result(step_context(), Canned("openai", "gpt-4o", Usage(1, 1), 0.5), REQUEST))[
            "cost_unknown"
        ]
        is False
    )
