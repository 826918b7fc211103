"""The OpenAI-compatible provider against a loopback fake that speaks Chat Completions.

``chat_completion`` and ``Script`` are also used by the Anthropic tests and the end-to-end
tests in ``tests/integration/test_llm_providers.py``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from pydantic import BaseModel, Field

from overture.errors import RateLimited, StepTimeout
from overture.integrations.apis import ApiError
from overture.llm.base import InvalidModelOutput, LLMRequest
from overture.llm.openai_compat import OpenAICompatibleProvider
from overture.llm.pricing import PriceTable
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen


class Intent(BaseModel):
    intent: str
    confidence: float = Field(ge=0, le=1)


REQUEST = LLMRequest(
    task="detect-intents",
    instructions="Find the rep's commitments.",
    input={"transcript": "I'll send you the proposal by Friday."},
    schema=Intent,
    max_output_tokens=300,
)
GOOD = {"intent": "send_proposal", "confidence": 0.92}


def chat_completion(
    content: str | None,
    *,
    model: str = "gpt-4o-2024-08-06",
    prompt: int = 1200,
    completion: int = 80,
    cached: int = 0,
    finish_reason: str = "stop",
    refusal: str | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object as OpenAI returns it, usage details included."""
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1763730000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_50cad350e4",
    }


class Script:
    """Answers requests with the given replies in order (the last one repeats)."""

    def __init__(self, *replies: Reply, delay_s: float = 0.0) -> None:
        self.replies = list(replies)
        self.delay_s = delay_s
        self.release = threading.Event()

    def __call__(self, request: Seen) -> Reply:
        if self.delay_s:
            self.release.wait(self.delay_s)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def body(seen: Seen) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(seen.body)
    return data


def provider(api: FakeApi, **kwargs: Any) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        model="gpt-4o", api_key="sk-test-123", base_url=f"{api.url}/v1", timeout_s=5, **kwargs
    )


def test_structured_output_request_and_usage_to_cost() -> None:
    """One POST to /chat/completions with a json_schema response format; usage with cached
    tokens is priced OpenAI-style (prompt_tokens includes the cached ones)."""
    reply = chat_completion(json.dumps(GOOD), prompt=1200, completion=80, cached=1000)
    with FakeApi(Script(Reply(body=reply))) as api:
        result = provider(api).structured(REQUEST)
    assert result.value == Intent(**GOOD)
    assert (result.provider, result.model, result.attempts) == ("openai", "gpt-4o-2024-08-06", 1)
    assert (result.usage.input_tokens, result.usage.cached_input_tokens, result.usage.output_tokens) == (
        1200,
        1000,
        80,
    )
    assert result.cost_usd == pytest.approx(200 * 2.5e-06 + 1000 * 1.25e-06 + 80 * 1e-05)
    [seen] = api.seen
    assert (seen.method, seen.path) == ("POST", "/v1/chat/completions")
    assert seen.headers["authorization"] == "Bearer sk-test-123"
    sent = body(seen)
    assert sent["model"] == "gpt-4o" and sent["max_completion_tokens"] == 300
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "detect-intents", "schema": Intent.model_json_schema(), "strict": False},
    }
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert json.loads(sent["messages"][1]["content"]) == REQUEST.input


def test_malformed_json_is_retried_once_with_the_error() -> None:
    """Invalid JSON, then a good answer: two requests, the second telling the model what was
    wrong; usage is summed over both attempts."""
    script = Script(
        Reply(body=chat_completion('{"intent": "send_proposal", ', prompt=100, completion=10)),
        Reply(body=chat_completion(json.dumps(GOOD), prompt=150, completion=20)),
    )
    with FakeApi(script) as api:
        result = provider(api).structured(REQUEST)
    assert result.value == Intent(**GOOD) and result.attempts == 2
    assert (result.usage.input_tokens, result.usage.output_tokens) == (250, 30)
    assert len(api.seen) == 2
    second = body(api.seen[1])["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == '{"intent": "send_proposal", '
    assert "not valid JSON" in second[3]["content"]


def test_schema_mismatch_names_the_field_in_the_retry() -> None:
    """An answer that parses but breaks the schema is retried with the failing field's path."""
    script = Script(
        Reply(body=chat_completion(json.dumps({"intent": "send_proposal", "confidence": 7}))),
        Reply(body=chat_completion(json.dumps(GOOD))),
    )
    with FakeApi(script) as api:
        result = provider(api).structured(REQUEST)
    assert result.attempts == 2
    correction = body(api.seen[1])["messages"][-1]["content"]
    assert "confidence" in correction and "less than or equal to 1" in correction


def test_malformed_twice_raises_invalid_model_output() -> None:
    """Two invalid answers: InvalidModelOutput naming the task and the last problem, no third call."""
    chatty = Script(Reply(body=chat_completion("Sure! Here is the JSON you asked for")))
    with FakeApi(chatty) as api, pytest.raises(InvalidModelOutput) as caught:
        provider(api).structured(REQUEST)
    assert len(api.seen) == 2
    assert "detect-intents" in str(caught.value) and "not valid JSON" in str(caught.value)
    assert "Here is the JSON" not in str(caught.value)


def test_refusal_and_truncation_count_as_invalid_answers() -> None:
    """A refusal is retried like any invalid answer; a cut-off answer says so."""
    script = Script(
        Reply(body=chat_completion(None, refusal="I can't help with that.")),
        Reply(body=chat_completion('{"intent": "send', finish_reason="length")),
    )
    with FakeApi(script) as api, pytest.raises(InvalidModelOutput) as caught:
        provider(api).structured(REQUEST)
    assert "refused" in body(api.seen[1])["messages"][-1]["content"]
    assert "cut off at the 300-token limit" in str(caught.value)


def test_json_mode_fallback_puts_the_schema_in_the_prompt() -> None:
    """For servers without Structured Outputs: response_format json_object, schema in the system prompt."""
    with FakeApi(Script(Reply(body=chat_completion(f"```json\n{json.dumps(GOOD)}\n```")))) as api:
        result = provider(api, response_format="json_object").structured(REQUEST)
    assert result.value == Intent(**GOOD)
    sent = body(api.seen[0])
    assert sent["response_format"] == {"type": "json_object"}
    assert json.dumps(Intent.model_json_schema()) in sent["messages"][0]["content"]


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"Retry-After": "42"}, 42.0), ({"retry-after-ms": "1500", "Retry-After": "2"}, 1.5), ({}, None)],
)
def test_429_raises_rate_limited_with_the_delay(headers: dict[str, str], wait: float | None) -> None:
    """A 429 becomes RateLimited carrying the server's delay; the SDK does not retry on its own."""
    error = {
        "error": {
            "message": "Rate limit reached for gpt-4o",
            "type": "requests",
            "code": "rate_limit_exceeded",
        }
    }
    with FakeApi(Script(Reply(429, error, headers))) as api, pytest.raises(RateLimited) as caught:
        provider(api).structured(REQUEST)
    assert caught.value.retry_after_s == wait
    assert "Rate limit reached for gpt-4o" in str(caught.value)
    assert len(api.seen) == 1


def test_exhausted_quota_is_a_failure_not_a_deferral() -> None:
    """OpenAI's insufficient_quota 429 fails the step: waiting five minutes would not add credit."""
    error = {
        "error": {
            "message": "You exceeded your current quota",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
    with FakeApi(Script(Reply(429, error, {"Retry-After": "1"}))) as api, pytest.raises(ApiError) as caught:
        provider(api).structured(REQUEST)
    assert not isinstance(caught.value, RateLimited) and "quota" in str(caught.value)


def test_slow_server_raises_step_timeout() -> None:
    """A server slower than the timeout is a StepTimeout, so the step's failure policy applies."""
    script = Script(Reply(body=chat_completion(json.dumps(GOOD))), delay_s=3)
    with FakeApi(script) as api:
        slow = OpenAICompatibleProvider(model="gpt-4o", api_key="k", base_url=f"{api.url}/v1", timeout_s=0.3)
        with pytest.raises(StepTimeout, match=r"did not answer within 0\.3s"):
            slow.structured(REQUEST)
        script.release.set()


def test_other_errors_become_api_errors_with_the_status() -> None:
    """A 401 is an ApiError naming the service, the status and the API's message."""
    error = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    with FakeApi(Script(Reply(401, error))) as api, pytest.raises(ApiError) as caught:
        provider(api).structured(REQUEST)
    assert (caught.value.status, caught.value.detail) == (401, "Incorrect API key provided")
    assert "sk-test-123" not in str(caught.value)


def test_unknown_model_has_unknown_cost_and_prices_apply_by_configured_name() -> None:
    """The configured model's price is used first; a model in no table costs None, not 0."""
    reply = Reply(body=chat_completion(json.dumps(GOOD), model="my-local-llama", prompt=10, completion=5))
    with FakeApi(Script(reply)) as api:
        local = OpenAICompatibleProvider(model="llama3.1:8b", api_key="none", base_url=f"{api.url}/v1")
        priced = OpenAICompatibleProvider(
            model="llama3.1:8b",
            api_key="none",
            base_url=f"{api.url}/v1",
            prices=PriceTable.load(
                {"llama3.1:8b": {"input_cost_per_token": 1e-07, "output_cost_per_token": 2e-07}}
            ),
        )
        assert local.structured(REQUEST).cost_usd is None
        assert priced.structured(REQUEST).cost_usd == pytest.approx(10 * 1e-07 + 5 * 2e-07)


def test_repr_never_shows_the_key() -> None:
    """The provider's repr (which ends up in logs and tracebacks) names model and URL only."""
    text = repr(
        OpenAICompatibleProvider(model="gpt-4o", api_key="sk-secret-999", base_url="http://127.0.0.1:9")
    )
    assert "sk-secret-999" not in text and "gpt-4o" in text
