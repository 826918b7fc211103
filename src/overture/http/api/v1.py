"""The /v1 API: events in; jobs, chains and approvals out; decisions in.

Every route needs a bearer token and sees only its token's org: another org's id is
answered exactly like an id that does not exist. Handlers that touch the database are
sync functions, so FastAPI runs them in its thread pool and the event loop never blocks.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from overture.app import App
from overture.core.events import parse_event
from overture.core.records import Decision, Event, JobStatus
from overture.core.wire import Approval, Chain, EventResult, JobDetail
from overture.engine.admin.views import action_view, chain_of, job_detail, job_summary
from overture.errors import NotFound, ValidationFailed
from overture.http.api.models import ID_PATTERN, ApprovalList, DecisionIn, DecisionOut, JobList
from overture.http.api.outages import OutageAwareRoute, outage_aware
from overture.http.api.waits import MAX_WAIT_S, until_settled
from overture.http.auth import AppDep, Auth, bearer_secret, principal_in, principal_of
from overture.http.bodies import check_json_type, json_body, require_json
from overture.http.offload import offload
from overture.http.problem import problems
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq

router = APIRouter(prefix="/v1", route_class=OutageAwareRoute)

EVENT_SCHEMA_REF = "#/components/schemas/EventIn"
_ACTION_STATUSES = "pending|approved|edited|skipped|cancelled|expired|all"
_IDEMPOTENCY_KEY = r"^[\x21-\x7e][\x20-\x7e]{0,254}$"

JobId = Annotated[str, Path(pattern=ID_PATTERN, description="A job id.")]
ActionId = Annotated[str, Path(pattern=ID_PATTERN, description="A pending action id.")]
OrgFilter = Annotated[
    str | None,
    Query(pattern=ID_PATTERN, description="Admin tokens: limit to one org. Others may only name their own."),
]
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]


def _iso_moment(value: Any) -> Any:
    """A moment in a query is written out: ``2026-11-20T08:00:00Z``, not a count of seconds."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be an ISO 8601 date-time with its offset, e.g. 2026-11-20T08:00:00Z")
    return value


# -- events ------------------------------------------------------------------------------


_IDEMPOTENCY_DOC = (
    "A repeat with the same key (same type and user) within 24 h is answered as a duplicate of the "
    "first, with the first's job_id, and runs nothing."
)
_IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": _IDEMPOTENCY_DOC,
    "schema": {
        "anyOf": [{"type": "string", "pattern": _IDEMPOTENCY_KEY}, {"type": "null"}],
        "description": _IDEMPOTENCY_DOC,
        "title": "Idempotency-Key",
    },
}
_IDEMPOTENCY_RE = re.compile(_IDEMPOTENCY_KEY)


def _idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header, or the 422 FastAPI would give for it."""
    value = request.headers.get("idempotency-key")
    if value is None or _IDEMPOTENCY_RE.fullmatch(value):
        return value
    error = {
        "type": "string_pattern_mismatch",
        "loc": ("header", "Idempotency-Key"),
        "msg": f"String should match pattern '{_IDEMPOTENCY_KEY}'",
        "input": value,
        "ctx": {"pattern": _IDEMPOTENCY_KEY},
    }
    raise RequestValidationError([error])


def _event_of(app: App, request: Request, raw: bytes) -> Event:
    """The request's event: its header and body as JSON (415, 400), validated once (422)."""
    idempotency_key = _idempotency_key(request)
    check_json_type(request)
    data = json_body(raw)
    if idempotency_key is not None and isinstance(data, dict):
        in_body = data.get("idempotency_key")
        if in_body is not None and in_body != idempotency_key:
            raise ValidationFailed(
                f"Idempotency-Key: the header {idempotency_key!r} differs from the body's "
                f"idempotency_key {str(in_body)[:64]!r}"
            )
        data = {**data, "idempotency_key": idempotency_key}
    return parse_event(data, app.clock.now())


@router.post(
    "/events",
    status_code=202,
    response_model=EventResult,
    tags=["events"],
    summary="Send an event",
    responses=problems(400, 401, 403, 413, 415, 422, 503),
    openapi_extra={
        "security": [{"bearer": []}],
        "parameters": [_IDEMPOTENCY_HEADER],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": EVENT_SCHEMA_REF}}},
        },
    },
)
async def post_event(request: Request) -> Response:
    """Gate and record an event. 202 whatever the gates decided: `status` and `reason` say what."""
    # The busiest route takes no parameters from the framework: it reads its header, token and
    # body itself and answers bytes (solving parameters and the response model cost more than
    # the ingest). /openapi.json still says what it takes (``openapi_extra``).
    #
    # Who asks comes first (401, as for every route), then the header and the body as JSON
    # (422, 415, 400), the event validated once, all on the event loop: no database yet. The
    # token is looked up in the ingest's own transaction, whose write joins the group commit
    # without a thread parked per request (a body at fault has the token looked up first, so
    # a bad token is still answered 401). Nothing is written for an invalid or foreign event.
    # While the database is away the sender is told to come back (503 with Retry-After, see
    # ``outage_aware``): nothing was recorded, and a retry with the same Idempotency-Key is safe.
    app: App = request.app.state.overture
    secret = bearer_secret(request)
    raw = await request.body()
    try:
        event = _event_of(app, request, raw)
    except Exception:
        await offload(request, principal_of, request)  # an unknown or revoked token: 401 first
        raise

    def authorise(conn: sa.Connection) -> None:
        principal_in(request, conn, secret).check_emit(event.org_id, event.user_id)

    result = await app.ingest_async(event, authorise)
    answer = EventResult.model_validate(result.as_dict()).model_dump_json().encode()
    return Response(answer, status_code=202, media_type="application/json")


#: Answered on the shorter stack (``overture.http.lean``): the same middleware and error
#: handling, without the framework's routing.
LEAN_ROUTES = {("POST", "/v1/events"): outage_aware(post_event)}


# -- jobs --------------------------------------------------------------------------------


@router.get("/jobs", response_model=JobList, tags=["jobs"], responses=problems(401, 403, 404, 422))
def list_jobs(
    principal: Auth,
    app: AppDep,
    status: JobStatus | None = None,
    event_type: Annotated[
        str | None, Query(pattern=EVENT_TYPE_PATTERN, description="Only jobs of this event type.")
    ] = None,
    user_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this user's jobs.")] = None,
    since: Annotated[
        AwareDatetime | None,
        BeforeValidator(_iso_moment),
        Query(description="Only jobs created at or after this moment (ISO 8601, with its offset)."),
    ] = None,
    before: Annotated[
        str | None,
        Query(pattern=ID_PATTERN, description="The next page: jobs listed after this one (`next_before`)."),
    ] = None,
    org_id: OrgFilter = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """The token's org's jobs, newest first, a page at a time: while `next_before` is set, more
    may follow. 404 when `before` names no job of the org."""
    org = principal.org_filter(org_id)
    with app.store.read() as conn:
        after = None
        if before is not None:
            after = jobq.get_job(conn, before, org)
            if after is None:
                raise NotFound(f"before: no job {before!r}")
        rows = jobq.list_jobs(
            conn,
            org_id=org,
            status=status.value if status else None,
            limit=limit,
            event_type=event_type,
            user_id=user_id,
            since=since,
            before=after,
        )
    return {
        "items": [job_summary(j) for j in rows],
        "next_before": rows[-1].id if len(rows) == limit else None,
    }


def _job_detail(app: App, job_id: str, org_id: str | None) -> dict[str, Any]:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id, org_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job_detail(conn, job)


@router.get("/jobs/{job_id}", response_model=JobDetail, tags=["jobs"], responses=problems(401, 404, 422))
async def get_job(
    job_id: JobId,
    principal: Auth,
    app: AppDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_S,
            description="Seconds to wait for the job to end or pause for a person before answering "
            "(long-poll); the answer says where the job stands either way.",
        ),
    ] = 0,
) -> dict[str, Any]:
    """One job: steps with outputs, execution metadata, effects and chain."""
    org = principal.org_filter(None)
    if wait > 0:
        await until_settled(app, job_id, org, wait)
    return await run_in_threadpool(_job_detail, app, job_id, org)


@router.get("/jobs/{job_id}/chain", response_model=Chain, tags=["jobs"], responses=problems(401, 404, 422))
def get_chain(job_id: JobId, principal: Auth, app: AppDep) -> dict[str, Any]:
    """The job's ancestors and the tree of follow-up jobs below it."""
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id, principal.org_filter(None))
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return chain_of(conn, job)


# -- approvals ---------------------------------------------------------------------------


@router.get("/approvals", response_model=ApprovalList, tags=["approvals"], responses=problems(401, 403, 422))
def list_approvals(
    principal: Auth,
    app: AppDep,
    status: Annotated[
        str, Query(pattern=f"^({_ACTION_STATUSES})$", description="A status, or `all`.")
    ] = "pending",
    user_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this user's.")] = None,
    job_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this job's.")] = None,
    org_id: OrgFilter = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """The token's org's pending actions (or decided ones, by status), oldest first."""
    org = principal.org_filter(org_id)
    with app.store.read() as conn:
        rows = actionq.list_actions(
            conn,
            org_id=org,
            status=None if status == "all" else status,
            user_id=user_id,
            limit=limit,
            job_id=job_id,
        )
    return {"items": [action_view(a) for a in rows]}


@router.get(
    "/approvals/{action_id}", response_model=Approval, tags=["approvals"], responses=problems(401, 404, 422)
)
def get_approval(action_id: ActionId, principal: Auth, app: AppDep) -> dict[str, Any]:
    """One pending action, with its draft and, once decided, who decided and when."""
    with app.store.read() as conn:
        action = actionq.get_action(conn, action_id, principal.org_filter(None))
    if action is None:
        raise NotFound(f"no pending action {action_id!r}")
    return action_view(action)


@router.post(
    "/approvals/{action_id}/decision",
    response_model=DecisionOut,
    tags=["approvals"],
    responses=problems(400, 401, 403, 404, 413, 415, 422),
)
def decide(
    action_id: ActionId,
    body: DecisionIn,
    principal: Auth,
    _json: Annotated[None, Depends(require_json)],
    app: AppDep,
) -> dict[str, Any]:
    """Approve, edit, skip or cancel. A second decision changes nothing: `applied` is false and
    `decided_by`/`decided_at` say who decided first and when."""
    by = principal.decider(body.decided_by)
    if body.action != Decision.EDIT and body.modifications is not None:
        raise ValidationFailed("modifications: only used with action edit")
    result = app.approvals.decide(
        action_id, body.action, by, "api", body.modifications, org_id=principal.org_filter(None)
    )
    return result.as_dict()


# -- effects -----------------------------------------------------------------------------


class Effect(BaseModel):
    """One side effect a job queued (an email, a file, a message) and where it stands."""

    id: int
    job_id: str | None
    kind: str
    idempotency_key: str
    status: str = Field(description="pending, sending, sent, failed or in_doubt.")
    attempts: int
    last_error: str | None


class EffectList(BaseModel):
    items: list[Effect]


_RETRY_DOC = (
    "Queue again an effect that failed for good or is in doubt (a worker died mid-attempt): "
    "it is tried again with a fresh count of attempts, and the retry is audited. 409 when "
    "there is nothing to retry."
)


@router.post(
    "/effects/{effect_id}/retry",
    response_model=EffectList,
    tags=["jobs"],
    summary="Retry a failed effect",
    description=_RETRY_DOC,
    responses=problems(401, 404, 409, 422),
)
def retry_effect(
    effect_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="An effect id.")],
    principal: Auth,
    app: AppDep,
) -> dict[str, Any]:
    by = principal.user_id or f"token:{principal.token_id}"
    rows = app.effects.retry(effect_id=effect_id, org_id=principal.org_filter(None), by=by, via="api")
    return {"items": rows}


@router.post(
    "/jobs/{job_id}/effects/retry",
    response_model=EffectList,
    tags=["jobs"],
    summary="Retry a job's failed effects",
    description=_RETRY_DOC,
    responses=problems(401, 404, 409, 422),
)
def retry_job_effects(job_id: JobId, principal: Auth, app: AppDep) -> dict[str, Any]:
    by = principal.user_id or f"token:{principal.token_id}"
    rows = app.effects.retry(job_id=job_id, org_id=principal.org_filter(None), by=by, via="api")
    return {"items": rows}
