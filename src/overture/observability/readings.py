"""The figures behind the metrics, read from the database at scrape time in one transaction.

Reading them from the tables rather than counting in memory means every process sharing the
database reports the same numbers (``serve`` and any number of ``overture worker`` processes),
nothing is lost on a restart, and the engine's hot path does no bookkeeping for metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from overture.core.records import ActionStatus, JobStatus
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.tables.integrations import webhook_receipts
from overture.storage.tables.orchestrator import (
    cost_ledger,
    events,
    job_steps,
    outbox,
    pending_actions,
    sequence_jobs,
)

_RUNNABLE = (JobStatus.PENDING.value, JobStatus.DEFERRED.value)

#: (event type, step name, step status) -> cumulative counts at or under each bound, count, sum (ms)
StepDurations = dict[tuple[str, str, str], tuple[list[int], int, float]]


@dataclass(frozen=True)
class LlmUse:
    """Model calls charged to one step of one event type (``""`` for calls outside a job)."""

    event_type: str
    step_index: int | None
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_micros: int


@dataclass(frozen=True)
class Readings:
    """Everything one scrape reports."""

    events_by_outcome: dict[str, int]
    jobs_by_status: dict[str, int]
    queue_depth: int
    pending_approvals: int
    step_durations: StepDurations
    failed_jobs: dict[tuple[str, int], int]  # (event type, step index it failed at) -> jobs
    llm: list[LlmUse]
    effects: dict[tuple[str, int | None, str, str], int]  # (event type, step index, kind, status)
    webhook_receipts: dict[tuple[str, str], int]  # (provider, outcome)
    decisions: dict[tuple[str, str, str, str], int]  # (event type, step, action, channel)


def read(conn: sa.Connection, now: datetime, bounds_ms: Sequence[float]) -> Readings:
    """All the figures, from one connection (one snapshot on PostgreSQL)."""
    return Readings(
        events_by_outcome=events_by_outcome(conn),
        jobs_by_status=jobq.count_jobs_by_status(conn),
        queue_depth=runnable_jobs(conn, now),
        pending_approvals=actionq.count_pending(conn),
        step_durations=step_durations(conn, bounds_ms),
        failed_jobs=failed_jobs(conn),
        llm=llm_use(conn),
        effects=effects(conn),
        webhook_receipts=receipts(conn),
        decisions=decisions(conn),
    )


def events_by_outcome(conn: sa.Connection) -> dict[str, int]:
    q = sa.select(events.c.outcome, sa.func.count()).group_by(events.c.outcome)
    return {r[0]: int(r[1]) for r in conn.execute(q)}


def runnable_jobs(conn: sa.Connection, now: datetime) -> int:
    """Jobs a worker could claim now: the queue depth."""
    q = sa.select(sa.func.count()).where(
        sequence_jobs.c.status.in_(_RUNNABLE), sequence_jobs.c.run_after <= now
    )
    return int(conn.execute(q).scalar() or 0)


def step_durations(conn: sa.Connection, bounds_ms: Sequence[float]) -> StepDurations:
    """Step attempts by event type, step and outcome, as histogram buckets of their duration."""
    ms = job_steps.c.duration_ms
    columns = [sa.func.sum(sa.case((ms <= b, 1), else_=0)) for b in bounds_ms]
    keys = (sequence_jobs.c.event_type, job_steps.c.step_name, job_steps.c.status)
    q = (
        sa.select(*keys, sa.func.count(), sa.func.sum(ms), *columns)
        .select_from(job_steps.join(sequence_jobs, sequence_jobs.c.id == job_steps.c.job_id))
        .group_by(*keys)
    )
    return {
        (r[0], r[1], r[2]): ([int(c or 0) for c in r[5:]], int(r[3]), float(r[4] or 0.0))
        for r in conn.execute(q)
    }


def failed_jobs(conn: sa.Connection) -> dict[tuple[str, int], int]:
    """Jobs that ended failed, by event type and the step they stopped at."""
    keys = (sequence_jobs.c.event_type, sequence_jobs.c.current_step)
    q = (
        sa.select(*keys, sa.func.count())
        .where(sequence_jobs.c.status == JobStatus.FAILED.value)
        .group_by(*keys)
    )
    return {(r[0], int(r[1])): int(r[2]) for r in conn.execute(q)}


def llm_use(conn: sa.Connection) -> list[LlmUse]:
    """Tokens and cost of model calls, by the event type and step they were made for."""
    c = cost_ledger.c
    keys = (sequence_jobs.c.event_type, c.step_index, c.provider, c.model)
    q = (
        sa.select(
            *keys, sa.func.sum(c.input_tokens), sa.func.sum(c.output_tokens), sa.func.sum(c.cost_micros)
        )
        .select_from(cost_ledger.outerjoin(sequence_jobs, sequence_jobs.c.id == c.job_id))
        .group_by(*keys)
    )
    return [
        LlmUse(r[0] or "", r[1], r[2], r[3], int(r[4] or 0), int(r[5] or 0), int(r[6] or 0))
        for r in conn.execute(q)
    ]


def effects(conn: sa.Connection) -> dict[tuple[str, int | None, str, str], int]:
    """Outbox effects by the event type and step that queued them, their kind and where they stand."""
    keys = (sequence_jobs.c.event_type, outbox.c.step_index, outbox.c.kind, outbox.c.status)
    q = (
        sa.select(*keys, sa.func.count())
        .select_from(outbox.outerjoin(sequence_jobs, sequence_jobs.c.id == outbox.c.job_id))
        .group_by(*keys)
    )
    return {(r[0] or "", r[1], r[2], r[3]): int(r[4]) for r in conn.execute(q)}


def receipts(conn: sa.Connection) -> dict[tuple[str, str], int]:
    """Webhook receipts by sender and what became of them."""
    keys = (webhook_receipts.c.provider, webhook_receipts.c.outcome)
    q = sa.select(*keys, sa.func.count()).group_by(*keys)
    return {(r[0], r[1]): int(r[2]) for r in conn.execute(q)}


def decisions(conn: sa.Connection) -> dict[tuple[str, str, str, str], int]:
    """Decided approvals by event type, step, the decision (or expiry) and the channel it came by."""
    a = pending_actions.c
    keys = (sequence_jobs.c.event_type, a.step_name, a.status, a.decided_via)
    q = (
        sa.select(*keys, sa.func.count())
        .select_from(pending_actions.join(sequence_jobs, sequence_jobs.c.id == a.job_id))
        .where(a.status != ActionStatus.PENDING.value)
        .group_by(*keys)
    )
    return {(r[0], r[1], r[2], r[3] or "unknown"): int(r[4]) for r in conn.execute(q)}
