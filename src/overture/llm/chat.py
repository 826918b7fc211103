"""A conversation with tool calls, the same for every provider that can hold one.

Structured answers (:mod:`overture.llm.base`) are one question and one validated answer. A
session with a person is a conversation instead: the model speaks (streamed as it is
produced), calls tools (read a file, propose a write, finish) and gets their results back.
These are the provider-neutral turns; :mod:`overture.llm.chat_openai` and
:mod:`overture.llm.chat_anthropic` put them on each API's wire, streaming.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from overture.llm.base import Usage


@dataclass(frozen=True)
class Tool:
    """A tool the model may call: its name, what it does, and its arguments' JSON Schema."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """One call the model made; ``arguments`` is None when they were not valid JSON."""

    id: str
    name: str
    arguments: dict[str, Any] | None


@dataclass(frozen=True)
class UserTurn:
    text: str


@dataclass(frozen=True)
class AssistantTurn:
    text: str
    calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


Message = UserTurn | AssistantTurn | ToolResult


@dataclass(frozen=True)
class ChatReply:
    """One model turn: what it said, the tools it called, and what the turn cost."""

    text: str
    calls: tuple[ToolCall, ...]
    usage: Usage
    provider: str
    model: str
    cost_usd: float | None
    stop_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


OnText = Callable[[str], None]


class ChatProvider(Protocol):
    """A provider that holds a streamed conversation with tool calls."""

    name: str
    model: str

    def chat(
        self,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[Tool],
        on_text: OnText | None = None,
        max_output_tokens: int = 2048,
    ) -> ChatReply:
        """The model's next turn; ``on_text`` gets its text as it streams."""
        ...
