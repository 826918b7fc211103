"""The storage's own cost: one INSERT and COMMIT, with the engine's durability settings. Every
figure of the bench is divided by it, measured in the same run, around the workloads."""

from __future__ import annotations

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
    """One INSERT + COMMIT per row into a temporary table."""
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
