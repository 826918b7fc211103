"""One hot-path batch's transaction (SQLite's cursor, or PostgreSQL's pipeline) and reading
the answers of its statements, which on PostgreSQL arrive only after the pipeline syncs."""

from __future__ import annotations

from typing import Any

from overture.errors import LeaseLost


class Session:
    """One batch's transaction: SQLite's cursor, or PostgreSQL's pipeline."""

    def __init__(self, conn: Any, cur: Any, pipeline: Any = None) -> None:
        self.conn = conn
        self.cur = cur
        self.pipeline = pipeline

    def cursor(self) -> Any:
        """A cursor of its own per statement: pipelined results stay with their cursors."""
        return self.conn.cursor()

    def sync(self) -> None:
        if self.pipeline is not None:
            self.pipeline.sync()


def row(cur: Any) -> tuple[Any, ...] | None:
    """The row (if any) a pipelined statement answered with."""
    try:
        row = cur.fetchone()
    finally:
        cur.close()
    return tuple(row) if row is not None else None


def every(cur: Any) -> list[tuple[Any, ...]]:
    """The rows a pipelined statement answered with."""
    try:
        return [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()


def one(cur: Any) -> tuple[Any, ...]:
    found = row(cur)
    assert found is not None, "the statement always answers with one row"
    return found


def expect_one(count: int, cur: Any, job_id: str) -> None:
    """One job row changed by the fenced statement, or the lease is gone."""
    if cur is not None:
        cur.close()
    if count != 1:
        raise LeaseLost(f"job {job_id}: lease lost to another worker")
