"""The prose after ``## Context``, executed by the configured language model (seed step 6).

The seed runs the prose inside a conversation where the context is already loaded and the
model writes notes with a Write tool. Here the run is one structured request: the skill's
prose and the "Loading context for …" text are the instructions, and the answer is a
:class:`ProseAnswer` — the reply to the user, the notes to write, and what else was done.

The model never touches the disk. Each write it asks for goes through the vault tool, which
refuses anything that would land outside the vault (an absolute path, ``..``, a symlink out,
a file that is not a note); a refused write is named in the summary and makes the run
``Complete (degraded)``, and the rest of the answer still counts. A model call that fails
degrades the run the same way, except a rate limit: that is raised, so a sequence step is
deferred and tried again rather than recorded as a session that never happened.

Nothing here logs the prose, the context or the answer: they are the user's notes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel, Field

from overture.errors import RateLimited
from overture.llm.base import LLMProvider, LLMRequest, LLMResult
from overture.llm.factory import ledger_input_tokens
from overture.skills.prose.llm import LoadedContext, ProseResult, intents, note_path
from overture.skills.prose.metering import CallMeter, failure
from overture.skills.prose.vault_tools import VaultEscape, VaultTools, confine
from overture.skills.providers.vault import Vault

TASK = "skill-prose"
log = logging.getLogger("overture.skills")

RULES = """\
You are carrying out the skill "{skill}" for the user, as the last step of an orchestrator.
The context the skill asked for has already been loaded; it follows the skill's instructions
below. Use it as given: you cannot read any other file or source. Where the context says
something is unavailable, adapt to what is there and say so.

This run is not interactive. Carry out the skill in one pass, make the sensible choices the
instructions leave to the user, and put what you would say to the user in reply_markdown.

You can change files only by listing notes in "writes". Each is a markdown (.md) note inside
the user's vault, its path relative to the vault root: working notes such as Today.md,
Week.md and Month.md live in {captive}/, people in {people}/, projects in {projects}/.
An absolute path, a path with "..", or anything outside the vault is refused.
mode "create" makes a new note (refused if it exists), "replace" rewrites the whole note,
"append" adds the content to the end of the note.

In actions_taken list, in short past-tense lines, what you did besides writing notes (the
orchestrator reports the writes itself), e.g. "Highlighted the 1:1 with Sarah Chen".
"""


class NoteWrite(BaseModel):
    """One note the model wants written."""

    path: str = Field(
        description="The note's path relative to the vault root, e.g. 00_Brain/Captive/Today.md"
    )
    content: str = Field(description="Markdown: the whole note (create, replace) or the text to add (append)")
    mode: Literal["create", "replace", "append"] = "replace"


class ProseAnswer(BaseModel):
    """The model's answer to one skill run."""

    reply_markdown: str = Field(description="What you say to the user, as markdown")
    writes: list[NoteWrite] = Field(default_factory=list)
    actions_taken: list[str] = Field(default_factory=list)


def instructions(prose: str, context: LoadedContext, vault: Vault) -> str:
    """The rules, the skill's own prose, then the loaded context, as the seed orders them."""
    layout = vault.layout
    rules = RULES.format(
        skill=context.skill, captive=layout.captive, people=layout.people, projects=layout.projects
    )
    loaded = context.text.strip() or "(none: the skill runs directly, so nothing was loaded)"
    return f"{rules}\n## Skill: {context.skill}\n\n{prose.strip()}\n\n## Loaded context\n\n{loaded}\n"


def request_input(prose: str, context: LoadedContext, vault: Vault) -> dict[str, Any]:
    """The data beside the instructions: the date, the notes loaded, and where the notes the
    prose asks for would go (a hint; the model decides)."""
    loaded = [source for r in context.results for source in r.sources if source.endswith(".md")]
    suggested = []
    for verb, name in intents(prose):
        path = note_path(vault, name)
        exists = (vault.root / path).is_file()
        mode = "append" if verb == "append" else ("replace" if exists else "create")
        suggested.append({"path": path, "mode": mode, "exists": exists})
    return {
        "skill": context.skill,
        "date": context.date.as_dict() if context.date else None,
        "notes_loaded": loaded,
        "notes_the_skill_writes": suggested,
        "task": "Carry out the skill now and answer with the JSON object.",
    }


@dataclass(frozen=True)
class ModelProseModel:
    """Executes skill prose with ``provider``; writes only through the run's vault tool."""

    provider: LLMProvider
    meter: CallMeter | None = None
    max_output_tokens: int = 4096
    timeout_s: float = 120.0

    def with_meter(self, meter: CallMeter) -> ModelProseModel:
        return replace(self, meter=meter)

    async def execute(self, prose: str, context: LoadedContext, tools: VaultTools) -> ProseResult:
        """Ask once (the provider retries an invalid answer once), then stage the writes."""
        request = LLMRequest(
            task=TASK,
            instructions=instructions(prose, context, tools.vault),
            input=request_input(prose, context, tools.vault),
            schema=ProseAnswer,
            max_output_tokens=self.max_output_tokens,
            timeout_s=self.timeout_s,
            metadata={"skill": context.skill},
        )
        try:
            result = await asyncio.to_thread(self._ask, request)
        except RateLimited:
            raise
        except Exception as exc:
            why = failure(exc)
            log.warning("skill %s: the model call failed: %s", context.skill, why)
            return ProseResult(
                "",
                (f"Session prose not run: the model call failed ({why})",),
                completed=False,
                provider=self.provider.name,
                model=self.provider.model,
                problems=(f"Session: the model call failed ({why})",),
            )
        refused = stage_writes(result.value.writes, tools)
        if refused:
            log.warning("skill %s: refused %d of the model's writes", context.skill, len(refused))
        return ProseResult(
            text=result.value.reply_markdown,
            actions=(*(a.strip() for a in result.value.actions_taken if a.strip()), *refused),
            completed=True,
            provider=result.provider,
            model=result.model,
            input_tokens=ledger_input_tokens(result),
            output_tokens=result.usage.output_tokens,
            usd=result.cost_usd or 0.0,
            problems=tuple(f"Vault write: {r}" for r in refused),
        )

    def _ask(self, request: LLMRequest[ProseAnswer]) -> LLMResult[ProseAnswer]:
        if self.meter is not None:
            return self.meter.ask(self.provider, request)
        return self.provider.structured(request)


def stage_writes(writes: list[NoteWrite], tools: VaultTools) -> list[str]:
    """Stage each write through ``tools``; returns one sentence per write refused.

    A bare file name ("Today.md") is placed as the offline model places it; any other path is
    taken as relative to the vault root and must stay inside it.
    """
    refused: list[str] = []
    for write in writes:
        path = write.path.strip()
        if path and "/" not in path and "\\" not in path and path.lower().endswith(".md"):
            path = note_path(tools.vault, path)
        try:
            if write.mode == "create" and _exists(tools, path):
                refused.append(f"Refused to write {write.path!r}: mode create, but the note exists")
                continue
            if write.mode == "append":
                tools.append(path, write.content)
            else:
                tools.write(path, write.content)
        except VaultEscape as exc:
            refused.append(f"Refused to write {exc}")
    return refused


def _exists(tools: VaultTools, path: str) -> bool:
    return any(w.path == path for w in tools.staged) or confine(tools.vault.root, path).is_file()
