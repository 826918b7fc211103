"""The one write made for every step: advance the job and append the step record.

It runs thousands of times per job batch, so it goes straight to the driver with two
prepared statements instead of building SQLAlchemy statements each time. Everything else
uses the Core operations in ``jobs.py``. Column formats match what SQLAlchemy writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from overture.engine.model import StepRecord
from overture.errors import LeaseLost

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


class StepWriter:
    """Writes plain step advances on a driver connection held for one claim."""

    def __init__(
        self, raw_connection: Any, is_sqlite: bool, turn: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._turn = turn
        self._raw = raw_connection
        self._conn = raw_connection.driver_connection
        self._sqlite = is_sqlite
        p, j = ("?", "?") if is_sqlite else ("%s", "%s::jsonb")
        self._advance = _ADVANCE.format(p=p, j=j)
        self._finish = _FINISH.format(p=p, j=j)
        self._audit = _AUDIT.format(p=p, j=j)
        self._step = _STEP.format(p=p, j=j)

    def _time(self, value: datetime) -> Any:
        if self._sqlite:
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

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
        if self._sqlite:
            self._write(job_id, self._advance, update, step, None)
        else:
            self._combined(job_id, _PG_ADVANCE, (*update, *self._step_values(step)[1:]))

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
    ) -> None:
        """Record the last step and complete the job, releasing the lease, in one transaction."""
        at = self._time(now)
        update = (
            current_step,
            "completed",
            json.dumps(context),
            json.dumps(metadata),
            at,
            at,
            at,
            job_id,
            token,
        )
        audit = (org_id, job_id, actor, "job_completed", "completed", json.dumps({}), at)
        if self._sqlite:
            self._write(job_id, self._finish, update, step, audit)
        else:
            after = (org_id, actor, "job_completed", "completed", json.dumps({}), at)
            self._combined(job_id, _PG_FINISH, (*update, *self._step_values(step)[1:], *after))

    def _step_values(self, step: StepRecord) -> tuple[Any, ...]:
        return (
            None,
            step.step_index,
            step.step_name,
            step.attempt,
            step.status.value,
            json.dumps(step.output),
            step.error,
            step.cost_micros,
            self._time(step.started_at),
            self._time(step.finished_at),
            step.duration_ms,
        )

    def _combined(self, job_id: str, sql: str, params: tuple[Any, ...]) -> None:
        """One statement, one commit (PostgreSQL)."""
        cur = self._conn.cursor()
        try:
            cur.execute(sql, params)
            if cur.rowcount != 1:
                raise LeaseLost(f"job {job_id}: lease lost to another worker")
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        finally:
            cur.close()

    def _write(
        self,
        job_id: str,
        update_sql: str,
        update: tuple[Any, ...],
        step: StepRecord,
        audit: tuple[Any, ...] | None,
    ) -> None:
        with self._turn():
            self._transaction(job_id, update_sql, update, step, audit)

    def _transaction(
        self,
        job_id: str,
        update_sql: str,
        update: tuple[Any, ...],
        step: StepRecord,
        audit: tuple[Any, ...] | None,
    ) -> None:
        cur = self._conn.cursor()
        try:
            if self._sqlite:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(update_sql, update)
            if cur.rowcount != 1:
                raise LeaseLost(f"job {job_id}: lease lost to another worker")
            cur.execute(self._step, (job_id, *self._step_values(step)[1:]))
            if audit is not None:
                cur.execute(self._audit, audit)
            if self._sqlite:
                cur.execute("COMMIT")
            else:
                self._conn.commit()
        except BaseException:
            if self._sqlite:
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
            else:
                self._conn.rollback()
            raise
        finally:
            cur.close()

    def close(self) -> None:
        self._raw.close()
