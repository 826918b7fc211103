"""The writes made for every job run and every step, on one driver connection a worker holds
while it is busy: take a job under a lease, advance it a step (the step record and the job's
new position in one transaction), and finish it, taking the next job in the same commit.

They run thousands of times per batch of jobs, so they go straight to the driver with prepared
statements instead of building SQLAlchemy statements each time. Everything else uses the Core
operations in ``jobs.py``; column formats are the ones SQLAlchemy writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from overture.engine.model import Job, StepRecord
from overture.errors import LeaseLost
from overture.ids import new_id
from overture.storage import claims
from overture.storage.driver import Driver
from overture.storage.group_commit import GroupCommit
from overture.storage.store import Store

_ADVANCE = (
    "UPDATE sequence_jobs SET current_step = {p}, status = {p}, context = {j}, updated_at = {p} "
    "WHERE id = {p} AND lease_token = {p}"
)
_FINISH = (
    "UPDATE sequence_jobs SET current_step = {p}, status = {p}, context = {j}, "
    "execution_metadata = {j}, finished_at = {p}, updated_at = {p}, run_after = {p}, "
    "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, status_reason = NULL "
    "WHERE id = {p} AND lease_token = {p}"
)
_AUDIT = (
    "INSERT INTO audit_log (org_id, job_id, event_id, actor, action, reason, detail, created_at) "
    "VALUES ({p}, {p}, NULL, {p}, {p}, {p}, {j}, {p})"
)
_STEP = (
    "INSERT INTO job_steps (job_id, step_index, step_name, attempt, status, output, error, "
    "cost_micros, started_at, finished_at, duration_ms) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {j}, {p}, {p}, {p}, {p}, {p})"
)
_STEP_COLUMNS = (
    "job_id, step_index, step_name, attempt, status, output, error, cost_micros, started_at, "
    "finished_at, duration_ms"
)
# PostgreSQL: one round trip instead of two or three. The step insert (and the audit row)
# select from the fenced UPDATE, so a lost lease inserts nothing and the count says so.
_PG_ADVANCE = (
    "WITH u AS (" + _ADVANCE.format(p="%s", j="%s::jsonb") + " RETURNING id) "
    f"INSERT INTO job_steps ({_STEP_COLUMNS}) "
    "SELECT u.id, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s FROM u"
)
_PG_FINISH = (
    "WITH u AS (" + _FINISH.format(p="%s", j="%s::jsonb") + " RETURNING id), "
    f"s AS (INSERT INTO job_steps ({_STEP_COLUMNS}) "
    "SELECT u.id, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s FROM u RETURNING job_id) "
    "INSERT INTO audit_log (org_id, job_id, event_id, actor, action, reason, detail, created_at) "
    "SELECT %s, s.job_id, NULL, %s, %s, %s, %s::jsonb, %s FROM s"
)


@dataclass(frozen=True)
class ClaimRequest:
    """Who takes a job, for how long, and the audit row for a lease taken from a dead worker."""

    owner: str
    lease_s: float
    reclaimed: Callable[[Job, str, datetime], Mapping[str, Any]]


class HotPath:
    """Claims, plain step advances and completions on one pooled driver connection, shared by
    a worker's lanes: their writes are group-committed (see ``group_commit``)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._turn = store.writer_turn
        self._raw = store.engine.raw_connection()
        self.drv = Driver(self._raw.driver_connection, store.is_sqlite)
        self._sqlite = store.is_sqlite
        self.group = GroupCommit(self._transaction, isolated=(LeaseLost,), on_failure=self._check_connection)
        self._advance = self.drv.sql(_ADVANCE)
        self._finish = self.drv.sql(_FINISH)
        self._audit = self.drv.sql(_AUDIT)
        self._step = self.drv.sql(_STEP)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """One write transaction on the held connection (SQLite: in this process's writer turn)."""
        with self._turn():
            conn = self.drv.conn
            cur = conn.cursor()
            try:
                if self._sqlite:
                    cur.execute("BEGIN IMMEDIATE")
                yield cur
                if self._sqlite:
                    cur.execute("COMMIT")
                else:
                    conn.commit()
            except BaseException:
                if not self._sqlite:
                    conn.rollback()
                elif conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def _check_connection(self, _error: BaseException) -> None:
        """After a failed batch, replace a connection the server dropped (PostgreSQL restarts)."""
        if getattr(self.drv.conn, "broken", False) or getattr(self.drv.conn, "closed", False):
            self._raw.invalidate()
            self._raw = self._store.engine.raw_connection()
            self.drv = Driver(self._raw.driver_connection, self._sqlite)

    def claim(self, request: ClaimRequest, now: datetime) -> Job | None:
        """Take the next job to run (or None)."""
        return self.group.run(lambda _cur: self._claim(request, now))

    def _claim(self, request: ClaimRequest, now: datetime) -> Job | None:
        until = now + timedelta(seconds=request.lease_s)
        found = claims.claim(self.drv, request.owner, new_id(), now, until)
        if found is None:
            return None
        job, previous = found
        if previous is not None:
            claims.audit(self.drv, [request.reclaimed(job, previous, now)])
        return job

    def _time(self, value: datetime) -> Any:
        return self.drv.time(value)

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
        update = (current_step, status, json.dumps(context), self._time(now), job_id, token)
        values = self._step_values(step)

        def write(cur: Any) -> None:
            if self._sqlite:
                self._fenced(cur, job_id, self._advance, update)
                cur.execute(self._step, (job_id, *values))
            else:
                self._fenced(cur, job_id, _PG_ADVANCE, (*update, *values))

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
    ) -> Job | None:
        """Record the last step and complete the job, releasing the lease, in one transaction;
        with ``then``, take the next job in that same commit and return it."""
        at = self._time(now)
        done = (current_step, "completed", json.dumps(context), json.dumps(metadata), at, at, at)
        update = (*done, job_id, token)
        audit = (org_id, actor, "job_completed", "completed", "{}", at)
        values = self._step_values(step)

        def write(cur: Any) -> Job | None:
            if self._sqlite:
                self._fenced(cur, job_id, self._finish, update)
                cur.execute(self._step, (job_id, *values))
                cur.execute(self._audit, (audit[0], job_id, *audit[1:]))
            else:
                self._fenced(cur, job_id, _PG_FINISH, (*update, *values, *audit))
            return self._claim(then, now) if then is not None else None

        return self.group.run(write)

    def _step_values(self, step: StepRecord) -> tuple[Any, ...]:
        """The job_steps values after job_id."""
        return (
            step.step_index,
            step.step_name,
            step.attempt,
            step.status.value,
            step.output_json if step.output_json is not None else json.dumps(step.output),
            step.error,
            step.cost_micros,
            self._time(step.started_at),
            self._time(step.finished_at),
            step.duration_ms,
        )

    @staticmethod
    def _fenced(cur: Any, job_id: str, sql: str, params: tuple[Any, ...]) -> None:
        """Run the job's UPDATE; no row changed means another worker holds the lease now."""
        cur.execute(sql, params)
        if cur.rowcount != 1:
            raise LeaseLost(f"job {job_id}: lease lost to another worker")

    def close(self) -> None:
        self._raw.close()
