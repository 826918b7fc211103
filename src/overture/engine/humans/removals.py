"""Removing an org or a user (a soft delete), all at once in one transaction: the row is marked
removed, every token and console session of theirs is revoked, their pending actions expire
and their queued jobs are cancelled, each with the reason recorded.

Nothing is deleted: the history that names them stays readable. From then on the ingest gates
find no such org or user, and a token of theirs, even one revoked by hand later, proves nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.clock import Clock
from overture.core.records import ActionStatus, JobStatus
from overture.core.state import closing_values
from overture.engine.audit import audit_row
from overture.errors import NotFound
from overture.storage.queries import approvals as actionq
from overture.storage.queries import console_sessions as sessionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import removals, tenancy
from overture.storage.queries import tokens as tokenq
from overture.storage.store import Store

_BATCH = 500


@dataclass(frozen=True)
class Removal:
    """What a removal did."""

    org_id: str
    user_id: str | None
    tokens_revoked: int
    actions_expired: int
    jobs_cancelled: int
    sessions_ended: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Removals:
    store: Store
    clock: Clock

    def remove_user(self, org_id: str, user_id: str, by: str = "cli") -> Removal:
        """Remove one user of an org; NotFound when there is no such user (or it was removed)."""
        now = self.clock.now()
        with self.store.write() as conn:
            if not tenancy.remove_user(conn, org_id, user_id, now):
                raise NotFound(f"no user {user_id!r} in org {org_id!r}")
            return self._end(conn, org_id, user_id, by, now)

    def remove_org(self, org_id: str, by: str = "cli") -> Removal:
        """Remove an org and all its users; NotFound when there is no such org (or it was removed)."""
        now = self.clock.now()
        with self.store.write() as conn:
            if not tenancy.remove_org(conn, org_id, now):
                raise NotFound(f"no org {org_id!r}")
            return self._end(conn, org_id, None, by, now)

    def _end(self, conn: sa.Connection, org_id: str, user_id: str | None, by: str, now: datetime) -> Removal:
        reason = "user_removed" if user_id is not None else "org_removed"
        why = f"its user {user_id} was removed" if user_id is not None else f"its org {org_id} was removed"
        tokens = tokenq.revoke_owned(conn, org_id, user_id, now)
        sessions = sessionq.end_owned(conn, org_id, user_id, now, reason, by)
        audits: list[dict[str, Any]] = []
        expired = 0
        while actions := actionq.list_actions(conn, org_id=org_id, user_id=user_id, limit=_BATCH):
            for action in actions:
                if not actionq.record_decision(
                    conn, action.id, ActionStatus.EXPIRED, None, reason, now, None
                ):
                    continue
                job = jobq.get_job(conn, action.job_id)
                assert job is not None
                values = {**closing_values(job, now), "status": JobStatus.EXPIRED.value, "status_reason": why}
                jobq.update_job(conn, job.id, None, now, **values)
                ids = {"org_id": action.org_id, "job_id": job.id}
                audits.append(
                    audit_row(now, "approval_expired", reason, **ids, pending_action_id=action.id, actor=by)
                )
                audits.append(audit_row(now, "job_expired", reason, **ids, actor=by))
                expired += 1
        cancelled = 0
        while queued := removals.runnable_jobs(conn, org_id, user_id, _BATCH):
            for job in queued:
                values = {
                    **closing_values(job, now),
                    "status": JobStatus.CANCELLED.value,
                    "status_reason": why,
                    "updated_at": now,
                }
                if removals.close_if_runnable(conn, job.id, values):
                    audits.append(
                        audit_row(now, "job_cancelled", reason, org_id=org_id, job_id=job.id, actor=by)
                    )
                    cancelled += 1
        removal = Removal(org_id, user_id, tokens, expired, cancelled, sessions)
        counts = {k: v for k, v in removal.as_dict().items() if k not in ("org_id", "user_id")}
        audits.append(audit_row(now, reason, reason, org_id=org_id, actor=by, user_id=user_id, **counts))
        jobq.insert_audit(conn, audits)
        return removal
