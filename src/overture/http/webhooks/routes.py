"""The webhook receivers, in their senders' wire formats (docs/integrations/).

Each route reads the raw body (signatures are over the bytes as sent), hands it to the
``Intake`` in the thread pool, and answers what its sender expects: Slack a 200 within its
3 seconds, Graph a 202 (or its validation token in plain text), Pub/Sub and Google Calendar a
2xx that acknowledges, MeetingBaaS a 200 once the transcript is stored (a 202 when it is kept
for an account we do not know yet). Work that would keep
the sender waiting runs after the answer. A forged, stale or malformed request is answered with
a 4xx problem and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.background import BackgroundTask

from overture.app import App
from overture.core.webhooks import Outcome
from overture.http.problem import problem_response, problems
from overture.http.throttle import Throttle, client_address
from overture.http.webhooks.intake import Intake
from overture.http.webhooks.receipts import Taken, WebhookAck
from overture.http.webhooks.slack_commands import answer as slack_commands_answer
from overture.integrations import google_calendar as calendar_api
from overture.integrations import graph
from overture.integrations.apis import WebhookRejected, unauthenticated
from overture.integrations.slack_signing import SlackVerifier, parse_interaction

log = logging.getLogger("overture.webhooks")

router = APIRouter(tags=["webhooks"])

_JSON_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
# A Graph notification collection as the receiver reads it: every item names its subscription.
_GRAPH_BODY = {
    "type": "object",
    "required": ["value"],
    "properties": {
        "value": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["subscriptionId"],
                "properties": {"subscriptionId": {"type": "string"}, "clientState": {"type": "string"}},
            },
        }
    },
}
_ACK = {
    "description": "Taken: what became of the receipt (or of the first one, for a retry).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookAck"}}},
}
_WHY = {
    400: "The request cannot be read (body or headers); nothing was recorded.",
    401: "The request does not prove it comes from the sender (signature, secret or token); "
    "nothing was recorded.",
    404: "No account watches this mailbox (and the push was not authenticated); nothing was recorded.",
    413: "The request body is larger than the configured limit; it was not read.",
    422: "The request names something Overture does not fetch (a transcript link that is not https, "
    "not on the allowed storage hosts, or resolving to a private address); sending it again will not help.",
    429: "Too many unauthenticated requests came from this client lately; nothing was read. "
    "Send it again after `Retry-After` seconds.",
    503: "A resource needed to take the request could not be fetched; send it again.",
}
_ACKS = {
    "content": {
        "application/json": {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookAck"}}
        }
    }
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``problems(...)`` with what each status means for a webhook."""
    return {s: {**entry, "description": _WHY[int(s)]} for s, entry in problems(*statuses).items()}


def _intake(request: Request) -> Intake:
    """The service's ``Intake``, made on first use (on the event loop, so only once)."""
    state = request.app.state
    intake: Intake | None = getattr(state, "webhook_intake", None)
    if intake is None:
        app: App = state.overture
        intake = Intake(app)
        state.webhook_intake = intake
    return intake


def _kind(provider: str) -> str:
    """The throttle's name for a sender's failed authentications."""
    return "webhook:" + provider.replace(" ", "-")


def _locked_out(request: Request, provider: str) -> Response | None:
    """A 429 when this client sent too many unauthenticated webhooks lately (None: go on)."""
    throttle: Throttle = request.app.state.throttle
    wait = throttle.retry_after(_kind(provider), client_address(request.client))
    if wait is None:
        return None
    detail = f"too many unauthenticated {provider} webhooks from this client; try again in {wait} s"
    return problem_response(429, detail, request.url.path, headers={"Retry-After": str(wait)})


async def _refused(request: Request, provider: str, exc: WebhookRejected) -> Response:
    """The problem to answer; a 401 counts against the client's address."""
    log.info("refused a %s webhook: %s", provider, exc.reason)
    if exc.status == 401:
        throttle: Throttle = request.app.state.throttle
        await run_in_threadpool(throttle.failed, _kind(provider), client_address(request.client))
    return problem_response(exc.status, exc.detail, request.url.path)


async def _take(request: Request, provider: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` in the thread pool; a ``WebhookRejected`` becomes the problem to answer."""
    locked = _locked_out(request, provider)
    if locked is not None:
        return locked
    try:
        return await run_in_threadpool(fn, *args)
    except WebhookRejected as exc:
        return await _refused(request, provider, exc)


def _after(intake: Intake, taken: list[Taken]) -> BackgroundTask | None:
    """The work to do once the answer is sent: each newly accepted receipt's."""
    todo = [t.receipt.id for t in taken if not t.duplicate and t.receipt.outcome == Outcome.ACCEPTED]
    if not todo:
        return None

    def run() -> None:
        for receipt_id in todo:
            intake.work.run(receipt_id)

    return BackgroundTask(run)


def _ack(taken: Taken, intake: Intake) -> JSONResponse:
    status = 202 if taken.unrouted else 200
    return JSONResponse(taken.ack(), status_code=status, background=_after(intake, [taken]))


_UNROUTED = {
    "description": "Authentic, but for an account Overture does not know yet: kept with its "
    "transcript as an `unrouted` receipt, to be replayed once the account exists.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookAck"}}},
}


@router.post(
    "/webhooks/meetingbaas",
    summary="MeetingBaaS bot webhooks (API v1 and v2)",
    response_model=WebhookAck,
    responses={200: _ACK, 202: _UNROUTED, **_problems(400, 401, 429, 413, 422, 503)},
    openapi_extra={"requestBody": {"required": True, **_JSON_BODY}},
)
async def meetingbaas_webhook(request: Request) -> Response:
    """Authenticated by `x-meeting-baas-api-key`, `x-mb-secret` or a Svix signature. A finished
    meeting's transcript is stored once and a `meeting_ended` event refers to it by id; failures
    and status changes are recorded, not run. A meeting nobody's account matches is kept
    `unrouted` (202) for `overture integrations replay`. A v2 transcript link is fetched only
    over https from the allowed storage hosts and never from a private address (422 otherwise);
    503 if it could not be fetched."""
    intake = _intake(request)
    taken = await _take(request, "meetingbaas", intake.meetingbaas, await request.body(), request.headers)
    return taken if isinstance(taken, Response) else _ack(taken, intake)


# What the receiver reads from each header (a header's surrounding blanks are not its value).
_PRESENT = {"type": "string", "pattern": "\\S"}
_GOOGLE_HEADERS = [
    {"name": f"X-Goog-{name}", "in": "header", "required": required, "schema": schema}
    for name, required, schema in (
        ("Channel-ID", True, _PRESENT),
        ("Channel-Token", True, {"type": "string"}),
        ("Resource-ID", True, _PRESENT),
        ("Resource-State", True, {"type": "string", "enum": sorted(calendar_api.RESOURCE_STATES)}),
        ("Message-Number", True, {"type": "string", "pattern": "^\\s*[0-9]+\\s*$"}),
        ("Resource-URI", False, {"type": "string"}),
        ("Channel-Expiration", False, {"type": "string"}),
    )
]


@router.post(
    "/webhooks/google-calendar",
    summary="Google Calendar push notifications",
    response_model=WebhookAck,
    responses={200: _ACK, **_problems(400, 401, 429, 413)},
    openapi_extra={"parameters": _GOOGLE_HEADERS},
)
async def google_calendar_webhook(request: Request) -> Response:
    """Header-only. The channel token is checked against the channel's stored hash; the `sync`
    handshake is recorded; a change is fetched with the channel's sync token after the answer
    and new events become `calendar_event_created`."""
    intake = _intake(request)
    taken = await _take(request, "google calendar", intake.calendar, request.headers)
    return taken if isinstance(taken, Response) else _ack(taken, intake)


@router.post(
    "/webhooks/gmail",
    summary="Gmail changes through a Pub/Sub push subscription",
    response_model=WebhookAck,
    responses={200: _ACK, **_problems(400, 401, 429, 404, 413, 503)},
    openapi_extra={"requestBody": {"required": True, **_JSON_BODY}},
)
async def gmail_webhook(request: Request) -> Response:
    """The push's OIDC token is verified when an audience is configured. A 200 acknowledges;
    new messages are read from the mailbox's history afterwards and become `email_received`."""
    intake = _intake(request)
    authorization = request.headers.get("authorization")
    taken = await _take(request, "gmail", intake.gmail, await request.body(), authorization)
    return taken if isinstance(taken, Response) else _ack(taken, intake)


@router.post(
    "/webhooks/microsoft-graph",
    summary="Microsoft Graph change and lifecycle notifications",
    status_code=202,
    responses={
        200: {
            "description": "The subscription validation handshake: the token, verbatim.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        202: {"description": "Recorded; each change is fetched after this answer.", **_ACKS},
        **_problems(400, 401, 429, 413),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "validationToken",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": graph.MAX_VALIDATION_TOKEN},
            }
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _GRAPH_BODY}}},
    },
)
async def graph_webhook(request: Request) -> Response:
    """`?validationToken=` is answered in plain text. Items whose `clientState` does not match
    their subscription's are discarded (401 if none does); lifecycle events are handled."""
    try:
        token = graph.validation_token(request.query_params)
    except WebhookRejected as exc:
        return await _refused(request, "microsoft graph", exc)
    if token is not None:
        return PlainTextResponse(token, media_type="text/plain")
    intake = _intake(request)
    taken = await _take(request, "microsoft graph", intake.graph, await request.body())
    if isinstance(taken, Response):
        return taken
    body = [t.ack() for t in taken]
    return JSONResponse(body, status_code=202, background=_after(intake, taken))


@router.post(
    "/slack/interactions",
    summary="Slack interactivity: approval buttons and edit modals",
    responses={
        200: {
            "description": "Acknowledged; a message for the person who clicked, or a modal answer.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_problems(400, 401, 429, 413),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"payload": {"type": "string"}},
                        "required": ["payload"],
                    }
                }
            },
        }
    },
)
async def slack_interactions(request: Request) -> Response:
    """Signed with the app's signing secret (v0, five-minute window); forged, stale and unsigned
    requests get 401. The decision is made through the approvals path after the answer."""
    locked = _locked_out(request, "slack")
    if locked is not None:
        return locked
    intake = _intake(request)
    body = await request.body()
    secrets = intake.secrets()
    try:
        if secrets.slack_signing_secret is None:
            raise unauthenticated("not_configured", "no Slack signing secret is configured")
        SlackVerifier(secrets.slack_signing_secret).verify(body, request.headers, intake.app.clock.now())
        interaction = parse_interaction(body)
    except WebhookRejected as exc:
        return await _refused(request, "slack", exc)
    answer = await run_in_threadpool(intake.slack.take, interaction)
    task = None
    if answer.receipt_id is not None:
        task = BackgroundTask(
            intake.slack.finish,
            answer.receipt_id,
            interaction.response_url,
            secrets.slack_response_url_prefix,
        )
    if answer.body is None:
        return Response(status_code=200, background=task)
    return JSONResponse(answer.body, background=task)


@router.post(
    "/slack/commands",
    summary="Slack slash command: `/overture signin` answers a one-time sign-in link",
    responses={
        200: {
            "description": "An ephemeral message for the person who typed the command.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_problems(400, 401, 429, 413),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "team_id": {"type": "string"},
                            "user_id": {"type": "string"},
                            "text": {"type": "string"},
                        },
                        "required": ["team_id", "user_id"],
                    }
                }
            },
        }
    },
)
async def slack_commands(request: Request) -> Response:
    """Signed like interactions (v0, five-minute window); forged, stale and unsigned requests
    get 401 and issue nothing."""
    locked = _locked_out(request, "slack")
    if locked is not None:
        return locked
    intake = _intake(request)
    body = await request.body()
    secrets = intake.secrets()
    try:
        if secrets.slack_signing_secret is None:
            raise unauthenticated("not_configured", "no Slack signing secret is configured")
        SlackVerifier(secrets.slack_signing_secret).verify(body, request.headers, intake.app.clock.now())
        said = await run_in_threadpool(slack_commands_answer, intake.app, body)
    except WebhookRejected as exc:
        return await _refused(request, "slack", exc)
    return JSONResponse(said)
