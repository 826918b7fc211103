"""Operating jobs over /v1: cancel jobs not yet ended (one, or all of a type), retry failed
ones (one, from a step, or all of a type since a moment), replay an event as a new job.

The same operations as ``overture jobs cancel / cancel-all / retry / retry-all`` and ``overture events
replay``, audited with who
asked (the token's user, else the ``by`` the body names, else the token) and the body's reason.
A token sees only its org: another org's job or event is answered as not found. A token tied to
a user cancels and retries only that user's jobs unless the user is an org admin (bulk retry
needs an admin), and replays only that user's events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Path
from pydantic import Field, field_validator

from overture.core.records import JobStatus
from overture.core.wire import EventResult, JobSummary
from overture.engine.admin.tokens import Principal
from overture.engine.admin.views import job_summary
from overture.engine.intake.replay import original_event, replay_event
from overture.engine.run.cancel import NOT_ENDED, cancel_job, cancel_matching
from overture.engine.run.retries import retry as retry_job
from overture.engine.run.retries import retry_ended_since
from overture.errors import Forbidden, NotFound
from overture.http.api.models import ID_PATTERN, CancelOut, Incoming, JobList, OperationIn, RetryIn
from overture.http.api.outages import OutageAwareRoute
from overture.http.auth import AppDep, Auth
from overture.http.bodies import require_json
from overture.http.problem import problems
from overture.storage.queries import jobs as jobq
from overture.storage.queries import tenancy

router = APIRouter(prefix="/v1", route_class=OutageAwareRoute)

JobId = Annotated[str, Path(pattern=ID_PATTERN, description="A job id.")]
EventId = Annotated[str, Path(pattern=ID_PATTERN, description="An event id.")]


class ReplayOut(EventResult):
    """The replay's outcome: a new event and job, and the event it repeats."""

    replay_of: str = Field(description="The event replayed.")


def _who(principal: Principal, by: str | None) -> str:
    if principal.user_id is not None:
        if by is not None and by != principal.user_id:
            raise Forbidden(f"by: this token acts as user {principal.user_id!r} only")
        return principal.user_id
    return by or f"token:{principal.token_id}"


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=CancelOut,
    tags=["jobs"],
    summary="Cancel a job not yet ended",
    responses=problems(400, 401, 403, 404, 409, 413, 415, 422),
)
def cancel(
    job_id: JobId,
    body: OperationIn,
    principal: Auth,
    _json: Annotated[None, Depends(require_json)],
    app: AppDep,
) -> dict[str, Any]:
    """A pending, deferred or waiting job is never run; a running one stops after its current
    step, whose outcome is dropped. Its pending actions are closed as cancelled. 409 when the
    job already ended."""
    org = principal.org_filter(None)
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id, org)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        _owner_or_admin(conn, principal, job.org_id, job.user_id, "cancel it")
    return cancel_job(
        app.store, app.clock, job_id, _who(principal, body.by), body.reason, "api", org
    ).as_dict()


class _BulkIn(Incoming):
    """What the bulk operations share: a type to narrow to, a cap, who asks, and a moment that
    must say its offset."""

    event_type: str | None = Field(default=None, max_length=64, description="Only jobs of this event type.")
    limit: int = Field(default=100, ge=1, le=1000)
    by: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Who asks, for a token not tied to a user."
    )

    @field_validator("since", check_fields=False)
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone offset (e.g. Z or +02:00)")
        return value


class RetryAllIn(_BulkIn):
    """Which ended jobs to retry: of a type, ended with a status since a moment."""

    since: datetime = Field(description="Jobs that ended at or after this moment.")
    status: Literal["failed", "halted", "expired"] = "failed"
    dry_run: bool = Field(default=False, description="Only list the jobs that would be retried.")


def _owner_or_admin(
    conn: sa.Connection, principal: Principal, org_id: str, owner: str | None, what: str
) -> None:
    """A user token acts on its user's jobs only, unless the user is an org admin."""
    if principal.user_id is None or principal.user_id == owner:
        return
    user = tenancy.get_user(conn, principal.user_id, org_id)
    if user is None or user.role != "admin":
        whose = "the job's owner or an org admin" if owner is not None else "an org admin"
        raise Forbidden(f"only {whose} may {what}")


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobSummary,
    tags=["jobs"],
    summary="Retry a failed job",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
def retry(
    job_id: JobId,
    principal: Auth,
    app: AppDep,
    body: Annotated[RetryIn | None, Body()] = None,
) -> dict[str, Any]:
    """Queue a failed or halted job again at the step it stopped on, or from an earlier
    `from_step`, keeping the steps before it; effects already carried out are not repeated. An
    expired job's approval is asked again. 409 when the job is not failed, halted or expired."""
    body = body or RetryIn()
    org = principal.org_filter(None)
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id, org)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        _owner_or_admin(conn, principal, job.org_id, job.user_id, "retry it")
    by = _who(principal, body.by)
    return job_summary(retry_job(app.store, app.clock, app.registry, job_id, by, "api", body.from_step, org))


@router.post(
    "/jobs/retry",
    response_model=JobList,
    tags=["jobs"],
    summary="Retry every job of a type that failed since a moment",
    responses=problems(400, 401, 403, 413, 415, 422),
)
def retry_all(
    body: RetryAllIn,
    principal: Auth,
    _json: Annotated[None, Depends(require_json)],
    app: AppDep,
) -> dict[str, Any]:
    """Each matching job (oldest first, at most `limit`) is queued again at the step it stopped
    on, audited; `dry_run` lists them and changes nothing."""
    org = principal.org_filter(None)
    if principal.user_id is not None:
        with app.store.read() as conn:
            _owner_or_admin(conn, principal, principal.org_id or "", None, "retry jobs in bulk")
    jobs = retry_ended_since(
        app.store,
        app.clock,
        app.registry,
        body.since,
        _who(principal, body.by),
        "api",
        body.event_type,
        JobStatus(body.status),
        org,
        body.limit,
        body.dry_run,
    )
    return {"items": [job_summary(j) for j in jobs]}


class CancelAllIn(_BulkIn):
    """Which jobs not yet ended to cancel, and why."""

    reason: str = Field(min_length=1, max_length=500, description="Why; recorded in the audit log.")
    status: list[Literal["pending", "deferred", "awaiting_approval", "in_progress"]] | None = Field(
        default=None,
        min_length=1,
        description="Only jobs with these statuses (default: every one not ended).",
    )
    since: datetime | None = Field(default=None, description="Only jobs created at or after this moment.")
    dry_run: bool = Field(default=False, description="Only list the jobs that would be cancelled.")


@router.post(
    "/jobs/cancel",
    response_model=JobList,
    tags=["jobs"],
    summary="Cancel every job of a type not yet ended",
    responses=problems(400, 401, 403, 413, 415, 422),
)
def cancel_all(
    body: CancelAllIn,
    principal: Auth,
    _json: Annotated[None, Depends(require_json)],
    app: AppDep,
) -> dict[str, Any]:
    """Each matching job (oldest first, at most `limit`) is cancelled as `POST /v1/jobs/{id}/cancel`
    does, audited; `dry_run` lists them and changes nothing."""
    org = principal.org_filter(None)
    if principal.user_id is not None:
        with app.store.read() as conn:
            _owner_or_admin(conn, principal, principal.org_id or "", None, "cancel jobs in bulk")
    statuses = tuple(JobStatus(s) for s in body.status) if body.status else NOT_ENDED
    jobs = cancel_matching(
        app.store,
        app.clock,
        _who(principal, body.by),
        body.reason,
        "api",
        body.event_type,
        statuses,
        org,
        body.since,
        body.limit,
        body.dry_run,
    )
    return {"items": [job_summary(j) for j in jobs]}


@router.post(
    "/events/{event_id}/replay",
    status_code=202,
    response_model=ReplayOut,
    tags=["events"],
    summary="Replay an event as a new job",
    responses=problems(400, 401, 403, 404, 413, 415, 422),
)
def replay(
    event_id: EventId,
    body: OperationIn,
    principal: Auth,
    _json: Annotated[None, Depends(require_json)],
    app: AppDep,
) -> dict[str, Any]:
    """Ingest the event again as a new event and job: every gate applies but dedupe, which a
    replay bypasses on purpose. `replay_of` names the event repeated; 202 whatever the gates
    decided, as for `POST /v1/events`."""
    org = principal.org_filter(None)
    row = original_event(app.store, event_id, org)
    principal.check_emit(row["org_id"], row["user_id"])
    by = _who(principal, body.by)
    return replay_event(app.store, app.ingestor, app.clock, event_id, by, body.reason, "api", org).as_dict()
