"""What became of an event and its job, as the API answers it, the Python client returns it and
``App.run_event`` gives it: the read shapes of receipts, jobs, steps and approvals.

Pure pydantic models that mirror the dicts of ``overture.engine.admin.views``; the /v1 routes
(``overture.http.api``) answer with them beside the wire models of ``overture.http.api.models``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from overture.core.gates import Outcome
from overture.core.records import ActionStatus, JobStatus, StepStatus
from overture.errors import OvertureError


class EventResult(BaseModel):
    """What became of an event (202 Accepted: recorded, whatever the gates decided)."""

    event_id: str
    status: Outcome = Field(description="accepted, duplicate, deferred, skipped or rejected.")
    job_id: str | None = Field(description="The job run for it; for a duplicate, the original's job.")
    reason: str = Field(description="Which gate decided: passed, duplicate, org_not_found, ...")
    detail: str
    run_after: datetime | None = Field(description="When a deferred event's job becomes runnable.")


class JobSummary(BaseModel):
    """One job, without its steps."""

    id: str
    org_id: str
    user_id: str
    event_type: str
    event_source: str
    status: JobStatus
    status_reason: str | None
    current_step: int
    chain_depth: int
    parent_job_id: str | None
    run_after: datetime | None
    created_at: datetime | None
    finished_at: datetime | None


class Step(BaseModel):
    """One attempt at one step."""

    index: int
    name: str
    attempt: int
    status: StepStatus
    output: Any = None
    error: str | None
    cost_usd: float
    started_at: datetime | None
    duration_ms: float


class Effect(BaseModel):
    """A side effect the job queued, by idempotency key."""

    idempotency_key: str
    kind: str
    status: str


class ChainNode(JobSummary):
    """A job in a chain, with the follow-up jobs it started."""

    children: list[ChainNode]


class Chain(BaseModel):
    """A job's chain: its ancestors from the root down, and its tree of descendants."""

    ancestors: list[JobSummary]
    job: ChainNode


class JobDetail(JobSummary):
    """Everything about one job: steps with outputs, metadata, effects and chain."""

    continuations: int
    claims: int
    trigger_payload: dict[str, Any]
    event_chain: dict[str, Any]
    steps: list[Step]
    execution_metadata: dict[str, Any] | None
    outbox: list[Effect]
    chain: Chain


class Approval(BaseModel):
    """A pending action: a paused step waiting for a human, or the decision made on it."""

    id: str
    org_id: str
    user_id: str
    job_id: str
    step: str
    pattern: str
    title: str
    draft: dict[str, Any]
    status: ActionStatus
    modifications: dict[str, Any] | None
    decided_by: str | None
    decided_via: str | None
    decided_at: datetime | None
    expires_at: datetime | None
    created_at: datetime | None


class JobOutcome(BaseModel):
    """Where an event's job stands once it has settled (ended, or paused at an approval), or
    when waiting for it stopped: what ``Client.emit(wait=True)`` and ``App.run_event`` return."""

    event: EventResult | None = Field(
        description="What ingest said of the event; None when a job was awaited by its id."
    )
    job: JobDetail | None = Field(description="The job with its steps; None when the event made none.")
    approvals: list[Approval] = Field(
        default_factory=list, description="The job's pending approvals, when it waits for a person."
    )

    @property
    def status(self) -> str:
        """The job's status, or the event's (``skipped``, ``rejected``) when it made no job."""
        if self.job is not None:
            return self.job.status.value
        return self.event.status.value if self.event is not None else "unknown"

    @property
    def settled(self) -> bool:
        """True when the job ended or waits for a person: waiting longer changes nothing."""
        return self.job is not None and (self.job.status.final or self.awaiting_approval)

    @property
    def awaiting_approval(self) -> bool:
        return self.job is not None and self.job.status == JobStatus.AWAITING_APPROVAL

    @property
    def deferred(self) -> bool:
        """True when the job waits for a later time (``job.run_after``), e.g. the user's hours."""
        return self.job is not None and self.job.status == JobStatus.DEFERRED

    @property
    def outputs(self) -> dict[str, Any]:
        """Each step's output, by step name, from its last attempt that succeeded."""
        if self.job is None:
            return {}
        return {s.name: s.output for s in self.job.steps if s.status == StepStatus.COMPLETED}


class EventRejected(OvertureError):
    """The event was rejected at ingest; no job was made."""

    def __init__(self, outcome: JobOutcome) -> None:
        self.outcome = outcome
        event = outcome.event
        assert event is not None
        self.reason = event.reason
        self.detail = event.detail
        super().__init__(f"event {event.event_id} rejected ({event.reason}): {event.detail}")


class WaitTimedOut(OvertureError, TimeoutError):
    """The job had not ended or paused for a person when the wait ran out."""

    def __init__(self, outcome: JobOutcome, timeout: float) -> None:
        self.outcome = outcome
        job = outcome.job
        where = f"job {job.id} is still {job.status.value}" if job is not None else "no job yet"
        super().__init__(f"{where} after waiting {timeout:g} s")
