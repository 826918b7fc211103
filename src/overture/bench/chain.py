"""W1, a chain of steps each durably recorded before the next:

- one event in flight: a worker waits in the background (as in ``overture serve``); an event is
  emitted, the bench waits until its job has finished, then emits the next;
- full queue: events are ingested from as many producer threads as the worker has lanes, then
  one worker runs them all;
- flatness: the per-step cost of the full queue with short and long chains.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import click

from overture.app import App
from overture.bench.pack import chain
from overture.bench.setup import Tenant
from overture.engine.run.worker import Worker

_SEQ = itertools.count()


def event(tenant: Tenant, type_: str, i: int) -> dict[str, Any]:
    """The ``i``-th event of a workload; no two the same, so none is taken for a duplicate."""
    payload = {"i": i, "seq": next(_SEQ)}
    return {"type": type_, "org_id": tenant.org, "user_id": tenant.user, "payload": payload}


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


class Runs:
    """The job runs a background worker has ended, as it reports each (``on_run``, the hook
    ``App.signals`` uses): a waiter is woken at each run instead of polling the counter, which
    took the interpreter from the worker thousands of times a second."""

    def __init__(self, worker: Worker) -> None:
        self._changed = threading.Condition()
        self.count = 0
        reported = worker.on_run

        def ran(job_id: str, outcome: str) -> None:
            if reported is not None:
                reported(job_id, outcome)
            with self._changed:
                self.count += 1
                self._changed.notify_all()

        worker.on_run = ran

    def wait(self, count: int, timeout_s: float = 60.0) -> None:
        """Until ``count`` runs (a finish or a pause) have ended."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.count >= count, timeout_s):
                raise RuntimeError(f"the worker ran {self.count} of {count} jobs")


@contextmanager
def background_worker(app: App, lanes: int = 1) -> Iterator[Runs]:
    """A worker running in a thread until the block ends (woken in process by each ingest)."""
    worker = app.worker("bench-bg", lanes)
    runs = Runs(worker)
    thread = threading.Thread(target=worker.run, name="bench-worker", daemon=True)
    thread.start()
    try:
        yield runs
    finally:
        worker.stop()
        thread.join(30)


def one_in_flight(app: App, tenant: Tenant, events: int, length: int = 5) -> dict[str, Any]:
    """Emit one event, wait for its job to finish, then the next."""
    with background_worker(app) as runs:
        app.emit(event(tenant, chain(length), -1))  # warm: templates, statements, connections
        runs.wait(1)
        t0 = time.perf_counter()
        for i in range(events):
            app.emit(event(tenant, chain(length), i))
            runs.wait(i + 2)
        elapsed = time.perf_counter() - t0
    return {
        "events": events,
        "steps": events * length,
        "us_per_step": elapsed / (events * length) * 1e6,
        "ms_per_event": elapsed / events * 1e3,
    }


def full_queue(
    app: App, tenant: Tenant, length: int, events: int, lanes: int, label: str | None = None
) -> dict[str, Any]:
    """Ingest ``events`` events from ``lanes`` producer threads (as concurrent API requests
    would), then run them all with one worker of ``lanes`` lanes."""

    def produce(first: int, advance: Callable[[int], None]) -> None:
        for i in range(first, events, lanes):
            app.emit(event(tenant, chain(length), i))
            advance(1)

    t0 = time.perf_counter()
    with (
        progress_bar(f"{label} ingest" if label else None, events) as advance,
        ThreadPoolExecutor(lanes, thread_name_prefix="bench-producer") as producers,
    ):
        list(producers.map(lambda first: produce(first, advance), range(lanes)))
    t1 = time.perf_counter()
    worker = app.worker("bench", lanes)
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
    steps = events * length
    return {
        "events": events,
        "steps": steps,
        "lanes": lanes,
        "ingest_s": t1 - t0,
        "run_s": t2 - t1,
        "events_per_s": events / (t2 - t0),
        "us_per_step": (t2 - t0) / steps * 1e6,
        "us_per_step_run_only": (t2 - t1) / steps * 1e6,
        "writes_per_commit": worker.writes / max(1, worker.commits),
    }


def ingest_only(app: App, tenant: Tenant, events: int, threads: int) -> dict[str, Any]:
    """``App.emit`` of one-step events from ``threads`` threads in this process: the engine's
    part of ``POST /v1/events`` (validation, gates, the group-committed record), no HTTP."""

    def produce(first: int) -> None:
        for i in range(first, events, threads):
            app.emit(event(tenant, chain(1), i))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads, thread_name_prefix="bench-ingest") as producers:
        list(producers.map(produce, range(threads)))
    elapsed = time.perf_counter() - t0
    return {"events": events, "threads": threads, "events_per_s": events / elapsed}


def drain(app: App, lanes: int) -> int:
    """Run whatever is queued (jobs an API-only run left), untimed."""
    return app.worker("bench-drain", lanes).run(until_idle=True)
