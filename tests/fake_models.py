"""Loopback fakes of the OpenAI Chat Completions and Anthropic Messages APIs for streamed
conversations with tool calls, speaking the real server-sent-event wire formats.

A test scripts the model's turns; each turn is a function of the request body (so a turn can
use what the person answered) returning the text to stream and the tool calls to make. The
fake splits the text and each call's JSON arguments into several deltas, as the real APIs do,
and records every request so a test can check what went over the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.unit.test_integrations_apis import FakeApi, Reply, Seen

OPENAI_MODEL = "gpt-4o-2024-08-06"
ANTHROPIC_MODEL = "claude-sonnet-4-6"


@dataclass(frozen=True)
class Turn:
    """What the model says in one turn, and the tools it calls: (name, arguments)."""

    text: str = ""
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    input_tokens: int = 1000
    output_tokens: int = 60


Script = list[Callable[[dict[str, Any]], Turn]]


def _pieces(text: str, size: int = 12) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def openai_stream(turn: Turn, number: int) -> bytes:
    """A ``chat.completion.chunk`` stream: role, text deltas, tool-call deltas by index (id and
    name first, then argument fragments), the finish reason, a usage chunk, ``[DONE]``."""

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> str:
        body: dict[str, Any] = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion.chunk",
            "created": 1764547200,
            "model": OPENAI_MODEL,
            "system_fingerprint": "fp_test",
            "choices": []
            if usage
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage is not None:
            body["usage"] = usage
        return f"data: {json.dumps(body)}\n\n"

    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    out += [chunk({"content": piece}) for piece in _pieces(turn.text)]
    for index, (name, args) in enumerate(turn.calls):
        call_id = f"call_{number}_{index}"
        start = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        out.append(chunk({"tool_calls": [start]}))
        for piece in _pieces(json.dumps(args), 20):
            out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    out.append(chunk({}, "tool_calls" if turn.calls else "stop"))
    usage = {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
    out.append(chunk({}, usage=usage))
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def anthropic_stream(turn: Turn, number: int) -> bytes:
    """A Messages event stream: message_start, a text block and tool_use blocks with their
    deltas, message_delta (stop reason, output tokens), message_stop."""

    def event(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    message = {
        "id": f"msg_{number}",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": ANTHROPIC_MODEL,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": turn.input_tokens, "output_tokens": 1},
    }
    out = [event("message_start", {"message": message})]
    index = 0
    if turn.text:
        out.append(event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}))
        for piece in _pieces(turn.text):
            out.append(
                event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}})
            )
        out.append(event("content_block_stop", {"index": 0}))
        index = 1
    for offset, (name, args) in enumerate(turn.calls):
        at = index + offset
        block = {"type": "tool_use", "id": f"toolu_{number}_{offset}", "name": name, "input": {}}
        out.append(event("content_block_start", {"index": at, "content_block": block}))
        for piece in _pieces(json.dumps(args), 20):
            delta = {"type": "input_json_delta", "partial_json": piece}
            out.append(event("content_block_delta", {"index": at, "delta": delta}))
        out.append(event("content_block_stop", {"index": at}))
    stop = "tool_use" if turn.calls else "end_turn"
    out.append(
        event(
            "message_delta",
            {
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": turn.output_tokens},
            },
        )
    )
    out.append(event("message_stop", {}))
    return "".join(out).encode()


@dataclass
class FakeModel:
    """Answers each streamed request with the next scripted turn; keeps the request bodies."""

    kind: str
    script: Script
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, seen: Seen) -> Reply:
        body: dict[str, Any] = json.loads(seen.body)
        self.requests.append(body)
        number = len(self.requests)
        if number > len(self.script):
            return Reply(500, {"error": {"message": "the script has no more turns", "type": "server_error"}})
        turn = self.script[number - 1](body)
        stream = openai_stream(turn, number) if self.kind == "openai" else anthropic_stream(turn, number)
        return Reply(200, stream, {"Content-Type": "text/event-stream"})


def last_user_text(body: dict[str, Any]) -> str:
    """What the person said last, in either API's request."""
    for message in reversed(body["messages"]):
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            return content
        texts = [b["text"] for b in content if b.get("type") == "text"]
        if texts:
            return texts[-1]
    return ""


def tool_results(body: dict[str, Any]) -> list[str]:
    """Every tool result sent back to the model, in either API's request."""
    found: list[str] = []
    for message in body["messages"]:
        if message["role"] == "tool":
            found.append(str(message["content"]))
        elif message["role"] == "user" and isinstance(message["content"], list):
            found += [str(b["content"]) for b in message["content"] if b.get("type") == "tool_result"]
    return found


def serve(kind: str, script: Script) -> tuple[FakeApi, FakeModel]:
    model = FakeModel(kind, script)
    return FakeApi(model), model
