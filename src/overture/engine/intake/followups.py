"""Follow-up events become child jobs, linked both ways, up to the chain-depth limit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from overture.core.records import Event, Job
from overture.core.state import JobState
from overture.engine.audit import audit_row
from overture.engine.intake.ingest import Ingestor
from overture.errors import ValidationFailed
from overture.storage.queries import jobs as jobq

log = logging.getLogger("overture.followups")


@dataclass
class FollowupFlusher:
    """Creates queued follow-ups inside the parent's commit, so they exist exactly once."""

    ingestor: Ingestor
    max_chain_depth: int = 3

    def flush(self, conn: sa.Connection, job: Job, state: JobState, now: datetime) -> None:
        children = list(job.event_chain.get("children", []))
        audits = []
        depth = job.chain_depth + 1
        for queued in state.queued_followups:
            if depth > self.max_chain_depth:
                state.bump("followups_refused")
                log.warning(
                    "follow-up %s not created: chain depth %d exceeds %d (job %s)",
                    queued["type"],
                    depth,
                    self.max_chain_depth,
                    job.id,
                )
                audits.append(
                    audit_row(
                        now,
                        "followup_refused",
                        "chain_depth_exceeded",
                        org_id=job.org_id,
                        job_id=job.id,
                        followup_type=queued["type"],
                        depth=depth,
                        limit=self.max_chain_depth,
                    )
                )
                continue
            event = Event(
                type=queued["type"],
                source=str(queued.get("source") or "orchestrator:chain"),
                org_id=job.org_id,
                user_id=job.user_id,
                payload=queued.get("payload", {}),
                occurred_at=now,
                parent_job_id=job.id,
                not_before=datetime.fromisoformat(queued["not_before"]) if queued.get("not_before") else None,
            )
            try:
                result = self.ingestor.ingest_in(conn, event, now, depth=depth)
            except ValidationFailed as exc:
                state.bump("followups_refused")
                audits.append(
                    audit_row(
                        now,
                        "followup_refused",
                        "invalid_followup",
                        org_id=job.org_id,
                        job_id=job.id,
                        followup_type=queued["type"],
                        error=str(exc),
                    )
                )
                continue
            state.bump("followups_queued")
            if result.job_id and result.status in ("accepted", "deferred"):
                children.append(result.job_id)
            audits.append(
                audit_row(
                    now,
                    "followup_created",
                    result.status,
                    org_id=job.org_id,
                    job_id=job.id,
                    event_id=result.event_id,
                    child_job_id=result.job_id,
                    followup_type=queued["type"],
                )
            )
        state.queued_followups.clear()
        job.event_chain = {"parent": job.event_chain.get("parent"), "children": children}
        jobq.set_children(conn, job.id, job.event_chain)
        jobq.insert_audit(conn, audits)
