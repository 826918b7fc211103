"""The /v1 wire shapes: what the API accepts and answers, as documented in /openapi.json.

The read shapes of receipts, jobs, steps and approvals live in :mod:`overture.core.wire`, so
that ``App.run_event`` gives what the API answers; they mirror the read models of
:mod:`overture.engine.admin.views`, so the API, the CLI's ``--json`` and the console show the
same fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from overture.core.records import ActionStatus, Decision
from overture.core.storable import check_storable
from overture.core.wire import Approval, JobSummary
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


class JobList(BaseModel):
    items: list[JobSummary] = Field(description="Newest first.")
    next_before: str | None = Field(
        default=None,
        description="When more jobs may follow: pass it as `before` to list the next page.",
    )


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
