"""The engine's records: events, jobs, steps and pending actions, with their statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

#: The execution-metadata key counting a job's effects that finally failed or are in doubt.
EFFECT_FAILURES = "effect_failures"


class JobStatus(StrEnum):
    """Where a job stands; the last five are final."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    DEFERRED = "deferred"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    HALTED = "halted"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = {
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
    JobStatus.EXPIRED,
    JobStatus.HALTED,
}


class StepStatus(StrEnum):
    """What one attempt at a step came to."""

    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    DEFERRED = "deferred"
    AWAITING_APPROVAL = "awaiting_approval"


class ActionStatus(StrEnum):
    """A pending action's state: pending until a human decides or it expires."""

    PENDING = "pending"
    APPROVED = "approved"
    EDITED = "edited"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Decision(StrEnum):
    """What a human can say at an approval gate."""

    APPROVE = "approve"
    EDIT = "edit"
    SKIP = "skip"
    CANCEL = "cancel"

    @property
    def resulting_status(self) -> ActionStatus:
        return {
            Decision.APPROVE: ActionStatus.APPROVED,
            Decision.EDIT: ActionStatus.EDITED,
            Decision.SKIP: ActionStatus.SKIPPED,
            Decision.CANCEL: ActionStatus.CANCELLED,
        }[self]


@dataclass(frozen=True)
class Event:
    """An event as the engine sees it, after validation."""

    type: str
    source: str
    org_id: str
    user_id: str
    payload: dict[str, Any]
    occurred_at: datetime
    parent_job_id: str | None = None
    idempotency_key: str | None = None
    not_before: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The event for templates and job state (JSON-ready)."""
        return {
            "type": self.type,
            "source": self.source,
            "org_id": self.org_id,
            "user_id": self.user_id,
            "payload": self.payload,
            "occurred_at": self.occurred_at.isoformat(),
            "parent_job_id": self.parent_job_id,
            "idempotency_key": self.idempotency_key,
            "not_before": self.not_before.isoformat() if self.not_before else None,
        }


@dataclass(frozen=True)
class IngestResult:
    """What became of an event: the answer to POST /v1/events and `overture emit`."""

    event_id: str
    status: str
    job_id: str | None
    reason: str
    detail: str = ""
    run_after: datetime | None = None
    duplicate_of: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "status": self.status,
            "job_id": self.job_id,
            "reason": self.reason,
            "detail": self.detail,
            "run_after": self.run_after.isoformat() if self.run_after else None,
            "duplicate_of": self.duplicate_of,
        }


@dataclass
class Job:
    """A claimed job: one run of a sequence for one event (the seed's sequence_jobs row)."""

    id: str
    org_id: str
    user_id: str
    event_id: str
    event_type: str
    event_source: str
    status: JobStatus
    context: dict[str, Any]
    event_chain: dict[str, Any]
    trigger_payload: dict[str, Any]
    current_step: int
    chain_depth: int
    parent_job_id: str | None
    run_after: datetime
    lease_token: str | None
    continuations: int
    claims: int
    created_at: datetime
    execution_metadata: dict[str, Any] | None = None
    finished_at: datetime | None = None
    status_reason: str | None = None


@dataclass(frozen=True)
class StepRecord:
    """One attempt at one step, as stored in job_steps."""

    step_index: int
    step_name: str
    attempt: int
    status: StepStatus
    started_at: datetime
    finished_at: datetime
    output: Any = None
    error: str | None = None
    cost_micros: int = 0
    # The output already encoded while checking it is JSON, so the hot path does not encode twice.
    output_json: str | None = field(default=None, compare=False, repr=False)

    @property
    def duration_ms(self) -> float:
        return (self.finished_at - self.started_at).total_seconds() * 1000


@dataclass(frozen=True)
class PendingAction:
    """A paused step waiting for a human (the seed's slack_pending_actions row)."""

    id: str
    org_id: str
    user_id: str
    job_id: str
    step_index: int
    step_name: str
    pattern: str
    title: str
    draft: dict[str, Any]
    status: ActionStatus
    expires_at: datetime
    created_at: datetime
    channel_refs: dict[str, Any] = field(default_factory=dict)
    modifications: dict[str, Any] | None = None
    decided_by: str | None = None
    decided_via: str | None = None
    decided_at: datetime | None = None

    def effective_draft(self) -> dict[str, Any]:
        """The draft with the human's edits applied."""
        return {**self.draft, **(self.modifications or {})}


@dataclass(frozen=True)
class ResumeReads:
    """What a job resuming at its gate (``action.step_index``) reads before it runs on: the
    outputs its steps recorded, by step name, and the gate's action. A decision that hands its
    job to a waiting lane reads them in its own transaction, so the lane need not."""

    outputs: dict[str, Any]
    action: PendingAction
