"""Subcommands imported only when they run, so ``overture --help`` answers at once.

Each entry names the module and attribute of a top-level command and its one-line help (what
``--help`` lists). A test checks the table against what each module's ``register`` adds, so it
cannot drift; a name missing from the table is still found by importing every module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class Lazy:
    """Where a top-level command lives, and its one-line help."""

    module: str
    attribute: str
    help: str


#: Modules under ``overture.cli`` whose ``register(cli)`` adds top-level commands.
MODULES = (
    "admin", "jobs", "serve", "integrations", "packs", "skills", "sales", "demo", "perf", "evaluate",
    "scaffold", "docs", "ops", "console",
)  # fmt: skip

COMMANDS: dict[str, Lazy] = {
    "migrate": Lazy("admin", "migrate", "Create or upgrade the database schema."),
    "orgs": Lazy("admin", "orgs", "Organisations."),
    "users": Lazy("admin", "users", "People in an organisation."),
    "features": Lazy("admin", "features", "Which event types run for an org."),
    "budgets": Lazy("admin", "budgets", "AI cost budgets."),
    "emit": Lazy("jobs", "emit", "Send an event; prints {event_id, status, job_id, reason} as JSON."),
    "worker": Lazy("jobs", "worker", "Run jobs."),
    "scheduler": Lazy(
        "jobs", "scheduler", "Fire scheduled events (morning brief, pipeline scan, ...) once per slot."
    ),
    "jobs": Lazy("jobs", "jobs", "Inspect jobs."),
    "effects": Lazy(
        "jobs",
        "effects",
        "Side effects jobs queued (emails, files, messages): list them, retry failed ones.",
    ),
    "approvals": Lazy("jobs", "approvals", "Pending actions waiting for a human."),
    "serve": Lazy(
        "serve", "serve", "Serve the HTTP API with a worker and the scheduler until SIGTERM or Ctrl-C."
    ),
    "tokens": Lazy(
        "serve", "tokens", "API tokens: stored hashed, scoped to an org (optionally one user), or admin."
    ),
    "integrations": Lazy(
        "integrations", "integrations", "Accounts that route webhooks to an org and a user."
    ),
    "packs": Lazy("packs", "packs", "Packs of sequences and skills."),
    "init": Lazy(
        "scaffold",
        "init",
        "Start a pack in a new folder NAME: a sequence with an approval step, a typed skill, an effect "
        "and a passing test.",
    ),
    "skills": Lazy(
        "skills", "skills", "Prose-driven skills: SKILL.md files whose Context section says what they need."
    ),
    "seed": Lazy(
        "sales",
        "seed",
        "Create a believable sales org: reps in four time zones, companies, contacts, deals at every "
        "stage, a week of meetings with transcripts, inboxes, calendars, campaigns and templates.",
    ),
    "contacts": Lazy("sales", "contacts", "Contacts Overture created from calls: list them, and undo one."),
    "demo": Lazy(
        "demo",
        "demo",
        "A scripted story on a fresh SQLite file: a sales call ends and Overture takes it from there.",
    ),
    "bench": Lazy(
        "perf",
        "bench",
        "What users feel, each figure against one raw commit on the same storage in the same run.",
    ),
    "eval": Lazy(
        "evaluate", "evaluate", "Run each labelled call in FILE through the real meeting_ended path."
    ),
    "docs": Lazy("docs", "docs", "Generate the reference pages in docs/ from the code."),
    "events": Lazy("ops", "events", "Events as they arrived, and replaying one as a new job."),
    "console": Lazy("console", "console", "The web console: one-time sign-in links, and people's sessions."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            lazy = COMMANDS.get(cmd_name)
            if lazy is not None:
                module = importlib.import_module(f"overture.cli.{lazy.module}")
                found: Any = getattr(module, lazy.attribute)
                self.add_command(found, cmd_name)
            else:
                self.load_all()
        return self.commands.get(cmd_name)

    def load_all(self) -> None:
        """Import every command module (a name the table does not know, or a test)."""
        for name in MODULES:
            module = importlib.import_module(f"overture.cli.{name}")
            staging = click.Group()
            module.register(staging)
            for cmd_name, command in staging.commands.items():
                self.commands.setdefault(cmd_name, command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands from the table, importing none of them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            lazy = COMMANDS.get(name)
            if lazy is not None and name not in self.commands:
                rows.append((name, click.Command(name, help=lazy.help).get_short_help_str(limit)))
            else:
                command = self.commands[name]
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
