"""Effects that failed for good or are in doubt: flagged on their job, told to its rep, retried
on request.

A job's steps can all complete while the email its last step queued never leaves: the job
must not then read as a plain success. The count of such effects goes into the job's
execution metadata (``effect_failures``), the audit log says which effect and why, and the rep
gets a message with the reason and how to retry. A retry (CLI, API) queues the effect again
with a fresh count of attempts, recorded with who asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.clock import Clock
from overture.engine.audit import audit_row
from overture.errors import Conflict, NotFound
from overture.ids import new_id
from overture.storage.queries import jobs as jobq
from overture.storage.queries import outbox as outq
from overture.storage.store import Store

_REASONS = {"in_doubt": "worker_died_mid_attempt", "failed": "attempts_exhausted"}


def effect_view(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row as the CLI and API show it."""
    return {
        "id": row["id"],
        "job_id": row["job_id"],
        "kind": row["kind"],
        "idempotency_key": row["idempotency_key"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
    }


def _notice(row: dict[str, Any], user_id: str, event_type: str, text: str, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "org_id": row["org_id"],
        "user_id": user_id,
        "channel": "inbox",
        "kind": "effect_failed",
        # Written once per final outcome (fenced by the claim); a retried effect that fails
        # again is told again, so no dedupe key.
        "dedupe_key": None,
        "status": "pending",
        "body": {
            "text": text,
            "effect_id": row["id"],
            "kind": row["kind"],
            "event_type": event_type,
            "retry": f"overture effects retry {row['id']}",
        },
        "job_id": row["job_id"],
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }


def report_failure(
    conn: sa.Connection, row: dict[str, Any], status: str, error: str, now: datetime, actor: str
) -> None:
    """Flag the effect's job, audit the failure and tell the rep, in the caller's transaction."""
    reason = "no_handler" if error.startswith("no handler") else _REASONS.get(status, status)
    detail = {"effect_id": row["id"], "kind": row["kind"], "error": error[:500]}
    job = jobq.get_job(conn, row["job_id"]) if row["job_id"] else None
    if job is not None:
        detail["effect_failures"] = outq.flag_job(conn, job.id)
    action = "effect_in_doubt" if status == "in_doubt" else "effect_failed"
    jobq.insert_audit(
        conn,
        [audit_row(now, action, reason, org_id=row["org_id"], job_id=row["job_id"], actor=actor, **detail)],
    )
    if job is None:
        return
    what = "may or may not have gone out" if status == "in_doubt" else "could not be carried out"
    text = f"An action of {job.event_type} ({row['kind']}) {what}: {error[:300]}"
    jobq.insert_notifications(conn, [_notice(row, job.user_id, job.event_type, text, now)])


@dataclass
class EffectRetries:
    """Queue failed or in-doubt effects again, by effect or by job, on a person's request."""

    store: Store
    clock: Clock

    def retry(
        self,
        *,
        effect_id: int | None = None,
        job_id: str | None = None,
        org_id: str | None = None,
        by: str = "operator",
        via: str = "cli",
    ) -> list[dict[str, Any]]:
        """Retry one effect (``effect_id``) or every failed effect of a job (``job_id``)."""
        now = self.clock.now()
        with self.store.write() as conn:
            rows = self._targets(conn, effect_id, job_id, org_id)
            if rows[0]["job_id"]:
                outq.lock_job(conn, rows[0]["job_id"])
            outq.retry(conn, [r["id"] for r in rows])
            audits = [
                audit_row(
                    now,
                    "effect_retry_requested",
                    via,
                    org_id=r["org_id"],
                    job_id=r["job_id"],
                    actor=by,
                    effect_id=r["id"],
                    kind=r["kind"],
                    was=r["status"],
                )
                for r in rows
            ]
            jobq.insert_audit(conn, audits)
            for job in {r["job_id"] for r in rows if r["job_id"]}:
                outq.flag_job(conn, job)
            fresh = [outq.get(conn, r["id"]) for r in rows]
        return [effect_view(r) for r in fresh if r is not None]

    @staticmethod
    def _targets(
        conn: sa.Connection, effect_id: int | None, job_id: str | None, org_id: str | None
    ) -> list[dict[str, Any]]:
        if effect_id is not None:
            row = outq.get(conn, effect_id, org_id)
            if row is None:
                raise NotFound(f"no effect {effect_id}")
            if row["status"] not in outq.FAILED:
                raise Conflict(
                    f"effect {effect_id} is {row['status']}; only failed or in-doubt effects are retried"
                )
            return [row]
        if job_id is None:
            raise NotFound("name an effect or a job")
        if jobq.get_job(conn, job_id, org_id) is None:
            raise NotFound(f"no job {job_id!r}")
        rows = outq.failed_of(conn, job_id)
        if not rows:
            raise Conflict(f"job {job_id} has no failed or in-doubt effects to retry")
        return rows
