"""`seed` and `bench` show progress inside each phase, on stderr, and never in --json output."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from overture.cli.main import cli
from overture.packs.sales.seed import generate


def test_seed_shows_a_bar_over_the_users_and_each_crm_table(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'seed.db'}"]
    shown = CliRunner().invoke(cli, [*db, "seed", "--org", "acme"])
    assert shown.exit_code == 0, shown.output
    assert "seeding acme" in shown.stderr and "seeding" not in shown.stdout
    quiet = CliRunner().invoke(cli, [*db, "seed", "--org", "other", "--json"])
    assert "seeding" not in quiet.stderr and json.loads(quiet.stdout)["org_id"] == "other"


def test_the_seed_reports_each_part_as_it_is_written(tmp_path: Path) -> None:
    from overture.app import App
    from overture.settings import Settings

    app = App(Settings(database_url=f"sqlite:///{tmp_path / 'parts.db'}", packs=[]))
    app.migrate()
    parts: list[str] = []
    generate.load(app.store, app.admin, "acme", progress=parts.append)
    app.close()
    assert parts == ["users", *(table.name for table in generate.PARTS)]


def test_bench_shows_an_ingest_and_a_run_bar_for_every_full_queue_run() -> None:
    args = ["bench", "--only", "w1", "--only", "flat", "--events", "20", "--serial-events", "2"]
    args += ["--lengths", "5,10", "--concurrency", "2"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    # the W1 full queue, and one per sequence length
    assert result.stderr.count("[sqlite]   ingest") == 3
    assert result.stderr.count("[sqlite]   run") == 3
    quiet = CliRunner().invoke(cli, [*args, "--json"])
    assert "ingest" not in quiet.stderr and "sqlite" in json.loads(quiet.stdout)
