"""`overture jobs list` read by the database driver alone (``storage.readonly``) says exactly
what the full read says, on both backends, and hands over to it whenever it cannot be sure."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from overture.app import App
from overture.cli.common import CliState
from overture.cli.main import cli
from overture.engine.admin.views import job_summary
from overture.settings import Settings
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import sequence_jobs
from tests.conftest import MECHANICS, FakeClock, event, settings_folder


def _list(db_url: str, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(
        cli, ["--db", db_url, "jobs", "list", *args], env={"OVERTURE_PACKS": json.dumps([MECHANICS])}
    )
    return done.exit_code, done.output


@pytest.fixture
def no_full_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the SQLAlchemy read fail loudly, so an answer can only have come from the driver."""

    def refuse(self: CliState) -> None:
        raise AssertionError("the jobs list took the full read")

    monkeypatch.setattr(CliState, "store", refuse)


def test_the_quick_list_matches_the_full_read(
    app: App, clock: FakeClock, db_url: str, no_full_read: None
) -> None:
    app.admin.add_org("other", "Other")
    app.admin.add_user("other", "olga", "Olga", active_hours=None)
    for n in range(3):
        app.emit(event("five_steps", {"n": n}))
        clock.advance(timedelta(seconds=1))
    app.emit(event("gated", {"ref": "r1"}))
    app.emit(event("must_stop"))  # the same instant as the one before: ordered by id then
    app.emit({**event("five_steps"), "org_id": "other", "user_id": "olga"})
    app.run_until_idle()
    with app.store.write() as conn:
        first = jobq.list_jobs(conn, limit=1)[0]
        conn.execute(
            sa.update(sequence_jobs)
            .where(sequence_jobs.c.id == first.id)
            .values(execution_metadata={**(first.execution_metadata or {}), "effect_failures": 2})
        )

    for args, filters in (
        ((), {}),
        (("--org", "acme"), {"org_id": "acme"}),
        (("--status", "completed", "--limit", "2"), {"status": "completed", "limit": 2}),
        (("--org", "other", "--status", "failed"), {"org_id": "other", "status": "failed"}),
    ):
        with app.store.read() as conn:
            expected = [job_summary(j) for j in jobq.list_jobs(conn, **filters)]  # type: ignore[arg-type]
        code, out = _list(db_url, *args, "--json")
        assert code == 0, out
        assert json.loads(out) == json.loads(json.dumps(expected))
    code, out = _list(db_url)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6
    assert lines[0].startswith(f"{first.id}  ") and lines[0].endswith("(2 effect(s) failed)")
    assert {line.split()[1] for line in lines} >= {"completed", "awaiting_approval"}
    assert _list(db_url, "--status", "expired") == (0, "no jobs with status expired\n")


def _sqlite_copy(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "overture.db"
    path.write_bytes(template.read_bytes())
    return f"sqlite:///{path}"


def test_an_outdated_schema_gets_the_full_reads_answer(sqlite_template: Path, tmp_path: Path) -> None:
    url = _sqlite_copy(sqlite_template, tmp_path)
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    code, out = _list(url)
    assert code == 1 and "the database is at schema revision 0001; run `overture migrate` first" in out


def test_a_missing_file_is_refused_as_before(tmp_path: Path) -> None:
    code, out = _list(f"sqlite:///{tmp_path / 'typo.db'}")
    assert code == 2 and "no database at" in out and not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize(
    ("toml", "env", "flag"),
    [
        (None, None, None),
        ('database_url = "sqlite:///from-file.db"\n', None, None),
        ('llm_provider = "offline"\n', None, None),
        ('database_url = "sqlite:///from-file.db"\n', "sqlite:///from-env.db", None),
        ('database_url = "sqlite:///from-file.db"\n', "sqlite:///from-env.db", "sqlite:///from-flag.db"),
    ],
)
def test_the_quick_url_is_the_one_settings_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str | None, env: str | None, flag: str | None
) -> None:
    settings_folder(tmp_path, monkeypatch, toml)
    if env is not None:
        monkeypatch.setenv("OVERTURE_DATABASE_URL", env)
    chosen = flag or env  # what the --db option (OVERTURE_DATABASE_URL its envvar) hands over
    state = CliState(overrides={"database_url": chosen} if chosen else {})
    assert state.database_url_quickly() == Settings(**state.overrides).database_url


def test_an_unreadable_settings_file_is_left_to_settings_to_explain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_folder(tmp_path, monkeypatch, "database_url = [not toml\n")
    assert CliState().database_url_quickly() is None
    done = CliRunner().invoke(cli, ["jobs", "list"])
    assert done.exit_code == 2
    assert done.output.startswith("error: overture.toml: not valid TOML (Invalid value (at line 1")
