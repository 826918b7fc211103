"""A skill run with the person: the context assembled exactly as ``skills run`` does, then a
session turn by turn, the vault written only through the confined write tool, and only after
the change was shown and the person agreed.

The session is held by the configured model when it can hold a conversation with tools
(:mod:`overture.skills.session.model_session`), else by the offline interview
(:mod:`overture.skills.session.interview`).

Ctrl-C (:class:`SessionCancelled`) cancels: nothing is written, the status is ``Cancelled``.
Ctrl-D (:class:`SessionEnded`) ends: nothing more is asked, only what the person already agreed
to is written, and the summary says the session ended early. The summary lists what the
person decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from overture.errors import ValidationFailed
from overture.llm.chat import ChatProvider
from overture.skills.environment import SkillEnvironment
from overture.skills.orchestrate import Assembly, SkillRun, assemble, finish
from overture.skills.prose.drafts import DraftInput
from overture.skills.prose.llm import ProseResult, intents, note_path
from overture.skills.prose.metering import CallMeter
from overture.skills.prose.vault_tools import VaultEscape, VaultTools
from overture.skills.session.answers import yes
from overture.skills.session.archive import archive_earlier_day
from overture.skills.session.conversation import Conversation, Question, SessionCancelled, SessionEnded
from overture.skills.session.interview import Interview, interviewer_for
from overture.skills.session.model_session import ModelSession
from overture.skills.skillfile import SkillFile
from overture.skills.summary import Outcome, summarise


def opening(assembly: Assembly) -> str:
    """What was loaded, as the seed's "Loading context for …" lines, with every problem."""
    summary = summarise(assembly.skill.name, assembly.results, assembly.unrecognised)
    lines = [f"Loading context for {assembly.skill.name} ({assembly.date.label}):"]
    lines += [f"- {line}" for line in summary.context]
    return "\n".join(lines)


@dataclass
class Held:
    """What a session did: the decisions (the summary's actions) and its problems."""

    decisions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    held: bool = True


async def _propose(interview: Interview, tools: VaultTools, talk: Conversation) -> list[str]:
    """Show the change, ask, and stage it only on a yes; returns what happened, as decisions."""
    path = note_path(tools.vault, interview.note)
    doing = "append to" if interview.mode == "append" else "write"
    await talk.say(f"I will {doing} {path}:\n\n{interview.content}")
    answer = await talk.ask(Question("write", f"{doing.capitalize()} {path} now? (yes/no)", "yes"))
    if not yes(answer):
        return [f"Did not write {interview.note} (you said no)"]
    try:
        tools.append(path, interview.content) if interview.mode == "append" else tools.write(
            path, interview.content
        )
    except VaultEscape as exc:
        return [f"Could not write {interview.note}: {exc}"]
    return []


async def _offline(assembly: Assembly, tools: VaultTools, talk: Conversation, held: Held) -> None:
    interviewer = interviewer_for(intents(assembly.skill.prose_text))
    if interviewer is None:
        note = "Session not held: without a model, only sessions that write Today.md or Week.md can be run"
        await talk.say(note)
        held.decisions.append(note)
        held.held = False
        return
    src = DraftInput(assembly.date, assembly.results)
    interview = await interviewer(src, talk)
    held.decisions += interview.decisions
    if interview.content:
        if (interview.mode, interview.note) == ("write", "Today.md"):
            held.decisions += await archive_earlier_day(src, tools, talk)
        held.decisions += await _propose(interview, tools, talk)
    held.decisions.append(interview.closing)


def chat_provider(env: SkillEnvironment) -> ChatProvider | None:
    """The configured model's provider when it can hold a conversation with tools."""
    provider = getattr(env.model, "provider", None)
    return provider if provider is not None and callable(getattr(provider, "chat", None)) else None


async def run_session(
    skill: SkillFile,
    env: SkillEnvironment,
    now: datetime,
    talk: Conversation,
    date_expr: str | None = None,
    dry_run: bool = False,
    budget_usd: float | None = None,
    meter: CallMeter | None = None,
) -> SkillRun:
    """Assemble the context, hold the session with ``talk``, write what was agreed. ``meter``
    bills the calls somewhere beyond the summary (an org's cost ledger, for the console)."""
    meter = meter or CallMeter()
    assembly = await assemble(skill, env, now, date_expr, meter)
    await talk.say(opening(assembly))
    tools = VaultTools(env.vault)
    held = Held()
    outcome = Outcome.SESSION
    provider = chat_provider(env)
    session = ModelSession(provider, assembly, tools, talk, meter, budget_usd) if provider else None
    try:
        if session is not None:
            await session.run()
        else:
            await _offline(assembly, tools, talk, held)
    except SessionCancelled:
        outcome = Outcome.CANCELLED
        held.decisions.append("Cancelled by the user: nothing was written")
    except SessionEnded:
        agreed = "only what you agreed to was written" if tools.staged else "before anything was written"
        held.problems.append(f"Session: ended by the user {agreed}")
        held.decisions.append("User ended the session early")
    if session is not None:
        held.decisions = [*session.decisions, *held.decisions]
        held.problems = [*session.problems, *held.problems]
        if session.finished and outcome is Outcome.SESSION:
            held.decisions.append(f"User completed the {skill.name} session")
    _refuse_unused(talk)
    writes = tuple(tools.staged) if outcome is Outcome.SESSION else ()
    if writes and not dry_run:
        tools.commit()
    output = ProseResult(
        "\n".join(w.content for w in writes),
        tuple(held.decisions),
        completed=held.held,
        problems=tuple(held.problems),
        outcome=outcome if held.held else Outcome.DRAFTED,
    )
    result = finish(assembly, env, output, writes, meter.results, dry_run)
    await talk.say(result.markdown)
    return result


def _refuse_unused(talk: Conversation) -> None:
    unused = talk.unused()
    if unused:
        asked = ", ".join(dict.fromkeys(getattr(talk, "asked", []))) or "nothing"
        raise ValidationFailed(
            f"answers for questions this session never asked: {', '.join(unused)} "
            f"(it asked: {asked}); nothing was written"
        )
