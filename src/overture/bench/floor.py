"""W2's storage floor on SQLite: the statements and commits W2's own events made, captured as
they ran (with their values) and run again on a copy of the database taken just before them,
each on a connection standing for the one it ran on, with nothing in between.

W2 above the floor is the engine's own cost (Python, hand-overs between threads); the floor is
what the storage alone asks for the same records with the same durability. The statements
include those of the housekeeping that ran meanwhile (the approval requests delivered).
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from overture.bench import approval, pack
from overture.bench.setup import bench_app, new_tenant
from overture.storage import sqlite_functions

#: W2 events run before the capture, so every connection the workload uses already exists.
WARM_EVENTS = 20

Statements = list[tuple[int, str]]


class _Capture:
    """Every statement each connection of an engine starts while ``on``, in order."""

    def __init__(self, engine: sa.Engine) -> None:
        self.on = False
        self.statements: Statements = []
        self._keys = itertools.count()  # not id(): a closed connection's may be given again
        sa.event.listen(engine, "connect", self._connected)

    def _connected(self, dbapi_conn: Any, _record: Any) -> None:
        key = next(self._keys)

        def seen(sql: str) -> None:
            if self.on:
                self.statements.append((key, sql))

        dbapi_conn.set_trace_callback(seen)


def storage_floor(path: Path, folder: Path, events: int, synchronous: str) -> dict[str, Any]:
    """W2 at ``events`` events on a new database at ``path``, captured; then its replay."""
    app = bench_app(f"sqlite:///{path}", pack.load(folder))
    capture = _Capture(app.store.engine)
    app.store.drop_write_connection()
    app.store.engine.dispose()  # every connection from here on is one the capture sees
    split: list[int] = []

    def phase(name: str) -> None:
        capture.on = name == "deciding"  # not the read of the pending actions in between
        if capture.on:
            split.append(len(capture.statements))

    try:
        tenant = new_tenant(app)
        approval.pause_and_decide(app, tenant, min(WARM_EVENTS, events))
        copy = path.with_name(f"{path.stem}-replay{path.suffix}")
        _snapshot(path, copy)
        capture.on = True
        approval.pause_and_decide(app, tenant, events, phase)
        capture.on = False
    finally:
        app.close()
    paused, decided = capture.statements[: split[0]], capture.statements[split[0] :]
    conns = _connections(copy, {key for key, _ in capture.statements}, synchronous)
    try:
        pause_us, pause_errors = _replay(conns, paused)
        decide_us, decide_errors = _replay(conns, decided)
    finally:
        for conn in conns.values():
            conn.close()
    return {
        "events": events,
        "pause_us_per_event": pause_us / events,
        "decide_us_per_event": decide_us / events,
        "pause_write_transactions_per_event": round(_writes(paused) / events, 2),
        "decide_write_transactions_per_event": round(_writes(decided) / events, 2),
        "statements_per_event": round(len(capture.statements) / events, 1),
        "connections": len(conns),
        "replay_errors": pause_errors + decide_errors,
    }


def _snapshot(path: Path, copy: Path) -> None:
    """A consistent copy of the database, WAL included (SQLite's online backup)."""
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _connections(copy: Path, keys: set[int], synchronous: str) -> dict[int, sqlite3.Connection]:
    """One connection to the copy per connection seen, set up as the store sets up its own."""
    conns = {}
    for key in keys:
        conn = sqlite3.connect(copy, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        sqlite_functions.register(conn)
        conns[key] = conn
    return conns


def _replay(conns: dict[int, sqlite3.Connection], statements: Sequence[tuple[int, str]]) -> tuple[float, int]:
    """Microseconds to run ``statements`` in order, each on its connection; and how many
    failed (counted, not fatal: the floor is a measure, not a check of the capture)."""
    errors = 0
    t0 = time.perf_counter()
    for key, sql in statements:
        try:
            conns[key].execute(sql).fetchall()
        except sqlite3.Error:
            errors += 1
    return (time.perf_counter() - t0) * 1e6, errors


def _writes(statements: Sequence[tuple[int, str]]) -> int:
    """Write transactions (every write begins IMMEDIATE; reads begin DEFERRED)."""
    return sum(1 for _, sql in statements if sql.strip().upper() == "BEGIN IMMEDIATE")
