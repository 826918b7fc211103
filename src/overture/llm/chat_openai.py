"""Chat Completions with tools, streamed: the wire side of :mod:`overture.llm.chat` for any
OpenAI-compatible endpoint. Text arrives as ``delta.content``; a tool call arrives in pieces
(``delta.tool_calls[i]``: its id and name first, then its ``function.arguments`` JSON in
fragments) and is assembled by index; usage comes in the last chunk when
``stream_options.include_usage`` is asked for."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from overture.llm.base import Usage
from overture.llm.chat import AssistantTurn, Message, OnText, Tool, ToolCall, ToolResult, UserTurn


def wire_messages(system: str, messages: Sequence[Message]) -> list[ChatCompletionMessageParam]:
    out: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}]
    for m in messages:
        if isinstance(m, UserTurn):
            out.append({"role": "user", "content": m.text})
        elif isinstance(m, AssistantTurn):
            turn: dict[str, Any] = {"role": "assistant", "content": m.text or None}
            if m.calls:
                turn["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments or {})},
                    }
                    for c in m.calls
                ]
            out.append(turn)  # type: ignore[arg-type]
        elif isinstance(m, ToolResult):
            out.append({"role": "tool", "tool_call_id": m.call_id, "content": m.content})
    return out


def wire_tools(tools: Sequence[Tool]) -> list[ChatCompletionToolParam]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


def _arguments(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def converse(
    client: openai.OpenAI,
    model: str,
    system: str,
    messages: Sequence[Message],
    tools: Sequence[Tool],
    on_text: OnText | None,
    max_output_tokens: int,
    timeout: float,
) -> tuple[str, tuple[ToolCall, ...], Usage, str, str]:
    """One streamed turn: (text, calls, usage, model, finish reason). SDK errors propagate."""
    stream = client.chat.completions.create(
        model=model,
        messages=wire_messages(system, messages),
        tools=wire_tools(tools),
        stream=True,
        stream_options={"include_usage": True},
        max_completion_tokens=max_output_tokens,
        timeout=timeout,
    )
    text: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    usage = Usage()
    answered_by, finish = model, ""
    for chunk in stream:
        answered_by = chunk.model or answered_by
        if chunk.usage is not None:
            details = chunk.usage.prompt_tokens_details
            usage = Usage(
                input_tokens=chunk.usage.prompt_tokens,
                output_tokens=chunk.usage.completion_tokens,
                cached_input_tokens=(details.cached_tokens or 0) if details else 0,
            )
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                text.append(delta.content)
                if on_text is not None:
                    on_text(delta.content)
            for piece in delta.tool_calls or []:
                call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
                call["id"] = piece.id or call["id"]
                if piece.function is not None:
                    call["name"] = piece.function.name or call["name"]
                    call["arguments"] += piece.function.arguments or ""
            finish = choice.finish_reason or finish
    found = tuple(ToolCall(c["id"], c["name"], _arguments(c["arguments"])) for _, c in sorted(calls.items()))
    return "".join(text), found, usage, answered_by, finish
