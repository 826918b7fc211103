"""Group commit: writes from several threads share one transaction and one flush to disk.

A thread hands in its write and waits. Whichever waiting thread finds no batch running leads
the next one: it takes every write queued so far, runs them in one transaction, commits, and
wakes their threads. No write returns before its commit is durable, so each caller keeps the
guarantee of a commit of its own; with one thread every batch holds one write.

A write may return ``Pending``: its result is read after the batch's statements have all
been sent and answered (PostgreSQL pipelines them: one round trip for the batch, not one per
statement); errors raised then are handled the same way.

A read (``run(..., read_only=True)``) that finds no write beside it in its batch runs in the
``read`` transaction when one is given (SQLite: a plain BEGIN, without the writer's turn).

A write that fails with an expected, write-nothing error (``isolated``, e.g. a lost lease)
fails alone. Any other error rolls the batch back and its writes are retried one transaction
each, so one bad write never takes another thread's with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Pending(Generic[T]):
    """A write's result, known once the batch's statements have been answered.

    ``after_commit``: reading it writes nothing and the write changed nothing unless it
    succeeded (a fenced statement), so it is read once the batch has committed, and the commit
    and the answers share one round trip. Otherwise it is read inside the transaction, which
    costs a round trip of its own before the commit."""

    __slots__ = ("after_commit", "resolve")

    def __init__(self, resolve: Callable[[], T], *, after_commit: bool = False) -> None:
        self.resolve = resolve
        self.after_commit = after_commit


class _Ticket(Generic[T]):
    """One write and its outcome; ``wake`` is held until the write is done or its thread is
    handed the lead, so a waiting thread sleeps until exactly its own news arrives."""

    __slots__ = ("done", "error", "lead", "read_only", "result", "wake", "write")

    def __init__(self, write: Callable[[Any], T | Pending[T]], read_only: bool) -> None:
        self.write = write
        self.read_only = read_only
        self.result: T | Pending[T] | None = None
        self.error: BaseException | None = None
        self.done = False
        self.lead = False
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommit:
    """Batches writes; ``transaction()`` yields a cursor and commits on a clean exit."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Any]],
        isolated: tuple[type[BaseException], ...] = (),
        on_failure: Callable[[BaseException], None] | None = None,
        sync: Callable[[Any], None] | None = None,
        read: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        self._transaction = transaction
        self._read = read
        self._sync = sync
        self._isolated = isolated
        self._on_failure = on_failure
        self._lock = threading.Lock()
        self._queue: list[_Ticket[Any]] = []
        self._leading = False
        self.batches = 0
        self.writes = 0

    @property
    def queued(self) -> int:
        """Writes waiting for the next batch."""
        with self._lock:
            return len(self._queue)

    def run(self, write: Callable[[Any], T | Pending[T]], read_only: bool = False) -> T:
        """Run ``write(session)`` in the next batch; returns its result once committed.
        ``read_only``: it writes nothing (see the module's docstring)."""
        ticket: _Ticket[T] = _Ticket(write, read_only)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            ticket.wake.acquire()  # until our batch is done, or the lead is handed to us
            lead = ticket.lead
        if lead:
            with self._lock:
                batch, self._queue = self._queue, []
            try:
                self._lead(batch)
            finally:
                self._pass_the_lead()
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

    def _pass_the_lead(self) -> None:
        """Wake the first thread still waiting to lead the next batch, or stand down."""
        with self._lock:
            if not self._queue:
                self._leading = False
                return
            successor = self._queue[0]
        successor.lead = True
        successor.wake.release()

    def _lead(self, batch: list[_Ticket[Any]]) -> None:
        try:
            self._commit(batch)
        except BaseException as exc:
            if self._on_failure is not None:
                self._on_failure(exc)
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for ticket in batch:  # each alone, so the fault stays with its own write
                    self._alone(ticket)
        finally:
            for ticket in batch:
                ticket.done = True
                if ticket.wake.locked():
                    ticket.wake.release()

    def _alone(self, ticket: _Ticket[Any]) -> None:
        ticket.result, ticket.error = None, None
        try:
            self._commit([ticket])
        except BaseException as exc:
            ticket.error = exc

    def _commit(self, batch: list[_Ticket[Any]]) -> None:
        read = self._read
        transaction = read if read is not None and all(t.read_only for t in batch) else self._transaction
        with transaction() as session:
            for ticket in batch:
                try:
                    ticket.result = ticket.write(session)
                except self._isolated as exc:
                    ticket.error = exc
            waiting = [(t, t.result) for t in batch if isinstance(t.result, Pending)]
            now = [(t, p) for t, p in waiting if not p.after_commit]
            if now and self._sync is not None:
                self._sync(session)
            for ticket, pending in now:
                try:
                    ticket.result = pending.resolve()
                except self._isolated as exc:
                    ticket.result, ticket.error = None, exc
        self.batches += 1
        self.writes += len(batch)
        for ticket, pending in waiting:
            if pending.after_commit:  # committed: an error now is this write's alone, never retried
                try:
                    ticket.result = pending.resolve()
                except Exception as exc:
                    ticket.result, ticket.error = None, exc
