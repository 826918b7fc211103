"""The hot path's SQL (see ``hotpath``): written once per backend, run thousands of times."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import sqlalchemy as sa

from overture.core.records import EFFECT_FAILURES
from overture.storage import claims
from overture.storage.tables.orchestrator import pending_actions

# A committed step is progress: the count of claims lost without progress starts again.
ADVANCE = (
    "UPDATE sequence_jobs SET current_step = {p}, status = {p}, context = {j}, updated_at = {p}, "
    "lost_claims = 0 WHERE id = {p} AND lease_token = {p}"
)
# The new metadata keeps the count of failed effects a dispatcher may have written meanwhile
# ({k}: the backend's JSON merge of the parameter and the row's flag).
FINISH = (
    "UPDATE sequence_jobs SET current_step = {p}, status = {p}, context = {j}, "
    "execution_metadata = {k}, finished_at = {p}, updated_at = {p}, run_after = {p}, "
    "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, status_reason = NULL, "
    "lost_claims = 0 WHERE id = {p} AND lease_token = {p}"
)
KEEP_SQLITE = (
    f"json_patch(?, json_object('{EFFECT_FAILURES}', "
    f"json_extract(execution_metadata, '$.{EFFECT_FAILURES}')))"
)
KEEP_PG = (
    "(%s::jsonb || jsonb_strip_nulls(jsonb_build_object("
    f"'{EFFECT_FAILURES}', sequence_jobs.execution_metadata -> '{EFFECT_FAILURES}')))"
)
AUDIT = (
    "INSERT INTO audit_log (org_id, job_id, event_id, actor, action, reason, detail, created_at) "
    "VALUES ({p}, {p}, NULL, {p}, {p}, {p}, {j}, {p})"
)
STEP = (
    "INSERT INTO job_steps (job_id, step_index, step_name, attempt, status, output, error, "
    "cost_micros, started_at, finished_at, duration_ms) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {j}, {p}, {p}, {p}, {p}, {p})"
)
STEP_COLUMNS = (
    "job_id, step_index, step_name, attempt, status, output, error, cost_micros, started_at, "
    "finished_at, duration_ms"
)
# PostgreSQL: one round trip instead of two or three. The step insert (and the audit row)
# select from the fenced UPDATE, so a lost lease inserts nothing and the count says so.
PG_ADVANCE = (
    "WITH u AS (" + ADVANCE.format(p="%s", j="%s::jsonb") + " RETURNING id) "
    f"INSERT INTO job_steps ({STEP_COLUMNS}) "
    "SELECT u.id, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s FROM u"
)
PG_FINISHED = (
    "u AS (" + FINISH.format(p="%s", j="%s::jsonb", k=KEEP_PG) + " RETURNING id), "
    f"s AS (INSERT INTO job_steps ({STEP_COLUMNS}) "
    "SELECT u.id, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s FROM u RETURNING job_id), "
    "a AS (INSERT INTO audit_log (org_id, job_id, event_id, actor, action, reason, detail, created_at) "
    "SELECT %s, s.job_id, NULL, %s, %s, %s, %s::jsonb, %s FROM s RETURNING job_id)"
)
PG_FINISH = "WITH " + PG_FINISHED + " SELECT count(*) FROM a"
# A pause (at an approval gate): the job waits, released, with its step record and the rows
# the pause writes (the pending action, its message, the audit) in the same transaction.
PAUSE = (
    "UPDATE sequence_jobs SET current_step = {p}, status = {p}, context = {j}, "
    "execution_metadata = {k}, updated_at = {p}, run_after = {p}, lease_owner = NULL, "
    "lease_token = NULL, lease_expires_at = NULL, status_reason = {p}, lost_claims = 0 "
    "WHERE id = {p} AND lease_token = {p}"
)
# A pause at a gate that did not look for an earlier action first: it goes in only if none is
# there (almost always), and says so otherwise (``GateAnswered``) instead of a second action.
NO_ACTION_YET = " AND NOT EXISTS (SELECT 1 FROM pending_actions WHERE job_id = {p} AND step_index = {p})"
ACTION_COLUMNS = tuple(c.name for c in pending_actions.columns)
ACTION_FOR_STEP = (
    f"SELECT {', '.join(ACTION_COLUMNS)} FROM pending_actions WHERE job_id = {{p}} AND step_index = {{p}}"
)
# What a resumed job replays instead of running again (``jobs.recorded_outputs``).
RECORDED_STATUSES = "('completed', 'failed')"
RECORDED_OUTPUTS = (
    "SELECT step_name, output FROM job_steps "
    f"WHERE job_id = {{p}} AND status IN {RECORDED_STATUSES} ORDER BY id"
)
#: A row a pause writes: its table, its values, and the unique column whose taken value
#: leaves the row out (a message queued before under the same key), if any.
Row = tuple[sa.Table, Mapping[str, Any], str | None]


def is_json(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.JSON) or "JSON" in type(column.type).__name__


@cache
def insert_sql(table: sa.Table, names: tuple[str, ...], keep: str | None, sqlite: bool) -> str:
    """SQLite: an INSERT of one row. PostgreSQL: a data-modifying WITH clause that inserts only
    if the fenced UPDATE ``u`` changed the job."""
    conflict = f" ON CONFLICT ({keep}) DO NOTHING" if keep else ""
    into = f"INSERT INTO {table.name} ({', '.join(names)})"
    if sqlite:
        return f"{into} VALUES ({', '.join('?' for _ in names)}){conflict}"
    marks = ", ".join("%s::jsonb" if is_json(table.c[n]) else "%s" for n in names)
    return f"{into} SELECT {marks} FROM u{conflict}"


@cache
def pg_pause(
    steps: int, rows: tuple[tuple[sa.Table, tuple[str, ...], str | None], ...], first_ask: bool, claim: bool
) -> str:
    """The PostgreSQL pause as one statement, for each shape it comes in: the fenced UPDATE
    ``u`` (guarded by ``NO_ACTION_YET`` with ``first_ask``), the step records in order, the
    rows, with ``claim`` the next job's claim; it answers whether the job changed, whether the
    gate had an action already (``gate_or``'s parameters) and, with ``claim``, whether a lease
    ran out and the job taken (``claims.PG_NEXT_CTES``)."""
    guard = NO_ACTION_YET.format(p="%s") if first_ask else ""
    parts = ["u AS (" + PAUSE.format(p="%s", j="%s::jsonb", k=KEEP_PG) + guard + " RETURNING id)"]
    for i in range(steps):  # each selects from the one before: in order
        source = f"s{i - 1}" if i else "(SELECT u.id AS job_id FROM u) AS j"
        parts.append(
            f"s{i} AS (INSERT INTO job_steps ({STEP_COLUMNS}) "
            f"SELECT job_id, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s FROM {source} RETURNING job_id)"
        )
    parts.extend(
        f"r{i} AS ({insert_sql(table, names, keep, False)})" for i, (table, names, keep) in enumerate(rows)
    )
    seen = "(SELECT count(*) FROM pending_actions WHERE job_id = %s AND step_index = %s)"
    if not claim:
        return "WITH " + ", ".join(parts) + f" SELECT count(*), {seen} FROM u"
    # The next claim in the same statement, only if the pause went in.
    parts.append(claims.PG_NEXT_CTES.format(guard="AND EXISTS (SELECT 1 FROM u)"))
    return (
        "WITH "
        + ", ".join(parts)
        + f" SELECT (SELECT count(*) FROM u), {seen}, (SELECT n FROM expired), c.* "
        "FROM (SELECT 1) AS seed LEFT JOIN c ON true"
    )


def gate_or(gate: tuple[str, int] | tuple[()]) -> tuple[Any, ...]:
    """The parameters of ``pg_pause``'s look for an earlier action: none to find without one."""
    return gate or ("", -1)
