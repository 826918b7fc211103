"""A SQLAlchemy connection held open for one kind of small, frequent write (ingesting events,
deciding approvals), its transactions group-committed: concurrent callers (API requests) share
commits, and no caller pays a pool checkout and a connection set-up per write. On SQLite the
connection is the process's one writer (``Store.write_connection``), lent in the writer turn."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

import sqlalchemy as sa

from overture.storage.group_commit import GroupCommit

T = TypeVar("T")


class HeldWriter:
    """Runs ``write(conn)`` callables in group-committed transactions on one held connection."""

    def __init__(
        self,
        engine: sa.Engine,
        writer_turn: Callable[[], AbstractContextManager[None]],
        isolated: tuple[type[BaseException], ...] = (),
        shared: tuple[Callable[[], sa.Connection], Callable[[], None]] | None = None,
    ) -> None:
        self._engine = engine
        self._turn = writer_turn
        self._shared = shared  # lends a connection in the turn, and drops it after a failure
        self._conn: sa.Connection | None = None
        self._lock = threading.Lock()
        self.group = GroupCommit(self._transaction, isolated, on_failure=self._reset)

    def run(self, write: Callable[[sa.Connection], T]) -> T:
        return self.group.run(write)

    def submit(self, write: Callable[[sa.Connection], T]) -> Future[T]:
        """``run`` for a caller that must not block (see ``GroupCommit.submit``)."""
        return self.group.submit(write)

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        with self._turn():
            conn = self._connection()
            with conn.begin():
                yield conn

    def _connection(self) -> sa.Connection:
        if self._shared is not None:
            return self._shared[0]()
        with self._lock:
            if self._conn is None:
                self._conn = self._engine.connect()
            return self._conn

    def _reset(self, _error: BaseException) -> None:
        """After a failed batch start again on a fresh connection (the old one may be broken)."""
        if self._shared is not None:
            self._shared[1]()
        self._disconnect()

    def close(self) -> None:
        self.group.close()
        self._disconnect()

    def _disconnect(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
