"""`overture bench --json` at small sizes: every workload runs (the HTTP ones against a real
`overture serve` subprocess) and every figure is there and positive. The figures themselves
are the bench's to report, not the suite's to judge. The default suite runs the HTTP workloads
with one HTTP process on SQLite and the engine workloads on PostgreSQL; `-m slow` runs all of
them on both backends with two HTTP processes, as a user's `overture bench` does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from overture.cli.main import cli
from tests.conftest import _truncate_pg

SMALL = [
    "--events", "24", "--serial-events", "3", "--lengths", "5,10", "--concurrency", "2",
    "--http-requests", "60", "--http-connections", "4",
    "--rate", "50", "--first-step-events", "6", "--cli-runs", "1",
]  # fmt: skip

BACKEND_FIGURES = {
    "w1_one_in_flight": {"us_per_step", "ms_per_event", "ratio_to_raw"},
    "w1_full_queue": {"us_per_step", "events_per_s", "writes_per_commit", "ratio_to_raw"},
    "w2": {"pause_us_per_event", "decide_us_per_event", "pause_ratio_to_raw", "decide_ratio_to_raw"},
    "flatness": {"us_per_step_by_length", "ratio"},
    "first_step": {"p50_ms", "p99_ms", "p50_ratio_to_raw", "p99_ratio_to_raw"},
    "http_ingest": {
        "requests_per_s",
        "p50_ms",
        "p99_ms",
        "p99_ratio_to_raw",
        "ratio_to_healthz",
        "in_process_events_per_s",
    },
}
#: SQLite's W2 is followed by its storage floor (``bench/floor.py``).
FLOOR_FIGURES = {
    "pause_us_per_event",
    "decide_us_per_event",
    "pause_ratio_to_raw",
    "decide_ratio_to_raw",
    "pause_write_transactions_per_event",
    "decide_write_transactions_per_event",
}


def numbers(value: Any, where: str = "") -> Iterator[tuple[str, float]]:
    """Every number in the report, with where it is (but the count of failed replays)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key != "replay_errors":
                yield from numbers(child, f"{where}.{key}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield where, value


def bench(*args: str, http_workers: int = 1) -> dict[str, Any]:
    sizes = [*SMALL, "--http-workers", str(http_workers)]
    result = CliRunner().invoke(cli, ["bench", *sizes, *args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def check_backend(
    found: dict[str, Any], workloads: set[str], http_workers: int = 1, sqlite: bool = False
) -> None:
    assert found["raw_commit_us_min"] <= found["raw_commit_us"] <= found["raw_commit_us_max"]
    floor = {"w2_storage_floor"} if sqlite and "w2" in workloads else set()
    assert set(found) == {"raw_commit_us", "raw_commit_us_min", "raw_commit_us_max", *workloads, *floor}
    for workload in workloads:
        assert {*BACKEND_FIGURES[workload], "raw_commit_us"} <= set(found[workload]), workload
    if floor:
        replayed = found["w2_storage_floor"]
        assert {*FLOOR_FIGURES, "raw_commit_us"} <= set(replayed)
        # Every statement ran again, and the replay holds the workload's own writes: the
        # ingest and the pause per event paused; the decision and two steps per event decided.
        assert replayed["replay_errors"] == 0
        assert replayed["events"] == found["w2"]["events"]
        assert replayed["pause_write_transactions_per_event"] >= 2
        assert replayed["decide_write_transactions_per_event"] >= 3
    if "flatness" in found:
        assert set(found["flatness"]["us_per_step_by_length"]) == {"5", "10"}
    if "http_ingest" in found:
        ingest = found["http_ingest"]
        assert (ingest["requests"], ingest["statuses"]) == (60, {"202": 60})
        assert (ingest["connections"], ingest["http_workers"]) == (4, http_workers)
        assert found["first_step"]["events"] == 6


def test_bench_json_reports_every_figure_of_every_workload() -> None:
    report = bench()
    assert set(report) == {"sqlite", "cli"}
    check_backend(report["sqlite"], set(BACKEND_FIGURES), sqlite=True)
    assert report["sqlite"]["w1_full_queue"]["events"] == 24
    cli_figures = {"python_s", "help_s", "jobs_list_s", "help_ratio_to_python", "jobs_list_ratio_to_python"}
    assert cli_figures <= set(report["cli"])
    found = dict(numbers(report))
    assert found and all(value > 0 for value in found.values()), {k: v for k, v in found.items() if v <= 0}


@pytest.mark.postgres
def test_bench_json_on_postgresql_reports_the_engine_on_both_backends(pg_database: str) -> None:
    _truncate_pg(pg_database)
    workloads = {"w1_one_in_flight", "w1_full_queue", "w2"}
    report = bench("--postgres", pg_database, "--only", "w1", "--only", "w2")
    assert set(report) == {"sqlite", "postgresql"}
    for backend in ("sqlite", "postgresql"):
        check_backend(report[backend], workloads, sqlite=backend == "sqlite")
    found = dict(numbers(report))
    assert all(value > 0 for value in found.values()), {k: v for k, v in found.items() if v <= 0}


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_json_with_two_http_processes_on_both_backends(pg_database: str) -> None:
    _truncate_pg(pg_database)
    workloads = {"w1_one_in_flight", "w1_full_queue", "w2", "first_step", "http_ingest"}
    report = bench(
        "--postgres", pg_database, "--only", "w1", "--only", "w2", "--only", "http", http_workers=2
    )
    assert set(report) == {"sqlite", "postgresql"}
    for backend in ("sqlite", "postgresql"):
        check_backend(report[backend], workloads, http_workers=2, sqlite=backend == "sqlite")
    found = dict(numbers(report))
    assert all(value > 0 for value in found.values()), {k: v for k, v in found.items() if v <= 0}
