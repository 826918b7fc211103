"""``overture bench``: every workload on each backend, each figure divided by one raw commit on
the same storage measured in the same run (a shared, noisy machine moves both alike)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from overture.app import App
from overture.bench import approval, floor, http, pack, raw
from overture.bench import chain as w1
from overture.bench.setup import Tenant, bench_app, new_tenant
from overture.settings import Settings

#: The workloads ``--only`` can pick.
WORKLOADS = ("w1", "w2", "flat", "http", "cli")


@dataclass(frozen=True)
class Sizes:
    """How much each workload does (``overture bench --help`` names the options)."""

    events: int = 2000
    serial_events: int = 200
    lengths: tuple[int, ...] = (5, 500)
    lanes: int = 16
    http_requests: int = 5000
    http_connections: int = 32
    http_workers: int = 2
    rate: float = 20.0
    first_step_events: int = 200
    cli_runs: int = 5


def _quiet(_line: str) -> None:
    """Says nothing (``bench --json``)."""


def _ratio(value: float, raw_us: float) -> float:
    return round(value / raw_us, 2)


#: Raw commits timed before and after each workload.
RAW_SAMPLES = 500


def measure_backend(
    name: str,
    url: str,
    raw_commit: Callable[[int], float],
    folder: Path,
    sizes: Sizes,
    only: set[str],
    say: Callable[[str], None],
    w2_floor: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Every workload but the CLI's on one database. Each is bracketed by raw commits timed
    just before and just after it, and divided by their mean: a shared machine's speed drifts
    within a run, and a workload is compared with the storage as it was meanwhile. With
    ``w2_floor``, W2 is followed by its storage floor (``floor``, SQLite)."""
    registry = pack.load(folder)
    app = bench_app(url, registry)
    tenant = new_tenant(app)
    show = f"[{name}]  " if say is not _quiet else None
    raws: list[float] = []

    def bracketed(key: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        before = raw_commit(RAW_SAMPLES)
        found = work()
        after = raw_commit(RAW_SAMPLES)
        raws.extend((before, after))
        raw_us = (before + after) / 2
        found = {**found, "raw_commit_us": raw_us, **_ratios(key, found, raw_us)}
        for line in describe(name, {key: found}):
            say(line)
        return found

    report: dict[str, Any] = {}
    try:
        if "w1" in only:
            report["w1_one_in_flight"] = bracketed(
                "w1_one_in_flight", lambda: w1.one_in_flight(app, tenant, sizes.serial_events)
            )
            report["w1_full_queue"] = bracketed(
                "w1_full_queue", lambda: w1.full_queue(app, tenant, 5, sizes.events, sizes.lanes, show)
            )
        if "w2" in only:
            report["w2"] = bracketed(
                "w2", lambda: approval.pause_and_decide(app, tenant, sizes.serial_events)
            )
            if w2_floor is not None:
                report["w2_storage_floor"] = bracketed("w2_storage_floor", w2_floor)
        if "flat" in only:
            report["flatness"] = bracketed("flatness", lambda: _flatness(app, tenant, sizes, show))
        if "http" in only:
            report["first_step"] = bracketed(
                "first_step",
                lambda: http.first_step(
                    url,
                    folder,
                    tenant,
                    events=sizes.first_step_events,
                    rate=sizes.rate,
                    http_workers=sizes.http_workers,
                ),
            )
            report["http_ingest"] = bracketed(
                "http_ingest", lambda: _http_ingest(app, tenant, url, folder, sizes)
            )
    finally:
        app.close()
    return {
        "raw_commit_us": statistics.fmean(raws),
        "raw_commit_us_min": min(raws),
        "raw_commit_us_max": max(raws),
        **report,
    }


def _flatness(app: App, tenant: Tenant, sizes: Sizes, show: str | None) -> dict[str, Any]:
    total = max(sizes.lengths) * 10
    by_length = {
        str(n): w1.full_queue(app, tenant, n, max(1, total // n), sizes.lanes, show)["us_per_step_run_only"]
        for n in sizes.lengths
    }
    return {
        "us_per_step_by_length": by_length,
        "ratio": round(max(by_length.values()) / min(by_length.values()), 2),
    }


def _http_ingest(app: App, tenant: Tenant, url: str, folder: Path, sizes: Sizes) -> dict[str, Any]:
    found = http.ingest(
        url,
        folder,
        tenant,
        requests=sizes.http_requests,
        connections=sizes.http_connections,
        http_workers=sizes.http_workers,
    )
    engine = w1.ingest_only(app, tenant, sizes.http_requests, sizes.http_connections)
    w1.drain(app, sizes.lanes)  # the jobs both runs left queued, untimed
    return {**found, "in_process_events_per_s": engine["events_per_s"]}


def _ratios(key: str, found: dict[str, Any], raw_us: float) -> dict[str, float]:
    """Each figure of ``found`` that is a time, over one raw commit."""
    if key in ("w1_one_in_flight", "w1_full_queue"):
        return {"ratio_to_raw": _ratio(found["us_per_step"], raw_us)}
    if key in ("w2", "w2_storage_floor"):
        return {
            "pause_ratio_to_raw": _ratio(found["pause_us_per_event"], raw_us),
            "decide_ratio_to_raw": _ratio(found["decide_us_per_event"], raw_us),
        }
    if key == "flatness":
        return {}
    return {
        "p50_ratio_to_raw": _ratio(found["p50_ms"] * 1e3, raw_us),
        "p99_ratio_to_raw": _ratio(found["p99_ms"] * 1e3, raw_us),
    }


def describe(name: str, r: dict[str, Any]) -> list[str]:
    """The report of one backend as lines for a person."""
    lines = []
    if "w1_one_in_flight" in r:
        f = r["w1_one_in_flight"]
        lines.append(
            f"[{name}] W1 one event in flight: {f['us_per_step']:.0f} us/step ({f['ratio_to_raw']}x raw), "
            f"{f['ms_per_event']:.2f} ms per 5-step event"
        )
    if "w1_full_queue" in r:
        f = r["w1_full_queue"]
        lines.append(
            f"[{name}] W1 full queue, {f['lanes']} lanes: {f['us_per_step']:.0f} us/step "
            f"({f['ratio_to_raw']}x raw), {f['events_per_s']:.0f} events/s, "
            f"{f['writes_per_commit']:.1f} step writes per commit"
        )
    if "w2" in r:
        f = r["w2"]
        lines.append(
            f"[{name}] W2 pause: {f['pause_us_per_event']:.0f} us/event ({f['pause_ratio_to_raw']}x raw); "
            f"decide and finish: {f['decide_us_per_event']:.0f} us/event ({f['decide_ratio_to_raw']}x raw)"
        )
    if "w2_storage_floor" in r:
        f = r["w2_storage_floor"]
        lines.append(
            f"[{name}] W2's storage floor (its own statements and commits run again, nothing between): "
            f"pause {f['pause_us_per_event']:.0f} us/event ({f['pause_ratio_to_raw']}x raw, "
            f"{f['pause_write_transactions_per_event']} write transactions); decide and finish "
            f"{f['decide_us_per_event']:.0f} us/event ({f['decide_ratio_to_raw']}x raw, "
            f"{f['decide_write_transactions_per_event']} write transactions)"
        )
    if "flatness" in r:
        f = r["flatness"]
        per = ", ".join(f"{n} steps {us:.0f} us" for n, us in f["us_per_step_by_length"].items())
        lines.append(f"[{name}] per-step cost by chain length: {per}; flatness {f['ratio']}x")
    if "first_step" in r:
        f = r["first_step"]
        lines.append(
            f"[{name}] event to first step at {f['rate_per_s']:.0f}/s ({f['http_workers']} HTTP workers): "
            f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms ({f['p99_ratio_to_raw']}x raw)"
        )
    if "http_ingest" in r:
        f = r["http_ingest"]
        lines.append(
            f"[{name}] POST /v1/events, {f['connections']} connections, {f['http_workers']} HTTP workers: "
            f"{f['requests_per_s']:.0f} req/s, p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms "
            f"(p99 {f['p99_ratio_to_raw']}x raw); {f['ratio_to_healthz']}x the throughput of its /healthz "
            f"({f['healthz_requests_per_s']:.0f} req/s); the engine alone in one process, "
            f"{f['connections']} threads: {f['in_process_events_per_s']:.0f} events/s; "
            f"answers {f['statuses']}"
        )
    return lines


def cli_startup(runs: int) -> dict[str, Any]:
    """``overture --help`` and ``overture jobs list`` (empty database) in fresh processes, and a
    bare interpreter's start for scale."""
    from overture.cli.startup import measure

    here = shutil.which("overture", path=str(Path(sys.executable).parent)) or "overture"
    found = {t.command: t.wall_s for t in measure([here], runs)}
    python_s = statistics.median(_wall([sys.executable, "-c", "pass"]) for _ in range(runs))
    return {
        "runs": runs,
        "python_s": round(python_s, 4),
        "help_s": round(found["--help"], 4),
        "jobs_list_s": round(found["jobs list"], 4),
        "help_ratio_to_python": round(found["--help"] / python_s, 2),
        "jobs_list_ratio_to_python": round(found["jobs list"] / python_s, 2),
    }


def _wall(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def run_bench(sizes: Sizes, pg_url: str | None, only: set[str], progress: bool = True) -> dict[str, Any]:
    say: Callable[[str], None] = click.echo if progress else _quiet
    report: dict[str, Any] = {}
    backends = only - {"cli"}
    with tempfile.TemporaryDirectory(prefix="overture-bench-") as tmp:
        folder = pack.write_pack(Path(tmp) / "benchpack", [1, *sizes.lengths])
        if backends:
            sync = Settings().sqlite_synchronous
            report["sqlite"] = measure_backend(
                "sqlite",
                f"sqlite:///{Path(tmp) / 'engine.db'}",
                lambda n: raw.sqlite_commit_us(Path(tmp) / "raw.db", n, sync),
                folder,
                sizes,
                backends,
                say,
                lambda: floor.storage_floor(Path(tmp) / "floor.db", folder, sizes.serial_events, sync),
            )
            if pg_url:
                report["postgresql"] = measure_backend(
                    "postgresql", pg_url, lambda n: raw.pg_commit_us(pg_url, n), folder, sizes, backends, say
                )
    if "cli" in only:
        report["cli"] = c = cli_startup(sizes.cli_runs)
        say(
            f"[cli] overture --help {c['help_s'] * 1e3:.0f} ms ({c['help_ratio_to_python']}x a bare python), "
            f"jobs list {c['jobs_list_s'] * 1e3:.0f} ms ({c['jobs_list_ratio_to_python']}x)"
        )
    return report
