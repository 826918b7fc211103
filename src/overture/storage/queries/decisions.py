"""A human decision's SQL, at the driver: it runs for every click, button and API call on the
decision's group-committed connection. One read of what deciding needs (the action, its job,
the decider), then the writes (the action decided, its job runnable, taken or ended, the audit)
as one statement on PostgreSQL, so a decision costs two round trips and its commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from overture.core.records import ActionStatus, Job, PendingAction
from overture.storage.driver import Driver, decode_json, encode_json
from overture.storage.hotpath_sql import RECORDED_OUTPUTS, RECORDED_STATUSES, insert_sql, is_json
from overture.storage.pipelined import every
from overture.storage.queries.approvals import action_from_row
from overture.storage.queries.jobs import job_from_row
from overture.storage.tables.orchestrator import audit_log, pending_actions, sequence_jobs


@dataclass(frozen=True)
class DecisionFacts:
    """What deciding an action reads: the action, its job, and the decider (None: no such
    active user in the action's org) as (id, role)."""

    action: PendingAction
    job: Job
    decider: tuple[str, str] | None
    #: With ``outputs``: the job's recorded step outputs by step name, as a resuming run reads
    #: them (``hotpath_sql.RECORDED_OUTPUTS``), for a lane the decision hands the job to.
    outputs: dict[str, Any] | None = None


_ACTION = tuple(c.name for c in pending_actions.columns)
_JOB = tuple(c.name for c in sequence_jobs.columns)
# PostgreSQL reads the outputs in the same round trip, in recording order (the last of a
# step's records wins, as in a resume); SQLite reads them with a statement of their own.
_OUTPUTS_PG = (
    "(SELECT json_agg(json_build_array(s.step_name, s.output) ORDER BY s.id) FROM job_steps s "
    f"WHERE s.job_id = a.job_id AND s.status IN {RECORDED_STATUSES})"
)


@cache
def _facts_sql(in_org: bool, outputs_pg: bool) -> str:
    columns = [*("a." + n for n in _ACTION), *("j." + n for n in _JOB), "u.id", "u.role"]
    if outputs_pg:
        columns.append(_OUTPUTS_PG)
    return (
        f"SELECT {', '.join(columns)} "
        "FROM pending_actions a JOIN sequence_jobs j ON j.id = a.job_id "
        "LEFT JOIN users u ON u.id = {p} AND u.org_id = a.org_id AND u.removed_at IS NULL "
        "WHERE a.id = {p}" + (" AND a.org_id = {p}" if in_org else "")
    )


_PENDING = ActionStatus.PENDING.value
_DECIDE = (
    "UPDATE pending_actions SET status = {p}, decided_by = {p}, decided_via = {p}, decided_at = {p}, "
    f"modifications = {{j}} WHERE id = {{p}} AND status = '{_PENDING}'"
)


def facts(
    drv: Driver, action_id: str, org_id: str | None, by: str, outputs: bool = False
) -> DecisionFacts | None:
    """The action (only in ``org_id`` when given), its job and the decider, in one read; with
    ``outputs``, the job's recorded outputs too."""
    params = (by, action_id) if org_id is None else (by, action_id, org_id)
    row = drv.first(_facts_sql(org_id is not None, outputs and not drv.sqlite), params)
    if row is None:
        return None
    split, end = len(_ACTION), len(_ACTION) + len(_JOB)
    action = action_from_row(Driver.decode(pending_actions, _ACTION, row[:split]))
    job = job_from_row(Driver.decode(sequence_jobs, _JOB, row[split:end]))
    decider = (row[end], row[end + 1]) if row[end] is not None else None
    recorded: dict[str, Any] | None = None
    if outputs:
        pairs = every(drv.execute(RECORDED_OUTPUTS, (job.id,))) if drv.sqlite else (row[end + 2] or [])
        recorded = {name: decode_json(output) for name, output in pairs}
    return DecisionFacts(action, job, decider, recorded)


def write(
    drv: Driver,
    action_id: str,
    decided: tuple[ActionStatus, str, str, datetime, dict[str, Any] | None],
    job_id: str,
    job_values: Mapping[str, Any],
    audits: Sequence[Mapping[str, Any]],
) -> bool:
    """Decide a still-pending action (``decided``: status, by, via, at, modifications), set
    the job's ``job_values`` and add the ``audits``; False, writing nothing, when someone
    decided (or it expired) first. A job that is gone raises LookupError."""
    status, by, via, at, mods = decided
    decide = (status.value, by, via, drv.time(at), encode_json(mods) if mods is not None else None, action_id)
    values = {**job_values, "updated_at": at}
    job = (*drv.encode(sequence_jobs, values), job_id)
    names = tuple(values)
    rows = [(tuple(a), drv.encode(audit_log, a)) for a in audits]
    if drv.sqlite:
        if drv.rowcount(_DECIDE, decide) != 1:
            return False
        if drv.rowcount(_job_update(names), job) != 1:
            raise LookupError(f"job {job_id} not found")
        for columns, params in rows:
            drv.rowcount(insert_sql(audit_log, columns, None, True), params)
        return True
    statement = _pg_write(names, tuple(columns for columns, _ in rows))
    found = drv.first(statement, [*decide, *job, *(p for _, params in rows for p in params)])
    assert found is not None
    decided_now, job_changed = found
    if decided_now and not job_changed:
        raise LookupError(f"job {job_id} not found")  # rolls the decision back with the batch
    return bool(decided_now)


def _sets(names: tuple[str, ...]) -> str:
    """``name = {p}`` for each column (``{j}`` for JSON ones)."""
    return ", ".join(f"{n} = {{j}}" if is_json(sequence_jobs.c[n]) else f"{n} = {{p}}" for n in names)


@cache
def _job_update(names: tuple[str, ...]) -> str:
    """SQLite's job update for these columns."""
    return f"UPDATE sequence_jobs SET {_sets(names)} WHERE id = {{p}}"


@cache
def _pg_write(names: tuple[str, ...], audits: tuple[tuple[str, ...], ...]) -> str:
    """PostgreSQL's decision as one statement: the job and the audits change only if the
    action was still pending (``u``); it answers whether it was, and whether the job changed."""
    parts = [
        f"u AS ({_DECIDE} RETURNING id)",
        f"j AS (UPDATE sequence_jobs SET {_sets(names)} WHERE id = {{p}} "
        "AND EXISTS (SELECT 1 FROM u) RETURNING id)",
    ]
    parts.extend(
        f"a{i} AS ({insert_sql(audit_log, columns, None, False)})" for i, columns in enumerate(audits)
    )
    return "WITH " + ", ".join(parts) + " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM j)"
