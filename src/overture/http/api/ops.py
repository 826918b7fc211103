"""Operating jobs over /v1: cancel a job not yet ended, replay an event as a new job.

The same operations as ``overture jobs cancel`` and ``overture events replay``, audited with who
asked (the token's user, else the ``by`` the body names, else the token) and the body's reason.
A token sees only its org: another org's job or event is answered as not found. A token tied to
a user cancels only that user's jobs unless the user is an org admin, and replays only that
user's events.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from overture.engine.admin.tokens import Principal
from overture.engine.intake.replay import original_event, replay_event
from overture.engine.run.cancel import cancel_job
from overture.errors import Forbidden, NotFound
from overture.http.api.models import ID_PATTERN, EventResult, Incoming
from overture.http.api.v1 import _OutageAware
from overture.http.auth import AppDep, Auth
from overture.http.bodies import require_json
from overture.http.problem import problems
from overture.storage.queries import jobs as jobq
from overture.storage.queries import tenancy

router = APIRouter(prefix="/v1", route_class=_OutageAware)

JobId = Annotated[str, Path(pattern=ID_PATTERN, description="A job id.")]
EventId = Annotated[str, Path(pattern=ID_PATTERN, description="An event id.")]


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
        if principal.user_id is not None and job.user_id != principal.user_id:
            user = tenancy.get_user(conn, principal.user_id, job.org_id)
            if user is None or user.role != "admin":
                raise Forbidden("only the job's owner or an org admin may cancel it")
    return cancel_job(
        app.store, app.clock, job_id, _who(principal, body.by), body.reason, "api", org
    ).as_dict()


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
