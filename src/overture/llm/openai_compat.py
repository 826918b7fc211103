"""Any OpenAI-compatible Chat Completions endpoint, through the official ``openai`` SDK.

Hosted OpenAI and local servers (vLLM, llama.cpp, Ollama, LM Studio…) speak the same wire
format, so one provider with a configurable base URL covers them all. The answer's shape is
asked for with Structured Outputs (``response_format: json_schema``, non-strict, since strict
mode accepts only a subset of JSON Schema that pydantic models often exceed) and validated
here in any case; servers without Structured Outputs can use JSON mode instead
(``response_format="json_object"``), in which case the schema travels in the system prompt.

The SDK's own retries are off (``max_retries=0``): a 429 must reach the engine, which defers
the job five minutes, rather than hold a worker in a sleep.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from overture.llm import chat_openai
from overture.llm.base import LLMRequest, LLMResult, T, Usage
from overture.llm.chat import ChatReply, Message, OnText, Tool
from overture.llm.pricing import PriceTable
from overture.llm.remote import (
    Reply,
    answer_with_one_retry,
    api_error,
    correction,
    input_text,
    parse_json,
    rate_limited,
    schema_name,
    timed_out,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
log = logging.getLogger("overture.llm")

ResponseMode = Literal["json_schema", "json_object"]


class OpenAICompatibleProvider:
    """Structured answers from a Chat Completions endpoint, with usage priced OpenAI-style."""

    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        prices: PriceTable | None = None,
        response_format: ResponseMode = "json_schema",
    ) -> None:
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout_s = timeout_s
        self.prices = prices or PriceTable.load()
        self.response_format: ResponseMode = response_format
        self._client = openai.OpenAI(
            api_key=api_key, base_url=self.base_url, timeout=timeout_s, max_retries=0
        )

    def __repr__(self) -> str:
        return f"OpenAICompatibleProvider(model={self.model!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()

    def structured(self, request: LLMRequest[T]) -> LLMResult[T]:
        """Answer ``request`` as a ``request.schema`` value; one corrective retry, then
        ``InvalidModelOutput``; ``RateLimited`` on 429, ``StepTimeout`` on timeout."""
        schema = request.schema.model_json_schema()
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": self._system(request, schema)},
            {"role": "user", "content": input_text(request)},
        ]
        fmt = self._format(request, schema)

        def first() -> Reply:
            return self._ask(request, messages, fmt)

        def again(problem: str) -> Reply:
            messages.append({"role": "user", "content": correction(problem)})
            return self._ask(request, messages, fmt)

        return answer_with_one_retry(self.name, self.model, request, self.prices, first, again)

    def chat(
        self,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[Tool],
        on_text: OnText | None = None,
        max_output_tokens: int = 2048,
    ) -> ChatReply:
        """The model's next turn in a conversation with tools, streamed (``on_text`` gets the
        text as it comes); failures as :meth:`structured` raises them."""
        with _sdk_errors(self.name, self.timeout_s):
            text, calls, usage, model, finish = chat_openai.converse(
                self._client, self.model, system, messages, tools, on_text, max_output_tokens, self.timeout_s
            )
        cost = self.prices.cost_of_answer(self.name, self.model, model, usage)
        return ChatReply(text, calls, usage, self.name, model, cost, finish)

    def _system(self, request: LLMRequest[Any], schema: dict[str, Any]) -> str:
        text = f"{request.instructions.strip()}\n\nAnswer with a single JSON object and nothing else."
        if self.response_format == "json_object":
            text += f"\nThe object must match this JSON Schema:\n{json.dumps(schema)}"
        return text

    def _format(self, request: LLMRequest[Any], schema: dict[str, Any]) -> ResponseFormat:
        if self.response_format == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {"name": schema_name(request), "schema": schema, "strict": False},
        }

    def _ask(
        self, request: LLMRequest[Any], messages: list[ChatCompletionMessageParam], fmt: ResponseFormat
    ) -> Reply:
        timeout = min(self.timeout_s, request.timeout_s)
        with _sdk_errors(self.name, timeout):
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=list(messages),
                response_format=fmt,
                max_completion_tokens=request.max_output_tokens,
                timeout=timeout,
            )
        messages.append({"role": "assistant", "content": _said(completion)})
        return _reply(completion, self.model, request.max_output_tokens)


@contextmanager
def _sdk_errors(name: str, timeout_s: float) -> Iterator[None]:
    """The SDK's failures as ours, for a structured answer and a chat turn alike; out of credit
    is an error, not a rate limit (waiting 5 minutes will not help)."""
    try:
        yield
    except openai.APITimeoutError:
        raise timed_out(name, timeout_s) from None
    except openai.RateLimitError as exc:
        if _code(exc) == "insufficient_quota":
            raise api_error(name, _detail(exc), exc.status_code) from None
        raise rate_limited(name, exc.response.headers, _detail(exc)) from None
    except openai.APIStatusError as exc:
        raise api_error(name, _detail(exc), exc.status_code) from None
    except openai.APIConnectionError as exc:
        raise api_error(name, f"connection failed: {exc.message}") from None


def _reply(completion: ChatCompletion, requested: str, max_tokens: int) -> Reply:
    usage = _usage(completion)
    model = completion.model or requested
    if not completion.choices:
        return Reply(None, "the response had no choices", usage, model)
    choice = completion.choices[0]
    if choice.message.refusal:
        return Reply(None, "the model refused to answer", usage, model)
    data, problem = parse_json(choice.message.content)
    if problem is not None and choice.finish_reason == "length":
        problem = f"the answer was cut off at the {max_tokens}-token limit; {problem}"
    return Reply(data, problem, usage, model)


def _usage(completion: ChatCompletion) -> Usage:
    """Usage as OpenAI reports it: ``prompt_tokens`` includes the cached tokens, and
    ``completion_tokens`` the reasoning tokens."""
    u = completion.usage
    if u is None:
        return Usage()
    details = u.prompt_tokens_details
    return Usage(
        input_tokens=u.prompt_tokens,
        output_tokens=u.completion_tokens,
        cached_input_tokens=(details.cached_tokens or 0) if details else 0,
        cache_creation_tokens=(details.cache_write_tokens or 0) if details else 0,
    )


def _said(completion: ChatCompletion) -> str:
    """What the model said, for the conversation the retry continues (never logged)."""
    if not completion.choices:
        return ""
    message = completion.choices[0].message
    return message.content or message.refusal or ""


def _code(exc: openai.APIStatusError) -> str | None:
    body = exc.body
    error = body.get("error", body) if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return f"HTTP {exc.status_code}"
