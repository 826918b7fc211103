"""One hot-path batch's transaction (SQLite's cursor, or PostgreSQL's pipeline) and reading
the answers of its statements, which on PostgreSQL arrive only after the pipeline syncs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from overture.errors import LeaseLost

log = logging.getLogger("overture.hotpath")
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE
_OFF = 0  # psycopg.pq.PipelineStatus.OFF


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


@contextmanager
def sqlite_write(
    connection: Callable[[], Any], turn: Callable[[], AbstractContextManager[None]]
) -> Iterator[Session]:
    """A write batch on SQLite: in this process's writer turn, BEGIN IMMEDIATE ... COMMIT on
    the connection ``connection()`` lends for the turn."""
    with turn():
        conn = connection()
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            yield Session(conn, cur)
            cur.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()


@contextmanager
def sqlite_read(conn: Any) -> Iterator[Session]:
    """A batch of reads alone on SQLite: a snapshot (BEGIN), not the writer's turn and lock."""
    cur = conn.cursor()
    try:
        cur.execute("BEGIN")
        yield Session(conn, cur)
    finally:
        if conn.in_transaction:
            cur.execute("COMMIT")
        cur.close()


def reusable(conn: Any) -> bool:
    """A PostgreSQL connection fit to go back to its pool: open, not broken, out of pipeline
    mode, with no transaction left open."""
    info = conn.info
    return (
        not conn.closed
        and not getattr(conn, "broken", False)
        and info.pipeline_status == _OFF
        and info.transaction_status == _IDLE
    )


def release(raw: Any, conn: Any, sqlite: bool) -> None:
    """Give a held connection (``raw``, the pool's; ``conn``, its driver's) back to its pool as
    the pool gave it. One the server dropped, or that a batch was cut short on, is thrown away
    instead: the pool's reset of it would fail, and log its traceback."""
    try:
        if sqlite or reusable(conn):
            if not sqlite:
                conn.autocommit = False
            raw.close()
            return
    except Exception:  # it looked fit and was not
        log.debug("giving a connection back failed; throwing it away", exc_info=True)
    try:
        raw.invalidate()
    except Exception:  # nothing left to let go of
        log.debug("throwing a connection away failed", exc_info=True)


@contextmanager
def pg_batch(conn: Any) -> Iterator[Session]:
    """A batch on PostgreSQL: BEGIN, its statements and COMMIT in one pipeline."""
    try:
        with conn.pipeline() as pipeline:
            conn.execute("BEGIN")
            yield Session(conn, None, pipeline)
            conn.execute("COMMIT")
    except BaseException:
        if not conn.closed and conn.info.transaction_status != _IDLE:
            try:
                conn.execute("ROLLBACK")
            except Exception:  # a broken connection; the batch's own error says why
                log.debug("rollback after a failed batch failed too", exc_info=True)
        raise


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
