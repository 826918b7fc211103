"""Taking a job under a lease, on the driver: a worker does this once per job run, often inside
the same transaction that finishes the job before (see ``hotpath.HotPath.finish``).

Leases that ran out first (their worker died), then the oldest runnable job. Each pick repeats
its partial index's predicate word for word so both backends use the index; PostgreSQL skips
rows other workers hold, SQLite's writer lock makes the pick exclusive.

Taking a job over from a dead worker counts in ``lost_claims`` (reset by every committed step),
so a job that kills every worker that runs it can be recognised and quarantined.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overture.core.records import Job, JobStatus
from overture.core.state import closing_values
from overture.storage.driver import Driver, encode_json
from overture.storage.queries.jobs import job_from_row
from overture.storage.tables.orchestrator import (
    LEASED_SQL,
    RUNNABLE_SQL,
    audit_log,
    notifications,
    sequence_jobs,
)

log = logging.getLogger("overture.claims")

_COLUMNS = tuple(c.name for c in sequence_jobs.columns)
_PICK_EXPIRED = (
    f"SELECT id, lease_owner FROM sequence_jobs WHERE {LEASED_SQL} AND lease_expires_at < {{p}} "
    "ORDER BY lease_expires_at LIMIT 1"
)
_PICK_RUNNABLE = (
    f"SELECT id FROM sequence_jobs WHERE {RUNNABLE_SQL} AND run_after <= {{p}} ORDER BY run_after LIMIT 1"
)
_SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
_TAKE = (
    f"UPDATE sequence_jobs SET status = '{JobStatus.IN_PROGRESS.value}', lease_owner = {{p}}, "
    "lease_token = {p}, lease_expires_at = {p}, claims = claims + 1, "
    "lost_claims = lost_claims + {p}, updated_at = {p} "
    f"WHERE id = {{p}} RETURNING {', '.join(_COLUMNS)}"
)
_LOST = _COLUMNS.index("lost_claims")


# PostgreSQL: the pick and the take in one statement (one round trip, or one place in a
# pipelined batch).
_J_COLUMNS = ", ".join(f"j.{name}" for name in _COLUMNS)
# The take of the job ``pick`` names (its ``lease_owner``: the dead worker's, or NULL).
_TAKE_PICK = (
    f"c AS (UPDATE sequence_jobs AS j SET status = '{JobStatus.IN_PROGRESS.value}', lease_owner = %s, "
    "lease_token = %s, lease_expires_at = %s, claims = j.claims + 1, "
    "lost_claims = j.lost_claims + CASE WHEN pick.lease_owner IS NULL THEN 0 ELSE 1 END, updated_at = %s "
    f"FROM pick WHERE j.id = pick.id RETURNING {_J_COLUMNS}, pick.lease_owner AS previous_owner)"
)
PG_CLAIM_CTES = (
    "expired AS (SELECT id, lease_owner FROM sequence_jobs "
    f"WHERE {LEASED_SQL} AND lease_expires_at < %s AND id <> %s "
    "ORDER BY lease_expires_at LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "runnable AS (SELECT id, NULL::varchar AS lease_owner FROM sequence_jobs "
    f"WHERE {RUNNABLE_SQL} AND run_after <= %s AND NOT EXISTS (SELECT 1 FROM expired) "
    "ORDER BY run_after LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "pick AS (SELECT id, lease_owner FROM expired UNION ALL SELECT id, lease_owner FROM runnable), "
    + _TAKE_PICK
)
_PG_CLAIM = "WITH " + PG_CLAIM_CTES + " SELECT * FROM c"
# A completion's claim, in the completing statement: the oldest runnable job, and only while no
# lease has run out. A job taken from a dead worker has its audit (and maybe its quarantine)
# written after reading the claim, inside its transaction, which would hold the whole batch's
# commit back a round trip; a plain claim takes it instead, and ``expired`` (1 or 0) says one
# is waiting, so the lane does not take the queue for empty. ``{guard}``: the claim depends on
# the completion's own success.
PG_NEXT_CTES = (
    "expired AS (SELECT count(*) AS n FROM (SELECT 1 FROM sequence_jobs "
    f"WHERE {LEASED_SQL} AND lease_expires_at < %s AND id <> %s LIMIT 1) AS e), "
    "pick AS (SELECT id, NULL::varchar AS lease_owner FROM sequence_jobs "
    f"WHERE {RUNNABLE_SQL} AND run_after <= %s {{guard}} AND (SELECT n FROM expired) = 0 "
    "ORDER BY run_after LIMIT 1 FOR UPDATE SKIP LOCKED), " + _TAKE_PICK  # (no braces to escape)
)


def pg_claim_params(
    owner: str, token: str, now: datetime, until: datetime, other_than: str = ""
) -> tuple[Any, ...]:
    """Parameters for ``PG_CLAIM_CTES`` and ``PG_NEXT_CTES``; ``other_than`` is a job the claim
    must not take."""
    return (now, other_than, now, owner, token, until, now)


def pg_claim(cur: Any, owner: str, token: str, now: datetime, until: datetime) -> None:
    """Send the one-statement claim on ``cur``; read its row with ``claimed``."""
    cur.execute(_PG_CLAIM, pg_claim_params(owner, token, now, until))


Claimed = tuple[Job, str | None, int]


def claimed(row: tuple[Any, ...] | None) -> Claimed | None:
    """The job, the dead worker it was taken from (if so) and its lost claims, in a PostgreSQL
    claim's row, if any."""
    if row is None or row[0] is None:
        return None
    job = job_from_row(Driver.decode(sequence_jobs, _COLUMNS, row[: len(_COLUMNS)]))
    return job, row[len(_COLUMNS)], int(row[_LOST])


def claim(drv: Driver, owner: str, token: str, now: datetime, until: datetime) -> Claimed | None:
    """Take one job under a new lease inside the caller's transaction.

    Returns the job; when it was taken from a worker whose lease expired, that worker; and how
    many claims of it were lost so far without a step committed.
    """
    lock = "" if drv.sqlite else _SKIP_LOCKED
    at = drv.time(now)
    previous: str | None = None
    found = drv.first(_PICK_EXPIRED + lock, (at,))
    if found is not None:
        previous = found[1]
    else:
        found = drv.first(_PICK_RUNNABLE + lock, (at,))
        if found is None:
            return None
    lost = 0 if previous is None else 1
    row = drv.first(_TAKE, (owner, token, drv.time(until), lost, at, found[0]))
    assert row is not None, "a picked job is locked until the transaction ends"
    return job_from_row(Driver.decode(sequence_jobs, _COLUMNS, row)), previous, int(row[_LOST])


def audit(drv: Driver, rows: Iterable[Mapping[str, Any]]) -> None:
    """Audit rows written alongside a claim (a lease taken over from a dead worker)."""
    for row in rows:
        drv.insert(audit_log, row)


@dataclass(frozen=True)
class Quarantine:
    """Why a job is set aside instead of run, and the rows that say so."""

    reason: str
    audits: Sequence[Mapping[str, Any]]
    notifications: Sequence[Mapping[str, Any]]


_QUARANTINE = (
    f"UPDATE sequence_jobs SET status = '{JobStatus.FAILED.value}', status_reason = {{p}}, "
    "context = {j}, execution_metadata = {j}, finished_at = {p}, updated_at = {p}, run_after = {p}, "
    "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = {p} AND lease_token = {p}"
)


def quarantine(drv: Driver, job: Job, why: Quarantine, now: datetime) -> None:
    """End a job just claimed as ``failed`` instead of running it, in the claim's transaction."""
    closing = closing_values(job, now)
    at = drv.time(now)
    context, meta = encode_json(closing["context"]), encode_json(closing["execution_metadata"])
    drv.execute(_QUARANTINE, (why.reason, context, meta, at, at, at, job.id, job.lease_token)).close()
    audit(drv, why.audits)
    for row in why.notifications:
        drv.insert(notifications, row)
    log.warning("job %s quarantined: %s", job.id, why.reason)


@dataclass(frozen=True)
class ClaimRequest:
    """Who takes a job, for how long, and the audit row for a lease taken from a dead worker.

    With ``max_lost_claims``, a job taken over from dead workers that many times in a row
    without a committed step is not run: ``quarantine`` says why, and the claim's transaction
    ends it ``failed`` instead (a poison job that kills every worker running it).
    """

    owner: str
    lease_s: float
    reclaimed: Callable[[Job, str, datetime], Mapping[str, Any]]
    max_lost_claims: int = 0
    quarantine: Callable[[Job, int, datetime], Quarantine] | None = None
