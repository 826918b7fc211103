"""The /v1 wire shapes: what the API accepts and answers, as documented in /openapi.json.

They mirror the read models of :mod:`overture.engine.admin.views`, so the API, the CLI's
``--json`` and the console show the same fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from overture.core.gates import Outcome
from overture.core.records import ActionStatus, Decision, JobStatus, StepStatus
from overture.core.storable import check_storable
from overture.engine.admin.tenancy import EMAIL_PATTERN, WHITESPACE
from overture.errors import ValidationFailed

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"


class Incoming(BaseModel):
    """A request body: unknown fields refused, and only values both databases can store."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        try:
            check_storable(data)
        except ValidationFailed as exc:
            raise ValueError(str(exc)) from None
        return data


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


class JobList(BaseModel):
    items: list[JobSummary] = Field(description="Newest first.")
    next_before: str | None = Field(
        default=None,
        description="When more jobs may follow: pass it as `before` to list the next page.",
    )


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


class ApprovalList(BaseModel):
    items: list[Approval] = Field(description="Oldest first.")


class DecisionIn(Incoming):
    """A human's decision on a pending action."""

    # `modifications` only with `edit`: stated so that the document says it, checked in v1.py.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"properties": {"action": {"const": "edit"}}},
                {"properties": {"modifications": {"type": "null"}}},
            ]
        },
    )

    action: Decision
    modifications: dict[str, Any] | None = Field(
        default=None, description="For `edit` only: the draft fields to change."
    )
    decided_by: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="The deciding user; required when the token is not tied to a user.",
    )


class OperationIn(Incoming):
    """Why (and, for a token not tied to a user, on whose behalf) a job is cancelled or an event
    replayed; both go to the audit log."""

    reason: str = Field(min_length=1, max_length=500, description="Why; recorded in the audit log.")
    by: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Who asks, for a token not tied to a user (default: the token).",
    )


class CancelOut(BaseModel):
    """The cancelled job, what it was doing, and the pending actions closed with it."""

    job_id: str
    status: str
    was: str = Field(
        description="The job's status before: pending, deferred, in_progress or awaiting_approval."
    )
    status_reason: str | None
    closed_actions: list[str] = Field(description="Pending actions closed as cancelled.")


class RetryIn(Incoming):
    """Optionally, an earlier step to re-run from, and on whose behalf."""

    from_step: str | None = Field(
        default=None, max_length=64, description="Re-run from this earlier step (default: where it stopped)."
    )
    by: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Who asks, for a token not tied to a user."
    )


class DecisionOut(BaseModel):
    """The outcome of a decision; ``applied`` is false when someone had decided first."""

    pending_action_id: str
    applied: bool
    status: ActionStatus
    decided_by: str | None
    decided_via: str | None
    decided_at: datetime | None
    job_id: str
    message: str


class OrgIn(Incoming):
    """A new organisation."""

    id: str | None = Field(default=None, pattern=ID_PATTERN, description="Generated when absent.")
    name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": f"[^{WHITESPACE}]"})
    profile: dict[str, Any] | None = None


class Org(BaseModel):
    id: str
    name: str
    created_at: datetime


class OrgList(BaseModel):
    items: list[Org]


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" for c in word)


# What the admin service accepts (engine/admin/tenancy.py, core/hours.py), stated as patterns.
_WS = f"[{WHITESPACE}]*"
_CLOCK = "(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?"
ACTIVE_HOURS = f"^(?:{_WS}{_CLOCK}{_WS}-{_WS}(?:{_CLOCK}|24:00(?::00)?){_WS})?$"  # empty: always
_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = "(?:" + "|".join(_any_case(name) for name in (*_NAMES, *(n[:3] for n in _NAMES))) + ")"
_DAYS = f"{_WS}{_DAY}{_WS}(?:-{_WS}{_DAY}{_WS})?"
WORKDAYS = f"^{_DAYS}(?:,{_DAYS})*$"
EMAIL = EMAIL_PATTERN
ZONES: list[JsonValue] = [*sorted(available_timezones())]


class UserIn(Incoming):
    """A new user of an organisation."""

    id: str | None = Field(default=None, pattern=ID_PATTERN, description="Generated when absent.")
    name: str = Field(default="", max_length=200)
    timezone: str = Field(
        default="UTC", max_length=64, description="An IANA time zone.", json_schema_extra={"enum": ZONES}
    )
    active_hours: str | None = Field(
        default="08:00-18:00",
        max_length=32,
        description="HH:MM-HH:MM; null means always reachable.",
        json_schema_extra={"pattern": ACTIVE_HOURS},
    )
    workdays: str = Field(default="mon-fri", max_length=64, json_schema_extra={"pattern": WORKDAYS})
    max_notifications_per_hour: int = Field(default=10, ge=0, le=1_000_000)
    email: str | None = Field(default=None, max_length=320, json_schema_extra={"pattern": EMAIL})
    slack_user_id: str | None = Field(default=None, max_length=64)
    role: str = Field(default="member", pattern="^(member|admin)$")

    @field_validator("max_notifications_per_hour", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):  # JSON true is not the number 1
            raise ValueError("must be a whole number, not true or false")
        return value


class User(BaseModel):
    id: str
    org_id: str
    name: str
    timezone: str
    active_hours: str | None
    workdays: str
    role: str
    created_at: datetime


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


class ProblemItem(BaseModel):
    """One validation error: where it is, and what is wrong there."""

    location: str = Field(description="Dotted path, e.g. `body.payload` or `query.limit`.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="A URN naming the kind of problem.")
    title: str = Field(description="The HTTP reason phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What precisely was wrong with this request.")
    instance: str | None = Field(default=None, description="The path that was asked for.")
    errors: list[ProblemItem] | None = None


class Health(BaseModel):
    status: str = Field(description="`ok`: the process is up.")


class Ready(BaseModel):
    status: str = Field(description="`ready`: the database answers and its schema is current.")
    schema_revision: str
