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

A caller that must not block (an event loop) ``submit``s its write instead and is given a
``Future``: its batch is led by the group's own thread whenever no waiting thread leads, so
many writes share a commit without a thread parked per write.

A write that fails with an expected, write-nothing error (``isolated``, e.g. a lost lease)
fails alone. Any other error rolls the batch back and its writes are retried one transaction
each, so one bad write never takes another thread's with it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
    """One write and its outcome. A waiting thread's ``wake`` is held until the write is done
    or the thread is handed the lead, so it sleeps until exactly its own news arrives; a
    submitted write has a ``future`` instead, and no thread to hand the lead to."""

    __slots__ = ("error", "future", "lead", "read_only", "result", "wake", "write")

    def __init__(
        self, write: Callable[[Any], T | Pending[T]], read_only: bool, future: Future[T] | None = None
    ) -> None:
        self.write = write
        self.read_only = read_only
        self.result: T | Pending[T] | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.future = future
        self.wake: threading.Lock | None = None
        if future is None:
            self.wake = threading.Lock()
            self.wake.acquire()

    def finish(self) -> None:
        """Tell the caller: wake its thread, or settle its future."""
        if self.future is not None:
            if self.error is not None:
                self.future.set_exception(self.error)
            else:
                self.future.set_result(self.result)  # type: ignore[arg-type]
        elif self.wake is not None and self.wake.locked():
            self.wake.release()


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
        self._leader: ThreadPoolExecutor | None = None
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
            assert ticket.wake is not None
            ticket.wake.acquire()  # until our batch is done, or the lead is handed to us
            lead = ticket.lead
        if lead:
            self._lead_next()
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

    def submit(self, write: Callable[[Any], T | Pending[T]], read_only: bool = False) -> Future[T]:
        """``run`` without blocking: the write's result (or error) comes in the future, once
        committed. ``write`` runs in the caller's context (its trace span, say)."""
        future: Future[T] = Future()
        context = contextvars.copy_context()
        ticket = _Ticket(lambda session: context.run(write, session), read_only, future)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if lead:
            self._own_thread().submit(self._lead_submitted)
        return future

    def close(self) -> None:
        """Stop the group's own thread once it has led what was submitted."""
        with self._lock:
            leader, self._leader = self._leader, None
        if leader is not None:
            leader.shutdown(wait=True)

    def _own_thread(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._leader is None:
                self._leader = ThreadPoolExecutor(1, thread_name_prefix="overture-commit")
            return self._leader

    def _lead_submitted(self) -> None:
        """The group's own thread leads batches while the next write in line has no thread of
        its own waiting to lead."""
        while self._lead_next(own_thread=True):
            pass

    def _lead_next(self, own_thread: bool = False) -> bool:
        """Lead one batch (every write queued so far) and pass the lead on; True when it passes
        to the group's own thread and that is this one."""
        with self._lock:
            batch, self._queue = self._queue, []
        # A submitted write whose caller gave up before its batch began (a request cancelled,
        # say) is not run; one already running runs to its end.
        batch = [t for t in batch if t.future is None or t.future.set_running_or_notify_cancel()]
        try:
            if batch:
                self._lead(batch)
        finally:
            again = self._pass_the_lead(own_thread)
        return again

    def _pass_the_lead(self, own_thread: bool) -> bool:
        """Wake the first thread still waiting to lead the next batch, or hand the lead to the
        group's own thread when that write was submitted, or stand down."""
        with self._lock:
            if not self._queue:
                self._leading = False
                return False
            successor = self._queue[0]
        if successor.wake is not None:
            successor.lead = True
            successor.wake.release()
            return False
        if own_thread:
            return True
        self._own_thread().submit(self._lead_submitted)
        return False

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
                ticket.finish()

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
