"""The session held by a model, with tool calls, turn by turn with the person.

The loaded context is the conversation's opening turn, as the seed shows it ("Loading context
for planning-daily: …"); the system prompt is the rules and the skill's whole body after
Context. The model streams what it says; when it stops without calling a tool it is waiting
for the person, whose answer is the next turn. It acts only through three tools:

- ``read_file``: the full text of a file that was loaded, and nothing else;
- ``propose_write``: a note write, shown to the person and staged only on their yes (the vault
  tool keeps it inside the vault);
- ``finish``: the end, with the decisions the person made.

Every turn is metered (tokens and cost on the run's meter) and checked against the budget
before the next one is asked for. Nothing here logs the conversation: it is the user's.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from overture.errors import RateLimited
from overture.llm.base import LLMResult
from overture.llm.chat import AssistantTurn, ChatProvider, Message, Tool, ToolCall, ToolResult, UserTurn
from overture.skills.orchestrate import Assembly
from overture.skills.prose.llm import note_path
from overture.skills.prose.metering import CallMeter, failure
from overture.skills.prose.vault_tools import VaultEscape, VaultTools
from overture.skills.session.answers import yes
from overture.skills.session.conversation import Conversation, Question

log = logging.getLogger("overture.skills")
MAX_TURNS = 30
DEFAULT_BUDGET_USD = 1.0
"""What a session may cost unless the person says otherwise (``--budget-usd``)."""

RULES = """\
You are holding the skill "{skill}" with the user, turn by turn, in a conversation. The context
the skill asked for was loaded into this conversation in the first message. Follow the skill's
instructions below, in order, one step at a time.

Keep each turn short. When you need the user's decision, ask one question and end your turn:
their answer comes as the next message. Use the tools:
- read_file: the full text of a file that was loaded (no other file can be read).
- propose_write: propose writing a note. The user sees it and says yes or no; the result says
  which. Paths are relative to the vault root; working notes such as Today.md and Week.md live
  in {captive}/. mode is "replace" (the whole note) or "append" (added at the end).
- finish: when the session is done, with the decisions the user made, as short past-tense lines.

## Skill: {skill}

{prose}
"""

TOOLS = (
    Tool(
        "read_file",
        "The full text of one file that was loaded into this conversation.",
        {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    ),
    Tool(
        "propose_write",
        "Propose writing a note in the vault; the user is shown it and decides.",
        {
            "type": "object",
            "properties": {
                "path": {
                    "type": "string",
                    "description": "Relative to the vault root, e.g. Captive/Today.md",
                },
                "content": {"type": "string", "description": "Markdown"},
                "mode": {"type": "string", "enum": ["replace", "append"]},
            },
            "required": ["path", "content"],
        },
    ),
    Tool(
        "finish",
        "End the session, with the decisions the user made.",
        {
            "type": "object",
            "properties": {"decisions": {"type": "array", "items": {"type": "string"}}},
            "required": ["decisions"],
        },
    ),
)


@dataclass
class ModelSession:
    """One session's state: the conversation, what the person decided, what went wrong."""

    provider: ChatProvider
    assembly: Assembly
    tools: VaultTools
    talk: Conversation
    meter: CallMeter
    budget_usd: float | None = None
    max_turns: int = MAX_TURNS
    max_output_tokens: int = 2048
    messages: list[Message] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    finished: bool = False
    _answers: int = 0
    _writes: int = 0

    def loaded(self) -> dict[str, str]:
        """The files loaded, by their vault path."""
        return {b.source: b.body for r in self.assembly.results for b in r.blocks if b.source}

    async def run(self) -> None:
        """Turns until the model finishes, the budget or the turn limit is reached, or a call
        fails; :class:`SessionCancelled` and :class:`SessionEnded` pass through."""
        skill = self.assembly.skill
        system = RULES.format(
            skill=skill.name, captive=self.tools.vault.layout.captive, prose=skill.prose_text
        )
        self.messages.append(UserTurn(self.assembly.loading or f"Nothing was loaded for {skill.name}."))
        for _ in range(self.max_turns):
            refusal = await asyncio.to_thread(self.meter.exhausted)
            if refusal is not None:
                self.problems.append(f"Session: stopped before the next turn: {refusal}")
                return
            spent = self.meter.spent_usd()
            if self.budget_usd is not None and spent >= self.budget_usd:
                self.problems.append(
                    f"Session: stopped at the budget (${spent:.4f} of ${self.budget_usd:.4f} spent)"
                )
                return
            try:
                reply = await asyncio.to_thread(
                    self.provider.chat, system, self.messages, TOOLS, self.talk.stream, self.max_output_tokens
                )
            except RateLimited as exc:
                self.problems.append(f"Session: the model is rate limited ({exc})")
                return
            except Exception as exc:
                log.warning("skill %s: a session turn failed: %s", skill.name, failure(exc))
                self.problems.append(f"Session: the model call failed ({failure(exc)})")
                return
            result: LLMResult[Any] = LLMResult(None, reply.usage, reply.provider, reply.model, reply.cost_usd)
            await asyncio.to_thread(self.meter.record, result)  # it may write the org's ledger
            if reply.text:
                self.talk.stream("\n")
            self.messages.append(AssistantTurn(reply.text, reply.calls))
            if reply.calls:
                for call in reply.calls:
                    self.messages.append(await self._tool(call))
                if self.finished:
                    return
                continue
            self._answers += 1
            answer = await self.talk.ask(Question(f"reply/{self._answers}", "Your answer", ""))
            self.messages.append(UserTurn(answer))
        self.problems.append(f"Session: ended after {self.max_turns} turns without finishing")

    async def _tool(self, call: ToolCall) -> ToolResult:
        args: dict[str, Any] | None = call.arguments
        if args is None:
            return ToolResult(call.id, call.name, "The arguments were not valid JSON.", is_error=True)
        if call.name == "read_file":
            return self._read(call, str(args.get("path", "")))
        if call.name == "propose_write":
            return await self._write(call, args)
        if call.name == "finish":
            self.finished = True
            self.decisions += [str(d).strip() for d in args.get("decisions", []) if str(d).strip()]
            return ToolResult(call.id, call.name, "Session finished.")
        return ToolResult(call.id, call.name, f"There is no tool named {call.name!r}.", is_error=True)

    def _read(self, call: ToolCall, path: str) -> ToolResult:
        loaded = self.loaded()
        wanted = path.strip().lstrip("/")
        found = loaded.get(wanted) or next(
            (body for source, body in loaded.items() if source.rsplit("/", 1)[-1] == wanted), None
        )
        if found is None:
            return ToolResult(
                call.id,
                call.name,
                f"{path} was not loaded. Loaded: {', '.join(sorted(loaded))}",
                is_error=True,
            )
        return ToolResult(call.id, call.name, found)

    async def _write(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        path = str(args.get("path", "")).strip()
        content = str(args.get("content", ""))
        mode = "append" if args.get("mode") == "append" else "replace"
        if path and "/" not in path:
            path = note_path(self.tools.vault, path)
        doing = "append to" if mode == "append" else "write"
        await self.talk.say(f"Proposed: {doing} {path}:\n\n{content}")
        self._writes += 1
        answer = await self.talk.ask(
            Question(f"write/{self._writes}", f"{doing.capitalize()} {path}? (yes/no)", "yes")
        )
        if not yes(answer):
            self.decisions.append(f"Declined the proposed write of {path}")
            return ToolResult(call.id, call.name, "The user said no; nothing was written.")
        try:
            self.tools.append(path, content) if mode == "append" else self.tools.write(path, content)
        except VaultEscape as exc:
            self.problems.append(f"Vault write: Refused to write {exc}")
            return ToolResult(call.id, call.name, f"Refused: {exc}", is_error=True)
        return ToolResult(
            call.id, call.name, f"The user agreed; {path} will be written when the session ends."
        )
