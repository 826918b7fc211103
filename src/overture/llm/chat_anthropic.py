"""Messages with tools, streamed: the wire side of :mod:`overture.llm.chat` for Anthropic.

The stream is server-sent events: ``message_start`` (the model and the input tokens),
``content_block_start`` (a text block, or a ``tool_use`` block with its id and name),
``content_block_delta`` (``text_delta`` text, or ``input_json_delta`` fragments of the tool's
input), ``content_block_stop``, ``message_delta`` (the stop reason and the output tokens) and
``message_stop``. Blocks are assembled by index."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import anthropic
from anthropic.types import MessageParam, ToolParam

from overture.llm.base import Usage
from overture.llm.chat import AssistantTurn, Message, OnText, Tool, ToolCall, ToolResult, UserTurn


def wire_messages(messages: Sequence[Message]) -> list[MessageParam]:
    """Neutral turns as Anthropic messages; tool results travel in the user's turn, and
    consecutive results share one."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, UserTurn):
            out.append({"role": "user", "content": [{"type": "text", "text": m.text or "(no answer)"}]})
        elif isinstance(m, AssistantTurn):
            blocks: list[Any] = [{"type": "text", "text": m.text}] if m.text else []
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments or {}} for c in m.calls
            ]
            out.append({"role": "assistant", "content": blocks or [{"type": "text", "text": "…"}]})
        elif isinstance(m, ToolResult):
            block = {
                "type": "tool_result",
                "tool_use_id": m.call_id,
                "content": m.content,
                "is_error": m.is_error,
            }
            last = out[-1] if out else None
            if last is not None and last["role"] == "user" and last["content"][0]["type"] == "tool_result":
                last["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
    return cast(list[MessageParam], out)


def wire_tools(tools: Sequence[Tool]) -> list[ToolParam]:
    return [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]


def converse(
    client: anthropic.Anthropic,
    model: str,
    system: str,
    messages: Sequence[Message],
    tools: Sequence[Tool],
    on_text: OnText | None,
    max_output_tokens: int,
    timeout: float,
) -> tuple[str, tuple[ToolCall, ...], Usage, str, str]:
    """One streamed turn: (text, calls, usage, model, stop reason). SDK errors propagate."""
    stream = client.messages.create(
        model=model,
        max_tokens=max_output_tokens,
        system=system,
        messages=wire_messages(messages),
        tools=wire_tools(tools),
        stream=True,
        timeout=timeout,
    )
    text: list[str] = []
    blocks: dict[int, dict[str, str]] = {}
    usage = Usage()
    answered_by, stop = model, ""
    for event in stream:
        if event.type == "message_start":
            answered_by = event.message.model or answered_by
            u = event.message.usage
            usage = Usage(
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cached_input_tokens=u.cache_read_input_tokens or 0,
                cache_creation_tokens=u.cache_creation_input_tokens or 0,
            )
        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            blocks[event.index] = {"id": block.id, "name": block.name, "json": ""}
        elif event.type == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                text.append(delta.text)
                if on_text is not None:
                    on_text(delta.text)
            elif delta.type == "input_json_delta" and event.index in blocks:
                blocks[event.index]["json"] += delta.partial_json
        elif event.type == "message_delta":
            stop = event.delta.stop_reason or stop
            usage = Usage(
                usage.input_tokens,
                event.usage.output_tokens,
                usage.cached_input_tokens,
                usage.cache_creation_tokens,
            )
    calls = tuple(ToolCall(b["id"], b["name"], _arguments(b["json"])) for _, b in sorted(blocks.items()))
    return "".join(text), calls, usage, answered_by, stop


def _arguments(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
