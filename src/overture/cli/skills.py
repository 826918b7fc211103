"""``overture skills list`` and ``overture skills run NAME``: prose skills from the command line.

Runs need no database: a skill run reads the vault and calendar, has the configured language
model (if any) execute the prose, writes notes through the vault tool, and prints the model's
reply and the orchestrator summary, with what the model calls cost.
"""

from __future__ import annotations

import asyncio
import os
from datetime import tzinfo
from pathlib import Path

import click

from overture.cli.common import emit_json, handle_errors, json_option
from overture.clock import SystemClock
from overture.engine.packs import BUILTIN
from overture.errors import NotFound, ValidationFailed
from overture.packs.planner import working_vault
from overture.settings import load_settings
from overture.skills.context.dates import zone
from overture.skills.environment import ENV_TIMEZONE, ENV_VAULT, SkillEnvironment, build_environment
from overture.skills.orchestrate import run_skill
from overture.skills.session.conversation import Conversation, ScriptedConversation, load_answers
from overture.skills.session.model_session import DEFAULT_BUDGET_USD
from overture.skills.session.run import run_session
from overture.skills.skillfile import SkillFile, load_skills
from overture.skills.summary import RunStatus


def builtin_skill_folders() -> list[Path]:
    """The ``skills/`` folder of every built-in pack that has one."""
    return sorted(p / "skills" for p in BUILTIN.iterdir() if (p / "skills").is_dir())


def _skills(folders: tuple[str, ...], wanted: str | None = None) -> dict[str, SkillFile]:
    """The skills of the folders; a SKILL.md that cannot be read is named on stderr and the
    others load (an error only when it is the skill asked for)."""
    found: dict[str, SkillFile] = {}
    broken: dict[str, str] = {}
    for folder in [Path(f) for f in folders] or builtin_skill_folders():
        if not folder.is_dir():
            raise ValidationFailed(f"--folder {folder}: not a folder")
        loaded = load_skills(folder)
        for name, skill in loaded.skills.items():
            found.setdefault(name, skill)
        for name, error in loaded.problems.items():
            broken.setdefault(name, str(error))
    for name, reason in broken.items():
        if name == wanted and wanted not in found:
            raise ValidationFailed(f"skill {name!r} could not be read: {reason}")
        if name not in found:
            click.echo(f"skipped skill {name!r}: {reason}", err=True)
    return found


def _skill(folders: tuple[str, ...], name: str) -> SkillFile:
    found = _skills(folders, name)
    skill = found.get(name)
    if skill is None:
        known = ", ".join(sorted(found)) or "none"
        raise NotFound(f"no skill named {name!r} (known: {known})")
    return skill


def _local_zone(explicit: str | None) -> str | tzinfo:
    """--timezone, else $OVERTURE_TIMEZONE, else $TZ when it names a zone, else this machine's."""
    chosen = explicit or os.environ.get(ENV_TIMEZONE)
    if chosen:
        return zone(chosen)
    try:
        return zone(os.environ.get("TZ") or "")
    except ValidationFailed:
        local = SystemClock().now().astimezone().tzinfo
        return local if local is not None else "UTC"


def _environment(
    vault: str | None, user: str | None, calendars: tuple[str, ...], timezone: str | None
) -> SkillEnvironment:
    """The run's environment; with a per-user vault template, ``--user`` picks whose vault."""
    default = None if vault or os.environ.get(ENV_VAULT) else working_vault()
    env = build_environment(
        vault=vault,
        default_vault=default,
        calendar=list(calendars),
        timezone=_local_zone(timezone),
        settings=load_settings(),
    )
    if env.per_user:
        if not user:
            raise ValidationFailed(f"${ENV_VAULT} names a vault per user ({{user}}): pass --user or --vault")
        env = env.for_user(user)
    elif user:
        raise ValidationFailed(f"--user picks a vault only when ${ENV_VAULT} holds {{user}}")
    return env


user_option = click.option("--user", help="Whose vault, when $OVERTURE_VAULT is per user (.../{user}).")

folder_option = click.option(
    "--folder",
    "folders",
    multiple=True,
    help="A folder of <skill>/SKILL.md (repeatable; default: the built-in packs' skills).",
)


@click.group()
def skills() -> None:
    """Prose-driven skills: SKILL.md files whose Context section says what they need."""


@skills.command("list")
@folder_option
@json_option
@handle_errors
def skills_list(folders: tuple[str, ...], as_json: bool) -> None:
    """List the skills, with whether each is orchestrated and what its Context asks for."""
    found = _skills(folders)
    if as_json:
        emit_json(
            [
                {
                    "name": s.name,
                    "description": s.description,
                    "orchestrated": s.runs_orchestrated,
                    "context": [b.text for b in s.bullets],
                    "path": s.path,
                }
                for s in found.values()
            ]
        )
        return
    for s in found.values():
        mode = "orchestrated" if s.runs_orchestrated else "direct"
        click.echo(f"{s.name:<20} {mode:<13} {s.description}")


RUN_EPILOG = """\b
The language model comes from the settings (overture.toml, or these variables):
  OVERTURE_LLM_PROVIDER   offline (default: drafts notes, runs no model), openai or anthropic
  OVERTURE_LLM_MODEL      the model to call, e.g. gpt-4o-mini or claude-sonnet-4-6
  OVERTURE_LLM_API_KEY    its API key (local OpenAI-compatible servers take any placeholder)
  OVERTURE_LLM_BASE_URL   another endpoint, e.g. http://127.0.0.1:11434/v1 for a local server
With a model, the prose after the Context section is run by it with the loaded context, notes
are written only inside the vault, and Context bullets nothing recognises are classified by it.
"""


@skills.command("run", epilog=RUN_EPILOG)
@click.argument("name")
@click.option("--date", "date_expr", help="today, tomorrow, friday, next monday, next week, 2026-02-15, ...")
@click.option("--vault", type=click.Path(file_okay=False), help="The vault folder (default $OVERTURE_VAULT).")
@user_option
@click.option("--timezone", help="IANA time zone for 'today' (default $OVERTURE_TIMEZONE, else local).")
@click.option("--calendar", "calendars", multiple=True, help="An .ics file, folder or feed URL (repeatable).")
@click.option("--dry-run", is_flag=True, help="Write nothing to the vault; show what would be written.")
@folder_option
@json_option
@handle_errors
def skills_run(
    name: str,
    date_expr: str | None,
    vault: str | None,
    user: str | None,
    timezone: str | None,
    calendars: tuple[str, ...],
    dry_run: bool,
    folders: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run one skill without you: resolve the date, load its context, run its prose once (a
    model, or the offline draft), print the summary. `skills chat` holds the session with you."""
    skill = _skill(folders, name)
    env = _environment(vault, user, calendars, timezone)
    try:
        run = asyncio.run(run_skill(skill, env, SystemClock().now(), date_expr, dry_run=dry_run))
    finally:
        env.close()
    if as_json:
        emit_json({**run.as_json(), "vault": str(env.vault.root), "dry_run": dry_run})
        return
    if run.output.completed and run.output.text.strip():
        click.echo(run.output.text.strip() + "\n")
    click.echo(run.markdown)
    verb = "would write" if dry_run else "wrote"
    for write in run.writes:
        click.echo(f"{verb} {env.vault.root / write.path}")


CHAT_EPILOG = """\b
Keys: Enter takes the answer in brackets, Ctrl-C cancels (nothing is written), Ctrl-D ends.
--answers FILE answers from a YAML file instead, by question key, e.g.:
  meetings: keep
  priorities: [1, 2, "Reply to Jonas"]
  bring: {Esther Schmidt: the Q1 headcount numbers}
  focus: [accept, "14:00"]
  write: yes
A question the file does not answer takes the answer in brackets.
"""


@skills.command("chat", epilog=CHAT_EPILOG)
@click.argument("name")
@click.option("--date", "date_expr", help="today, tomorrow, friday, next monday, next week, 2026-02-15, ...")
@click.option("--vault", type=click.Path(file_okay=False), help="The vault folder (default $OVERTURE_VAULT).")
@user_option
@click.option("--timezone", help="IANA time zone for 'today' (default $OVERTURE_TIMEZONE, else local).")
@click.option("--calendar", "calendars", multiple=True, help="An .ics file, folder or feed URL (repeatable).")
@click.option(
    "--answers", "answers_file", type=click.Path(dir_okay=False), help="Answer from this YAML file."
)
@click.option("--dry-run", is_flag=True, help="Write nothing to the vault; show what would be written.")
@click.option(
    "--budget-usd",
    type=click.FloatRange(min=0),
    default=DEFAULT_BUDGET_USD,
    show_default=True,
    help="With a model: stop asking it once the session has cost this much.",
)
@folder_option
@handle_errors
def skills_chat(
    name: str,
    date_expr: str | None,
    vault: str | None,
    user: str | None,
    timezone: str | None,
    calendars: tuple[str, ...],
    answers_file: str | None,
    dry_run: bool,
    budget_usd: float,
    folders: tuple[str, ...],
) -> None:
    """Hold a skill's session with you: load its context as `run` does, show what was loaded,
    then go through the skill turn by turn; the vault is written only after you saw the change."""
    skill = _skill(folders, name)
    answers = load_answers(Path(answers_file)) if answers_file else None
    env = _environment(vault, user, calendars, timezone)
    if answers is not None:
        talk: Conversation = ScriptedConversation(answers, echo=lambda text: click.echo(text, nl=False))
    else:
        from overture.cli.chat import TerminalConversation  # the terminal library loads only here

        talk = TerminalConversation()
    try:
        run = asyncio.run(
            run_session(
                skill, env, SystemClock().now(), talk, date_expr, dry_run=dry_run, budget_usd=budget_usd
            )
        )
    finally:
        env.close()
    verb = "would write" if dry_run else "wrote"
    for write in run.writes:
        click.echo(f"{verb} {env.vault.root / write.path}")
    if run.summary.status is RunStatus.CANCELLED:
        raise SystemExit(130)


def register(cli: click.Group) -> None:
    cli.add_command(skills)
