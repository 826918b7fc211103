"""Anthropic's Messages API, through the official ``anthropic`` SDK.

The structured answer is asked for as the input of a single tool the model is forced to call
(``tool_choice: {"type": "tool"}``): the Messages API's established way to get JSON that
follows a schema, and the tool's ``input`` arrives already parsed. A retry answers that tool
call with an error ``tool_result`` saying what was wrong, which is how the API expects a
model to be told its call failed.

SDK retries are off (``max_retries=0``) for the same reason as the OpenAI provider: a 429
defers the job in the engine instead of sleeping in a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import anthropic
from anthropic.types import Message, MessageParam, ToolParam

from overture.llm import chat_anthropic
from overture.llm.base import LLMRequest, LLMResult, T, Usage
from overture.llm.chat import ChatReply, OnText, Tool
from overture.llm.chat import Message as ChatMessage
from overture.llm.pricing import PriceTable
from overture.llm.remote import (
    Reply,
    answer_with_one_retry,
    api_error,
    correction,
    input_text,
    rate_limited,
    schema_name,
    timed_out,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
log = logging.getLogger("overture.llm")


class AnthropicProvider:
    """Structured answers from Claude via one forced tool, with usage priced Anthropic-style."""

    name = "anthropic"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        prices: PriceTable | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout_s = timeout_s
        self.prices = prices or PriceTable.load()
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=self.base_url, timeout=timeout_s, max_retries=0
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()

    def structured(self, request: LLMRequest[T]) -> LLMResult[T]:
        """Answer ``request`` as a ``request.schema`` value; one corrective retry, then
        ``InvalidModelOutput``; ``RateLimited`` on 429, ``StepTimeout`` on timeout."""
        tool: ToolParam = {
            "name": schema_name(request),
            "description": f"Record your answer for the task {request.task!r}.",
            "input_schema": request.schema.model_json_schema(),
        }
        system = f"{request.instructions.strip()}\n\nGive your answer by calling the tool {tool['name']}."
        messages: list[MessageParam] = [
            {"role": "user", "content": [{"type": "text", "text": input_text(request)}]}
        ]
        answers: list[Message] = []

        def ask() -> Reply:
            message = self._ask(request, system, tool, messages)
            answers.append(message)
            return _reply(message, tool["name"], self.model, request.max_output_tokens)

        def again(problem: str) -> Reply:
            _continue(messages, answers[-1], tool["name"], correction(problem))
            return ask()

        return answer_with_one_retry(self.name, self.model, request, self.prices, ask, again)

    def chat(
        self,
        system: str,
        messages: Sequence[ChatMessage],
        tools: Sequence[Tool],
        on_text: OnText | None = None,
        max_output_tokens: int = 2048,
    ) -> ChatReply:
        """The model's next turn in a conversation with tools, streamed (``on_text`` gets the
        text as it comes); failures as :meth:`structured` raises them."""
        with _sdk_errors(self.name, self.timeout_s):
            text, calls, usage, model, stop = chat_anthropic.converse(
                self._client, self.model, system, messages, tools, on_text, max_output_tokens, self.timeout_s
            )
        cost = self.prices.cost_of_answer(self.name, self.model, model, usage)
        return ChatReply(text, calls, usage, self.name, model, cost, stop)

    def _ask(
        self, request: LLMRequest[Any], system: str, tool: ToolParam, messages: list[MessageParam]
    ) -> Message:
        timeout = min(self.timeout_s, request.timeout_s)
        with _sdk_errors(self.name, timeout):
            return self._client.messages.create(
                model=self.model,
                max_tokens=request.max_output_tokens,
                system=system,
                messages=list(messages),
                tools=[tool],
                tool_choice={"type": "tool", "name": tool["name"]},
                timeout=timeout,
            )


@contextmanager
def _sdk_errors(name: str, timeout_s: float) -> Iterator[None]:
    """The SDK's failures as ours, for a structured answer and a chat turn alike."""
    try:
        yield
    except anthropic.APITimeoutError:
        raise timed_out(name, timeout_s) from None
    except anthropic.RateLimitError as exc:
        raise rate_limited(name, exc.response.headers, _detail(exc)) from None
    except anthropic.APIStatusError as exc:
        raise api_error(name, _detail(exc), exc.status_code) from None
    except anthropic.APIConnectionError as exc:
        raise api_error(name, f"connection failed: {exc.message}") from None


def _reply(message: Message, tool_name: str, requested: str, max_tokens: int) -> Reply:
    usage = _usage(message)
    model = message.model or requested
    call = _tool_call(message, tool_name)
    if call is None:
        why = {"refusal": "the model refused to answer", "max_tokens": "the answer was cut off"}
        problem = why.get(str(message.stop_reason), f"the model did not call the tool {tool_name}")
        return Reply(None, problem, usage, model)
    if message.stop_reason == "max_tokens":
        return Reply(call.input, f"the answer was cut off at the {max_tokens}-token limit", usage, model)
    return Reply(call.input, None, usage, model)


def _usage(message: Message) -> Usage:
    """Usage as Anthropic reports it: ``input_tokens`` *excludes* cache reads and writes,
    which come separately."""
    u = message.usage
    return Usage(
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cached_input_tokens=u.cache_read_input_tokens or 0,
        cache_creation_tokens=u.cache_creation_input_tokens or 0,
    )


def _tool_call(message: Message, tool_name: str) -> anthropic.types.ToolUseBlock | None:
    for block in message.content:
        if block.type == "tool_use" and block.name == tool_name:
            return block
    return None


def _continue(messages: list[MessageParam], answer: Message, tool_name: str, text: str) -> None:
    """Extend the conversation so the retry sees its own answer and what was wrong with it."""
    call = _tool_call(answer, tool_name)
    if call is None:
        # Nothing to reply to: put the correction in the user's turn instead of inventing one.
        messages[-1] = {"role": "user", "content": [*_blocks(messages[-1]), {"type": "text", "text": text}]}
        return
    messages.append(
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}],
        }
    )
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "is_error": True, "content": text}],
        }
    )


def _blocks(message: MessageParam) -> list[Any]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _detail(exc: anthropic.APIStatusError) -> str:
    return exc.api_message or f"HTTP {exc.status_code}"
