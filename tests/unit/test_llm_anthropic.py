"""The Anthropic provider against a loopback fake that speaks the Messages API.

``message`` is also used by the end-to-end tests in ``tests/integration/test_llm_providers.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from overture.errors import RateLimited, StepTimeout
from overture.llm.anthropic_provider import AnthropicProvider
from overture.llm.base import InvalidModelOutput
from tests.unit.test_integrations_apis import FakeApi, Reply
from tests.unit.test_llm_openai import GOOD, REQUEST, Intent, Script, body

MODEL = "claude-sonnet-4-6"


def message(
    tool_input: dict[str, Any] | None,
    *,
    text: str | None = None,
    model: str = MODEL,
    input_tokens: int = 900,
    output_tokens: int = 60,
    cache_creation: int = 0,
    cache_read: int = 0,
    stop_reason: str | None = None,
    tool_id: str = "toolu_01A09q90qw90lq917835lq9",
    tool_name: str = "detect-intents",
) -> dict[str, Any]:
    """A ``message`` object as the Messages API returns it, usage with cache fields."""
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool_input is not None:
        content.append({"type": "tool_use", "id": tool_id, "name": tool_name, "input": tool_input})
    return {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason or ("tool_use" if tool_input is not None else "end_turn"),
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
            "service_tier": "standard",
        },
    }


def provider(api: FakeApi, timeout_s: float = 5) -> AnthropicProvider:
    return AnthropicProvider(model=MODEL, api_key="sk-ant-test-123", base_url=api.url, timeout_s=timeout_s)


def test_forced_tool_request_and_usage_to_cost() -> None:
    """One POST to /v1/messages forcing the answer tool; the tool_use input is the value; usage
    is priced Anthropic-style (input_tokens excludes cache reads and writes)."""
    reply = message(GOOD, input_tokens=900, output_tokens=60, cache_creation=2000, cache_read=5000)
    with FakeApi(Script(Reply(body=reply))) as api:
        result = provider(api).structured(REQUEST)
    assert result.value == Intent(**GOOD) and result.attempts == 1
    u = result.usage
    assert (u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cached_input_tokens) == (
        900,
        60,
        2000,
        5000,
    )
    assert result.cost_usd == pytest.approx(900 * 3e-06 + 2000 * 3.75e-06 + 5000 * 3e-07 + 60 * 1.5e-05)
    [seen] = api.seen
    assert (seen.method, seen.path) == ("POST", "/v1/messages")
    assert "sk-ant-test-123" in (seen.headers.get("x-api-key", "") + seen.headers.get("authorization", ""))
    assert seen.headers["anthropic-version"]
    sent = body(seen)
    assert sent["model"] == MODEL and sent["max_tokens"] == 300
    assert sent["tools"] == [
        {
            "name": "detect-intents",
            "description": "Record your answer for the task 'detect-intents'.",
            "input_schema": Intent.model_json_schema(),
        }
    ]
    assert sent["tool_choice"] == {"type": "tool", "name": "detect-intents"}
    assert sent["system"].startswith("Find the rep's commitments.")
    assert json.loads(sent["messages"][0]["content"][0]["text"]) == REQUEST.input


def test_invalid_tool_input_is_answered_with_an_error_tool_result() -> None:
    """A tool call that breaks the schema is retried once: the model sees its call and an
    is_error tool_result naming the problem; usage is summed."""
    script = Script(
        Reply(
            body=message(
                {"intent": "send_proposal", "confidence": "very"}, input_tokens=100, output_tokens=10
            )
        ),
        Reply(body=message(GOOD, input_tokens=160, output_tokens=12, tool_id="toolu_second")),
    )
    with FakeApi(script) as api:
        result = provider(api).structured(REQUEST)
    assert result.value == Intent(**GOOD) and result.attempts == 2
    assert (result.usage.input_tokens, result.usage.output_tokens) == (260, 22)
    assert len(api.seen) == 2
    second = body(api.seen[1])["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"][0]["type"] == "tool_use"
    [result_block] = second[2]["content"]
    assert result_block["type"] == "tool_result" and result_block["is_error"] is True
    assert result_block["tool_use_id"] == "toolu_01A09q90qw90lq917835lq9"
    assert "confidence" in result_block["content"]


def test_an_answer_without_the_tool_call_is_corrected_in_the_users_turn() -> None:
    """Text instead of a tool call: the retry adds the correction to the user's message."""
    script = Script(
        Reply(body=message(None, text="The rep will send a proposal.")), Reply(body=message(GOOD))
    )
    with FakeApi(script) as api:
        result = provider(api).structured(REQUEST)
    assert result.attempts == 2
    second = body(api.seen[1])["messages"]
    assert [m["role"] for m in second] == ["user"]
    assert "did not call the tool detect-intents" in second[0]["content"][-1]["text"]


def test_invalid_twice_raises_invalid_model_output() -> None:
    """Two invalid answers: InvalidModelOutput, and no third call."""
    with (
        FakeApi(Script(Reply(body=message({"intent": 3})))) as api,
        pytest.raises(InvalidModelOutput) as caught,
    ):
        provider(api).structured(REQUEST)
    assert len(api.seen) == 2
    assert "after 2 attempts" in str(caught.value) and "confidence: Field required" in str(caught.value)


def test_429_raises_rate_limited_with_retry_after() -> None:
    """Anthropic's 429 (rate_limit_error) becomes RateLimited with its retry-after seconds."""
    error = {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded"},
    }
    with (
        FakeApi(Script(Reply(429, error, {"retry-after": "17"}))) as api,
        pytest.raises(RateLimited) as caught,
    ):
        provider(api).structured(REQUEST)
    assert caught.value.retry_after_s == 17.0
    assert "Number of requests has exceeded" in str(caught.value)
    assert len(api.seen) == 1


def test_slow_server_raises_step_timeout() -> None:
    """No answer within the timeout is a StepTimeout."""
    script = Script(Reply(body=message(GOOD)), delay_s=3)
    with FakeApi(script) as api:
        with pytest.raises(StepTimeout, match="anthropic did not answer"):
            provider(api, timeout_s=0.3).structured(REQUEST)
        script.release.set()
