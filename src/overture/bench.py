"""The benchmark: engine cost per durably recorded step, against the storage's raw commit cost
measured in the same run (ratios survive a noisy shared machine; absolute numbers do not)."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from overture.app import App
from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.sequences import load_sequence_text
from overture.settings import Settings


def bench_registry(lengths: list[int]) -> Registry:
    """A registry with one trivial sequence per requested length (``bench_5`` ...)."""
    registry = Registry()

    @registry.skill("bench-noop")
    def noop(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Do nothing but return a small output."""
        return {"i": ctx.step_index}

    for n in sorted(set(lengths)):
        steps = "\n".join(f"  - name: s{i}\n    uses: skill:bench-noop" for i in range(n))
        text = f"event_type: bench_{n}\nactive_hours: ignore\nsteps:\n{steps}\n"
        registry.add_sequence(load_sequence_text(text, f"bench_{n}.yaml"))
    return registry


def raw_sqlite_commit_us(path: Path, n: int, synchronous: str) -> float:
    """One INSERT + COMMIT per row with the engine's durability settings."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE IF NOT EXISTS raw(id INTEGER PRIMARY KEY, job TEXT, idx INT, out TEXT)")
    t0 = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO raw(job, idx, out) VALUES (?, ?, ?)", ("job", i, '{"i": 1}'))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed / n * 1e6


def raw_pg_commit_us(url: str, n: int) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TEMP TABLE raw(id serial PRIMARY KEY, job text, idx int, out jsonb)")
        conn.commit()
        t0 = time.perf_counter()
        for i in range(n):
            conn.execute("INSERT INTO raw(job, idx, out) VALUES (%s, %s, %s)", ("job", i, '{"i": 1}'))
            conn.commit()
        return (time.perf_counter() - t0) / n * 1e6


@contextmanager
def progress_bar(label: str | None, total: int) -> Iterator[Callable[[int], None]]:
    """A bar on stderr advanced by the returned function (from any thread); none without a label."""
    if label is None:
        yield lambda _n: None
        return
    lock = threading.Lock()
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:

        def advance(n: int) -> None:
            with lock:
                bar.update(n)

        yield advance


def engine_run(
    url: str,
    registry: Registry,
    length: int,
    events: int,
    concurrency: int = 1,
    label: str | None = None,
) -> dict[str, float]:
    """Ingest ``events`` events of a ``length``-step sequence from ``concurrency`` producer
    threads (as concurrent API requests would), then run them all with one worker of
    ``concurrency`` lanes. With ``label``, each phase shows a progress bar; the run's is read
    from the worker's count of jobs run every 0.2 s, so the database sees no extra queries."""
    settings = Settings(database_url=url, packs=[])
    app = App(settings, registry=registry)
    app.migrate()
    org = f"bench{time.time_ns()}"
    app.admin.add_org(org, "Bench")
    app.admin.add_user(org, f"{org}-u", "Bench", active_hours=None)

    def produce(first: int, advance: Callable[[int], None]) -> None:
        for i in range(first, events, concurrency):
            app.emit({"type": f"bench_{length}", "org_id": org, "user_id": f"{org}-u", "payload": {"i": i}})
            advance(1)

    t0 = time.perf_counter()
    ingest = f"{label} ingest" if label else None
    with (
        progress_bar(ingest, events) as advance,
        ThreadPoolExecutor(concurrency, thread_name_prefix="bench-producer") as producers,
    ):
        list(producers.map(lambda first: produce(first, advance), range(concurrency)))
    t1 = time.perf_counter()
    worker = app.worker("bench", concurrency)
    with progress_bar(f"{label} run   " if label else None, events) as advance:
        done = threading.Event()
        shown = [0]

        def follow() -> None:
            while not done.wait(0.2):
                now = worker.jobs_run
                advance(now - shown[0])
                shown[0] = now

        follower = threading.Thread(target=follow, name="bench-progress", daemon=True)
        follower.start()
        worker.run(until_idle=True)
        done.set()
        follower.join()
        advance(worker.jobs_run - shown[0])
    t2 = time.perf_counter()
    app.close()
    steps = events * length
    return {
        "events": events,
        "steps": steps,
        "ingest_s": t1 - t0,
        "run_s": t2 - t1,
        "events_per_s": events / (t2 - t0),
        "us_per_step": (t2 - t0) / steps * 1e6,
        "us_per_step_run_only": (t2 - t1) / steps * 1e6,
        "concurrency": concurrency,
        "writes_per_commit": worker.writes / max(1, worker.commits),
    }


def _measure(
    name: str,
    url: str,
    raw: Callable[[int], float],
    events: int,
    lengths: list[int],
    concurrency: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    registry = bench_registry([5, *lengths])
    samples = min(events * 5, 10000) // 2
    say(f"[{name}] raw storage: one INSERT + COMMIT per step, before and after the engine run ...")
    before = raw(samples)
    say(
        f"[{name}] engine: {events} events x 5 steps, {concurrency} producers, "
        f"one worker of {concurrency} lanes ..."
    )
    show = f"[{name}]  " if say is not _quiet else None
    main = engine_run(url, registry, 5, events, concurrency, show)
    after = raw(samples)
    # Shared machines drift; the engine run is compared with the storage around it.
    raw_us = (before + after) / 2
    say(f"[{name}]   raw commit {before:.1f} us before, {after:.1f} us after: {raw_us:.1f} us")
    say(
        f"[{name}]   {main['events_per_s']:.0f} events/s, {main['us_per_step']:.1f} us per step "
        f"(ratio {main['us_per_step'] / raw_us:.2f}x raw commit): ingest "
        f"{main['ingest_s'] / events * 1e6:.0f} us per event, then {main['us_per_step_run_only']:.1f} us "
        f"per step with {main['writes_per_commit']:.1f} step writes per commit"
    )
    serial_events = max(1, events // 4)
    serial = engine_run(url, registry, 5, serial_events, 1, show)
    say(
        f"[{name}]   one at a time ({serial_events} events, 1 producer, 1 lane): "
        f"{serial['us_per_step']:.1f} us per step ({serial['us_per_step'] / raw_us:.2f}x): ingest "
        f"{serial['ingest_s'] / serial_events * 1e6:.0f} us per event, then "
        f"{serial['us_per_step_run_only']:.1f} us per step"
    )
    by_length = {}
    total_steps = max(lengths) * 10
    for n in lengths:
        r = engine_run(url, registry, n, max(1, total_steps // n), concurrency, show)
        by_length[str(n)] = r["us_per_step_run_only"]
        say(f"[{name}]   {n:>4}-step sequences: {r['us_per_step_run_only']:.1f} us per step")
    flat = max(by_length.values()) / min(by_length.values())
    say(f"[{name}]   flatness (slowest/fastest per-step cost across lengths): {flat:.2f}x")
    return {
        "raw_commit_us": raw_us,
        "raw_commit_us_before": before,
        "raw_commit_us_after": after,
        **main,
        "ratio_to_raw": main["us_per_step"] / raw_us,
        "one_at_a_time": {**serial, "ratio_to_raw": serial["us_per_step"] / raw_us},
        "us_per_step_by_length": by_length,
        "flatness": flat,
    }


def _quiet(_line: str) -> None:
    """Says nothing (``bench --json``)."""


def run_bench(
    events: int, pg_url: str | None, lengths: list[int], concurrency: int = 1, progress: bool = True
) -> dict[str, Any]:
    say: Callable[[str], None] = click.echo if progress else _quiet
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="overture-bench-") as tmp:
        folder = Path(tmp)
        sync = Settings().sqlite_synchronous
        report["sqlite"] = _measure(
            "sqlite",
            f"sqlite:///{folder / 'engine.db'}",
            lambda n: raw_sqlite_commit_us(folder / "raw.db", n, sync),
            events,
            lengths,
            concurrency,
            say,
        )
    if pg_url:
        report["postgresql"] = _measure(
            "postgresql", pg_url, lambda n: raw_pg_commit_us(pg_url, n), events, lengths, concurrency, say
        )
    return report
