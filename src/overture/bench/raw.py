"""The storage's own cost: one INSERT and COMMIT, with the engine's durability settings. Every
figure of the bench is divided by it, measured in the same run, around the workloads."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path


def sqlite_commit_us(path: Path, n: int, synchronous: str) -> float:
    """One INSERT + COMMIT per row in WAL mode."""
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


def pg_commit_us(url: str, n: int) -> float:
    """One INSERT + COMMIT per row into an ordinary table, created for the measurement and
    dropped after it. Not a temporary table: its rows are not written to the WAL, so its commit
    is not flushed (about two thirds of a durable one here), and every commit the engine makes is."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    table = f"overture_bench_raw_{os.getpid()}_{time.time_ns()}"
    with psycopg.connect(dsn) as conn:
        conn.execute(f"CREATE TABLE {table}(id serial PRIMARY KEY, job text, idx int, out jsonb)")
        conn.commit()
        try:
            t0 = time.perf_counter()
            for i in range(n):
                conn.execute(
                    f"INSERT INTO {table}(job, idx, out) VALUES (%s, %s, %s)", ("job", i, '{"i": 1}')
                )
                conn.commit()
            return (time.perf_counter() - t0) / n * 1e6
        finally:
            conn.rollback()
            conn.execute(f"DROP TABLE {table}")
            conn.commit()
