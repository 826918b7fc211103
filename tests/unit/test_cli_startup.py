"""The CLI answers at once: nothing heavy is imported until a command needs it.

Checked by what a fresh process has imported, not by timing it (``overture bench --cli`` times it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from overture.cli.lazy import COMMANDS, LazyGroup
from overture.storage import migrate

#: Provider SDKs, the web framework, the migration tool and the packs.
#: The width `--help` gives a command's one line on an 80-column terminal.
LIMIT = 80 - 6 - max(len(n) for n in COMMANDS)

HEAVY = ("anthropic", "openai", "fastapi", "starlette", "uvicorn", "alembic", "httpx", "overture.packs")

PROBE = """
import json, sys
from overture.cli.main import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    heavy = {heavy!r}
    found = sorted({{m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")}})
    print("IMPORTED=" + json.dumps(found), file=sys.stderr)
"""


def _imported(*args: str, heavy: tuple[str, ...] = HEAVY) -> tuple[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("IMPORTED="))
    return done.stdout, json.loads(line.removeprefix("IMPORTED="))


def test_help_lists_every_command_and_imports_nothing_heavy() -> None:
    out, imported = _imported("--help")
    assert imported == []
    for name in COMMANDS:
        assert f"  {name} " in out


def test_jobs_list_on_an_empty_database_reads_it_without_packs_or_providers(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate_db = [sys.executable, "-m", "overture.cli", "--db", db, "migrate"]
    subprocess.run(migrate_db, check=True, capture_output=True)
    out, imported = _imported("--db", db, "jobs", "list", heavy=(*HEAVY, "sqlalchemy", "pydantic"))
    assert imported == [] and out.strip() == "no jobs"


def test_the_help_table_matches_what_each_module_registers() -> None:
    """The names and one-line help ``--help`` shows without importing are the commands' own."""
    group = LazyGroup()
    group.load_all()
    assert set(group.commands) == set(COMMANDS)
    for name, command in group.commands.items():
        shown = click.Command(name, help=COMMANDS[name].help).get_short_help_str(LIMIT)
        assert shown == command.get_short_help_str(LIMIT), name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_is_found_by_its_name(name: str) -> None:
    group = LazyGroup()
    command = group.get_command(click.Context(group), name)
    assert command is not None and command.name in (name, COMMANDS[name].attribute)


def test_the_newest_migration_file_is_alembics_head() -> None:
    """The fast schema check compares with the same head Alembic migrates to."""
    from alembic.script import ScriptDirectory

    assert migrate.head_revision() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def test_bench_cli_times_both_commands_of_each_install_in_turns(tmp_path: Path) -> None:
    from overture.cli.startup import measure, ratios

    exe = str(Path(sys.executable).parent / "overture")
    other = tmp_path / "other-overture"
    other.symlink_to(exe)
    said: list[str] = []
    timings = measure([exe, str(other)], 1, said.append)
    assert [(t.executable, t.command, t.runs) for t in timings] == [
        (exe, "--help", 1),
        (exe, "jobs list", 1),
        (str(other), "--help", 1),
        (str(other), "jobs list", 1),
    ]
    assert all(t.wall_s > 0 and t.cpu_s > 0 for t in timings)
    assert said == ["run 1/1"]
    assert set(ratios(timings)) == {f"--help ({other})", f"jobs list ({other})"}
