"""The writes made for every job run and every step, on one driver connection a worker holds
while it is busy: take a job under a lease, advance it a step (the step record and the job's
new position in one transaction), and finish it, taking the next job in the same commit.

They run thousands of times per batch of jobs, so they go straight to the driver with prepared
statements instead of building SQLAlchemy statements each time. Everything else uses the Core
operations in ``jobs.py``; column formats are the ones SQLAlchemy writes.

The lanes of a worker share the connection and their writes are group-committed. On
PostgreSQL each write is a single statement and a batch is pipelined: BEGIN, every write, then
the answers in one round trip, then COMMIT; on SQLite writes run as they come (no round trips).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Any

from overture.core.records import Job, PendingAction, StepRecord
from overture.errors import GateAnswered, LeaseLost
from overture.ids import new_id
from overture.storage import claims, pipelined
from overture.storage import hotpath_sql as sql
from overture.storage.claims import ClaimRequest
from overture.storage.driver import Driver, decode_json, encode_json
from overture.storage.group_commit import GroupCommit, Pending
from overture.storage.pipelined import Session as _Session
from overture.storage.pipelined import every as _all
from overture.storage.pipelined import expect_one as _expect_one
from overture.storage.pipelined import one as _one
from overture.storage.pipelined import row as _row
from overture.storage.queries.approvals import action_from_row
from overture.storage.store import Store
from overture.storage.tables.orchestrator import pending_actions

log = logging.getLogger("overture.hotpath")

# Completion and the next claim in one statement; the claim only happens if the completion did.
_PG_FINISH_AND_CLAIM = (
    "WITH "
    + sql.PG_FINISHED
    + ", "
    + claims.PG_NEXT_CTES.format(guard="AND EXISTS (SELECT 1 FROM a)")
    + " SELECT (SELECT count(*) FROM a), (SELECT n FROM expired), c.* FROM (SELECT 1) AS seed "
    "LEFT JOIN c ON true"
)


class _Skipped:
    """A claim whose job was quarantined: look for another."""


SKIPPED = _Skipped()


class LeaseRanOut:
    """What a completion's claim took on PostgreSQL when a job whose lease ran out is waiting:
    nothing, and the queue is not empty (a plain claim takes that job, see ``claims``)."""


LEASE_RAN_OUT = LeaseRanOut()
#: What a completion that also claims answers: the next job, nothing (none is runnable), or
#: ``LEASE_RAN_OUT``.
Taken = Job | LeaseRanOut | None


class HotPath:
    """Claims, plain step advances and completions on one pooled driver connection, shared by
    a worker's lanes: their writes are group-committed (see ``group_commit``)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._turn = store.writer_turn
        self._sqlite = store.is_sqlite
        self._open()
        self.group = GroupCommit(
            self._transaction,
            isolated=(LeaseLost, GateAnswered),
            on_failure=self._check_connection,
            sync=_Session.sync,
            read=self._sqlite_read if self._sqlite else None,
        )
        self._advance = self.drv.sql(sql.ADVANCE)
        self._finish = sql.FINISH.format(p="?", j="?", k=sql.KEEP_SQLITE)
        self._audit = self.drv.sql(sql.AUDIT)
        self._step = self.drv.sql(sql.STEP)
        self._pause = sql.PAUSE.format(p="?", j="?", k=sql.KEEP_SQLITE)
        self._pause_first = self._pause + sql.NO_ACTION_YET.format(p="?")
        self._action_for_step = self.drv.sql(sql.ACTION_FOR_STEP)
        self._recorded_outputs = self.drv.sql(sql.RECORDED_OUTPUTS)

    def _open(self) -> None:
        self._raw: Any = self._store.engine.raw_connection()
        self.drv = Driver(self._raw.driver_connection, self._sqlite)
        if not self._sqlite:
            # Transactions are begun and ended by statements inside each batch's pipeline.
            self.drv.conn.autocommit = True

    @contextmanager
    def _transaction(self) -> Iterator[_Session]:
        """One write transaction on the held connection (SQLite: the process's writer, in its
        writer turn; the held one then only reads)."""
        if self._raw is None:  # dropped by the server: connect again (raises while it is away)
            self._open()
        batch = (
            pipelined.sqlite_write(self._store.write_driver_connection, self._turn)
            if self._sqlite
            else pipelined.pg_batch(self.drv.conn)
        )
        with batch as session:
            yield session

    def _sqlite_read(self) -> AbstractContextManager[_Session]:
        if self._raw is None:
            self._open()
        return pipelined.sqlite_read(self.drv.conn)

    def _check_connection(self, _error: BaseException) -> None:
        """After a failed batch, let go of a connection the server dropped (PostgreSQL restarts).

        A new one is made by the next transaction, not now: the server may still be going
        down, and the worker decides when to try again (with backoff)."""
        if self._raw is None:
            return
        if getattr(self.drv.conn, "broken", False) or getattr(self.drv.conn, "closed", False):
            try:
                self._raw.invalidate()
            except Exception:  # already unusable; nothing more to release
                log.debug("invalidating a dropped connection failed", exc_info=True)
            self._raw = None

    # -- the writes ----------------------------------------------------------------------

    def claim(self, request: ClaimRequest, now: datetime) -> Job | None:
        """Take the next job to run (or None); a quarantined one is passed over."""
        while True:
            job = self.group.run(lambda session: self._claim(session, request, now))
            if not isinstance(job, _Skipped):
                return job

    def _claim(
        self, session: _Session, request: ClaimRequest, now: datetime
    ) -> Job | _Skipped | Pending[Job | _Skipped | None] | None:
        if self._sqlite:
            return self._taken_sqlite(session, request, now)
        until = now + timedelta(seconds=request.lease_s)
        cur = session.cursor()
        claims.pg_claim(cur, request.owner, new_id(), now, until)
        return Pending(lambda: self._taken(self.drv, claims.claimed(_row(cur)), request, now))

    @staticmethod
    def _changed_then_taken(cur: Any, job_id: str, pause: bool = False) -> Taken:
        """The answer of a PostgreSQL write that also claims the next job, read once it has
        committed: the job row it changed (else the lease is gone; a ``pause`` also says
        whether its gate had an action), whether a lease ran out, then the job it took."""
        row = _one(cur)
        if pause:
            HotPath._paused(row, job_id)
        else:
            _expect_one(row[0], None, job_id)
        at = 2 if pause else 1
        found = claims.claimed(row[at + 1 :])
        if found is not None:
            return found[0]  # a runnable job: no audit, and never one to quarantine
        return LEASE_RAN_OUT if row[at] else None

    def _taken_sqlite(self, session: _Session, request: ClaimRequest, now: datetime) -> Job | _Skipped | None:
        until = now + timedelta(seconds=request.lease_s)
        drv = Driver(session.conn, True)  # the process's writer, not the held connection
        return self._taken(drv, claims.claim(drv, request.owner, new_id(), now, until), request, now)

    def _taken(
        self, drv: Driver, found: claims.Claimed | None, request: ClaimRequest, now: datetime
    ) -> Job | _Skipped | None:
        """The claimed job, with the audit row when it was taken from a dead worker; a job
        lost too often without progress is quarantined in the same transaction instead."""
        if found is None:
            return None
        job, previous, lost = found
        if previous is not None:
            claims.audit(drv, [request.reclaimed(job, previous, now)])
        if request.quarantine is None or not request.max_lost_claims or lost < request.max_lost_claims:
            return job
        claims.quarantine(drv, job, request.quarantine(job, lost, now), now)
        return SKIPPED

    def advance(
        self,
        job_id: str,
        token: str,
        now: datetime,
        current_step: int,
        status: str,
        context: dict[str, Any],
        step: StepRecord,
    ) -> None:
        """Record ``step`` and move the job to ``current_step`` atomically, fenced by the lease."""
        update = (current_step, status, encode_json(context), self.drv.time(now), job_id, token)
        values = self._step_values(step)

        def write(session: _Session) -> Pending[None] | None:
            if self._sqlite:
                self._fenced(session.cur, job_id, self._advance, update)
                session.cur.execute(self._step, (job_id, *values))
                return None
            cur = session.cursor()
            cur.execute(sql.PG_ADVANCE, (*update, *values))
            return Pending(lambda: _expect_one(cur.rowcount, cur, job_id), after_commit=True)

        self.group.run(write)

    def finish(
        self,
        job_id: str,
        org_id: str,
        token: str,
        now: datetime,
        current_step: int,
        context: dict[str, Any],
        metadata: dict[str, Any],
        step: StepRecord,
        actor: str,
        then: ClaimRequest | None = None,
    ) -> Taken:
        """Record the last step and complete the job, releasing the lease, in one transaction;
        with ``then``, take the next job in that same commit and return it (see ``Taken``)."""
        at = self.drv.time(now)
        done = (current_step, "completed", encode_json(context), encode_json(metadata), at, at, at)
        update = (*done, job_id, token)
        audit = (org_id, actor, "job_completed", "completed", "{}", at)
        values = self._step_values(step)

        def write(session: _Session) -> Taken | Pending[Taken]:
            if self._sqlite:
                self._fenced(session.cur, job_id, self._finish, update)
                session.cur.execute(self._step, (job_id, *values))
                session.cur.execute(self._audit, (audit[0], job_id, *audit[1:]))
                taken = self._taken_sqlite(session, then, now) if then is not None else None
                return None if isinstance(taken, _Skipped) else taken
            cur = session.cursor()
            if then is None:
                cur.execute(sql.PG_FINISH, (*update, *values, *audit))
                return Pending(lambda: _expect_one(_one(cur)[0], None, job_id), after_commit=True)
            until = now + timedelta(seconds=then.lease_s)
            claim = claims.pg_claim_params(then.owner, new_id(), now, until, other_than=job_id)
            cur.execute(_PG_FINISH_AND_CLAIM, (*update, *values, *audit, *claim))
            return Pending(lambda: self._changed_then_taken(cur, job_id), after_commit=True)

        return self.group.run(write)

    def pause(
        self,
        job_id: str,
        token: str,
        now: datetime,
        current_step: int,
        status: str,
        context: dict[str, Any],
        metadata: dict[str, Any],
        reason: str | None,
        steps: Sequence[StepRecord],
        rows: Sequence[sql.Row],
        then: ClaimRequest | None = None,
        first_ask: bool = False,
    ) -> Taken:
        """Release the job to wait (for a decision) with its step records (the gate's, after
        the one before it when that was held for this commit) and ``rows``, in one transaction
        fenced by the lease (PostgreSQL: one statement); with ``then``, take the next job in
        that same commit and return it. With ``first_ask`` (the gate did not read its action
        first) it goes in only if the gate has no action yet, else raises ``GateAnswered``."""
        at = self.drv.time(now)
        meta = encode_json(metadata)
        update = (current_step, status, encode_json(context), meta, at, at, reason, job_id, token)
        gate = (job_id, current_step) if first_ask else ()
        records = [self._step_values(step) for step in steps]
        encoded = [(table, tuple(row), keep, self.drv.encode(table, row)) for table, row, keep in rows]

        def write(session: _Session) -> Taken | Pending[Taken]:
            if self._sqlite:
                session.cur.execute(self._pause_first if gate else self._pause, (*update, *gate))
                if session.cur.rowcount != 1:
                    had = gate and session.cur.execute(self._action_for_step, gate).fetchone()
                    self._paused((0, had), job_id)
                for values in records:
                    session.cur.execute(self._step, (job_id, *values))
                for table, names, keep, params in encoded:
                    session.cur.execute(sql.insert_sql(table, names, keep, True), params)
                taken = self._taken_sqlite(session, then, now) if then is not None else None
                return None if isinstance(taken, _Skipped) else taken
            shape = tuple((table, names, keep) for table, names, keep, _ in encoded)
            statement = sql.pg_pause(len(records), shape, bool(gate), then is not None)
            args: list[Any] = [*update, *gate]
            for values in records:
                args.extend(values)
            for *_, row_params in encoded:
                args.extend(row_params)
            cur = session.cursor()
            if then is None:
                cur.execute(statement, [*args, *sql.gate_or(gate)])
                return Pending(lambda: self._paused(_one(cur), job_id), after_commit=True)
            until = now + timedelta(seconds=then.lease_s)
            args.extend(claims.pg_claim_params(then.owner, new_id(), now, until, other_than=job_id))
            cur.execute(statement, [*args, *sql.gate_or(gate)])
            return Pending(lambda: self._changed_then_taken(cur, job_id, pause=True), after_commit=True)

        return self.group.run(write)

    @staticmethod
    def _paused(answer: Sequence[Any], job_id: str) -> None:
        """A pause that changed no job (``answer``: jobs changed, actions the gate had before):
        the gate had an action already, or the lease is gone."""
        if answer[0] == 1:
            return
        if answer[1]:
            raise GateAnswered(f"job {job_id}: its gate has an action already")
        raise LeaseLost(f"job {job_id}: lease lost to another worker")

    def action_for_step(self, job_id: str, step_index: int) -> PendingAction | None:
        """The job's action at a gate, if one was made, read on this connection (in the next
        batch: no connection of its own to check out)."""
        row = self.group.run(
            lambda session: self._read(session, self._action_for_step, (job_id, step_index)), read_only=True
        )
        return _action(row)

    def resume_reads(self, job_id: str, gate_at: int | None) -> tuple[dict[str, Any], PendingAction | None]:
        """What a resuming job reads, in one batch on this connection: each finished step's
        output by step name (``jobs.recorded_outputs``) and, with ``gate_at`` (it resumes at
        an approval gate), the gate's action."""

        def read(session: _Session) -> Any:
            outputs = self._read(session, self._recorded_outputs, (job_id,), every=True)
            action = (
                self._read(session, self._action_for_step, (job_id, gate_at)) if gate_at is not None else None
            )
            if not isinstance(outputs, Pending):
                return outputs, action
            return Pending(
                lambda: (outputs.resolve(), action.resolve() if action else None), after_commit=True
            )

        rows, action = self.group.run(read, read_only=True)
        return {name: decode_json(output) for name, output in rows}, _action(action)

    def _read(self, session: _Session, statement: str, params: tuple[Any, ...], every: bool = False) -> Any:
        """A SELECT in the batch: its row (or ``every`` row) now on SQLite, once the batch is
        answered on PostgreSQL."""
        if not self._sqlite:
            cur = session.cursor()
            cur.execute(statement, params)
            return Pending(lambda: _all(cur) if every else _row(cur), after_commit=True)
        session.cur.execute(statement, params)
        if every:
            return [tuple(r) for r in session.cur.fetchall()]
        row = session.cur.fetchone()
        return tuple(row) if row is not None else None

    def _step_values(self, step: StepRecord) -> tuple[Any, ...]:
        """The job_steps values after job_id."""
        return (
            step.step_index,
            step.step_name,
            step.attempt,
            step.status.value,
            step.output_json if step.output_json is not None else encode_json(step.output),
            step.error,
            step.cost_micros,
            self.drv.time(step.started_at),
            self.drv.time(step.finished_at),
            step.duration_ms,
        )

    @staticmethod
    def _fenced(cur: Any, job_id: str, sql: str, params: tuple[Any, ...]) -> None:
        """Run the job's UPDATE; no row changed means another worker holds the lease now."""
        cur.execute(sql, params)
        if cur.rowcount != 1:
            raise LeaseLost(f"job {job_id}: lease lost to another worker")

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            pipelined.release(raw, self.drv.conn, self._sqlite)


def _action(row: tuple[Any, ...] | None) -> PendingAction | None:
    return None if row is None else action_from_row(Driver.decode(pending_actions, sql.ACTION_COLUMNS, row))
