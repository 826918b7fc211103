"""Read models: what `jobs show`, `approvals list` and the API return, as plain JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.core.records import Job, PendingAction, StepRecord
from overture.storage.queries import jobs as jobq


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_summary(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "org_id": job.org_id,
        "user_id": job.user_id,
        "event_type": job.event_type,
        "event_source": job.event_source,
        "status": job.status.value,
        "status_reason": job.status_reason,
        "current_step": job.current_step,
        "chain_depth": job.chain_depth,
        "parent_job_id": job.parent_job_id,
        "run_after": _iso(job.run_after),
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
    }


def step_view(step: StepRecord) -> dict[str, Any]:
    return {
        "index": step.step_index,
        "name": step.step_name,
        "attempt": step.attempt,
        "status": step.status.value,
        "output": step.output,
        "error": step.error,
        "cost_usd": step.cost_micros / 1_000_000,
        "started_at": _iso(step.started_at),
        "duration_ms": round(step.duration_ms, 3),
    }


def chain_of(conn: sa.Connection, job: Job) -> dict[str, Any]:
    """The job's chain: ancestors up to the root, and descendants below it."""
    ancestors: list[dict[str, Any]] = []
    parent_id = job.parent_job_id
    while parent_id:
        parent = jobq.get_job(conn, parent_id, job.org_id)
        if parent is None:
            break
        ancestors.insert(0, job_summary(parent))
        parent_id = parent.parent_job_id

    def tree(node: Job) -> dict[str, Any]:
        children = jobq.list_jobs(conn, org_id=node.org_id, parent_job_id=node.id, limit=1000)
        return {**job_summary(node), "children": [tree(c) for c in reversed(children)]}

    return {"ancestors": ancestors, "job": tree(job)}


def job_detail(conn: sa.Connection, job: Job) -> dict[str, Any]:
    """Everything about one job: steps with outputs, metadata, chain, effects."""
    return {
        **job_summary(job),
        "continuations": job.continuations,
        "claims": job.claims,
        "trigger_payload": job.trigger_payload,
        "event_chain": job.event_chain,
        "steps": [step_view(s) for s in jobq.steps_of(conn, job.id)],
        "execution_metadata": job.execution_metadata,
        "outbox": [
            {"idempotency_key": o["idempotency_key"], "kind": o["kind"], "status": o["status"]}
            for o in jobq.outbox_of(conn, job.id)
        ],
        "chain": chain_of(conn, job),
    }


def action_view(action: PendingAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "org_id": action.org_id,
        "user_id": action.user_id,
        "job_id": action.job_id,
        "step": action.step_name,
        "pattern": action.pattern,
        "title": action.title,
        "draft": action.draft,
        "status": action.status.value,
        "modifications": action.modifications,
        "decided_by": action.decided_by,
        "decided_via": action.decided_via,
        "decided_at": _iso(action.decided_at),
        "expires_at": _iso(action.expires_at),
        "created_at": _iso(action.created_at),
    }
