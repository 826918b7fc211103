"""A skill run with the person: the context assembled exactly as ``skills run`` does, then a
session turn by turn, the vault written only through the confined write tool, and only after
the change was shown and the person agreed.

Ctrl-C (:class:`SessionCancelled`) cancels: nothing is written, the status is ``Cancelled``.
Ctrl-D (:class:`SessionEnded`) ends: nothing more is asked and nothing unconfirmed is written,
and the summary says the session ended early. The summary lists what the person decided.
"""

from __future__ import annotations

from datetime import datetime

from overture.errors import ValidationFailed
from overture.skills.environment import SkillEnvironment
from overture.skills.orchestrate import Assembly, SkillRun, assemble, finish
from overture.skills.prose.drafts import DraftInput
from overture.skills.prose.llm import ProseResult, intents, note_path
from overture.skills.prose.metering import CallMeter
from overture.skills.prose.vault_tools import VaultEscape, VaultTools
from overture.skills.session.answers import yes
from overture.skills.session.conversation import Conversation, Question, SessionCancelled, SessionEnded
from overture.skills.session.interview import Interview, interviewer_for
from overture.skills.skillfile import SkillFile
from overture.skills.summary import Outcome, summarise


def opening(assembly: Assembly) -> str:
    """What was loaded, as the seed's "Loading context for …" lines, with every problem."""
    summary = summarise(assembly.skill.name, assembly.results, assembly.unrecognised)
    lines = [f"Loading context for {assembly.skill.name} ({assembly.date.label}):"]
    lines += [f"- {line}" for line in summary.context]
    return "\n".join(lines)


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


async def run_session(
    skill: SkillFile,
    env: SkillEnvironment,
    now: datetime,
    talk: Conversation,
    date_expr: str | None = None,
    dry_run: bool = False,
) -> SkillRun:
    """Assemble the context, hold the offline session with ``talk``, write what was agreed."""
    meter = CallMeter()
    assembly = await assemble(skill, env, now, date_expr, meter)
    await talk.say(opening(assembly))
    tools = VaultTools(env.vault)
    interviewer = interviewer_for(intents(skill.prose_text))
    if interviewer is None:
        note = "Session not held: without a model, only sessions that write Today.md or Week.md can be run"
        await talk.say(note)
        return finish(assembly, env, ProseResult("", (note,), completed=False), (), meter.results, dry_run)
    decisions: list[str] = []
    problems: tuple[str, ...] = ()
    outcome = Outcome.SESSION
    try:
        interview = await interviewer(DraftInput(assembly.date, assembly.results), talk)
        decisions = list(interview.decisions)
        if interview.content:
            decisions += await _propose(interview, tools, talk)
        decisions.append(interview.closing)
    except SessionCancelled:
        outcome = Outcome.CANCELLED
        decisions = [*decisions, "Cancelled by the user: nothing was written"]
    except SessionEnded:
        problems = ("Session: ended by the user before anything was written",)
        decisions = [*decisions, "User ended the session early"]
    unused = talk.unused()
    if unused:
        asked = ", ".join(dict.fromkeys(getattr(talk, "asked", []))) or "nothing"
        raise ValidationFailed(
            f"answers for questions this session never asked: {', '.join(unused)} "
            f"(it asked: {asked}); nothing was written"
        )
    agreed = outcome is Outcome.SESSION and not problems
    writes = tuple(tools.staged) if agreed else ()
    if agreed and not dry_run:
        tools.commit()
    output = ProseResult(
        "\n".join(w.content for w in writes),
        tuple(decisions),
        completed=True,
        problems=problems,
        outcome=outcome,
    )
    result = finish(assembly, env, output, writes, meter.results, dry_run)
    await talk.say(result.markdown)
    return result
