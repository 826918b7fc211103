"""Defaults and exits that don't surprise: a rejected event is an error exit, a deferred one
says until when and why, a mistyped database file is refused instead of created, a bad status
lists the good ones, and an empty list says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from overture.cli.main import cli
from tests.acceptance.test_cli import setup_tenancy
from tests.conftest import MECHANICS, settings_folder

Run = Callable[..., Result]


def runner_on(db_url: str) -> Run:
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS])}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", db_url, *args], env=env)

    return invoke


def test_a_mistyped_database_file_is_refused_and_only_migrate_creates_it(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    run = runner_on(f"sqlite:///{typo}")
    for args in (("jobs", "list"), ("approvals", "list"), ("orgs", "add", "acme", "--name", "Acme")):
        refused = run(*args)
        assert refused.exit_code == 2, refused.output
        assert f"no database at {typo}" in refused.output and "overture migrate" in refused.output
        assert not typo.exists() and not Path(f"{typo}-turn").exists()
    assert run("migrate").exit_code == 0 and typo.exists()
    listed = run("jobs", "list")
    assert (listed.exit_code, listed.output) == (0, "no jobs\n")


def test_emit_exits_non_zero_when_rejected_and_says_why_when_deferred(db_url: str, effect_dir: Path) -> None:
    run = runner_on(db_url)
    setup_tenancy(run)
    ghost = run("emit", "five_steps", "--org", "acme", "--user", "nobody")
    assert ghost.exit_code == 1
    assert json.loads(ghost.stdout)["status"] == "rejected"
    assert "error: event rejected (user_not_found): user not found in this organisation" in ghost.stderr
    # Active hours that begin two hours from now (UTC, every day): the event waits for them.
    start = datetime.now(UTC) + timedelta(hours=2)
    hours = f"{start:%H}:00-{(start + timedelta(hours=1)):%H}:00"
    added = run("users", "add", "owl", "--org", "acme", "--active-hours", hours, "--workdays", "mon-sun")
    assert added.exit_code == 0, added.output
    late = run("emit", "five_steps", "--org", "acme", "--user", "owl")
    assert late.exit_code == 0 and json.loads(late.stdout)["status"] == "deferred"
    line = late.stderr.strip()
    assert line.startswith(f"deferred until {start:%Y-%m-%d %H}:00 UTC: outside active hours {hours}"), line
    assert f"deferred to {start:%Y-%m-%d %H}:00 local" in line
    ok = run("emit", "five_steps", "--org", "acme", "--user", "ana")
    assert ok.exit_code == 0 and ok.stderr == ""


def test_bad_statuses_are_errors_and_empty_lists_say_so(db_url: str, effect_dir: Path) -> None:
    run = runner_on(db_url)
    bogus = run("jobs", "list", "--status", "bogus")
    assert bogus.exit_code == 2
    assert "'bogus' is not one of 'pending', 'in_progress', 'awaiting_approval'" in bogus.output
    assert run("approvals", "list", "--status", "done").exit_code == 2
    assert run("jobs", "list", "--status", "failed").output == "no jobs with status failed\n"
    assert run("approvals", "list").output == "no pending approvals\n"
    assert run("approvals", "list", "--status", "all").output == "no approvals\n"
    assert run("jobs", "list", "--json").output.strip() == "[]"


def test_decide_help_says_edit_also_approves_and_sends_and_names_by() -> None:
    text = " ".join(CliRunner().invoke(cli, ["approvals", "decide", "--help"]).output.split())
    assert "edit applies --modifications and then approves and sends it" in text
    assert "--by TEXT Deciding user, recorded in the audit log" in text


def test_bad_settings_are_one_error_line_naming_each_and_never_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_folder(tmp_path, monkeypatch, 'colour = "blue"\nworker_concurrency = "lots"\n')
    monkeypatch.setenv("OVERTURE_SLACK_SIGNING_SECRET", "")
    monkeypatch.setenv("OVERTURE_MAX_CHAIN_DEPTH", "s3cr3t-looking-value")
    done = CliRunner().invoke(cli, ["approvals", "list"])
    assert done.exit_code == 2
    line = done.output.strip()
    assert line.startswith("error: settings (overture.toml or OVERTURE_* variables): ")
    assert "colour: not a setting of Overture's" in line
    assert "worker_concurrency: Input should be a valid integer" in line
    assert "max_chain_depth: Input should be a valid integer" in line
    assert (
        "s3cr3t-looking-value" not in line and "Traceback" not in line and len(done.output.splitlines()) == 1
    )
