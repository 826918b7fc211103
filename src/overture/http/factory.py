"""The app factory: one FastAPI application per App, a router per concern, no globals."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, FastAPI

from overture import __version__
from overture.app import App
from overture.http import docs, health, log_redaction, offload, problem
from overture.http.api import admin, receipts
from overture.http.api import ops as api_ops
from overture.http.api import sessions as api_sessions
from overture.http.api import v1 as api_v1
from overture.http.console import cancels as console_cancels
from overture.http.console import events as console_events
from overture.http.console import job_list as console_jobs
from overture.http.console import live as console_live
from overture.http.console import receipts as console_receipts
from overture.http.console import reruns as console_reruns
from overture.http.console import retries as console_retries
from overture.http.console import routes as console
from overture.http.console import session as console_session
from overture.http.console import signin as console_signin
from overture.http.console import signin_mail
from overture.http.console import skill_sessions as console_skills
from overture.http.limits import BodyLimit
from overture.http.metrics import registry_for
from overture.http.openapi import OvertureAPI
from overture.http.security_headers import SecurityHeaders
from overture.http.throttle import throttle_for
from overture.http.webhooks import routes as webhooks
from overture.observability import web as web_tracing
from overture.storage import migrate

DEFAULT_MAX_BODY_BYTES = 1_048_576

#: FastAPI's own telemetry (newer releases) asks OpenTelemetry for its global providers on every
#: request, a measurable share of a small one; Overture traces requests itself
#: (``observability.web``), so it is turned off where FastAPI has it.
NO_NATIVE_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)

#: The routers every service mounts, in order. A request is matched against the routes one
#: after another, so the paths machines call often (events, webhooks, probes) come first.
ROUTERS: tuple[APIRouter, ...] = (
    api_v1.router,
    webhooks.router,
    health.router,
    api_ops.router,
    admin.router,
    api_sessions.router,
    receipts.router,
    console_signin.router,
    console.router,
    console_jobs.router,
    console_events.router,
    console_live.router,
    console_receipts.router,
    console_retries.router,
    console_cancels.router,
    console_reruns.router,
    console_skills.router,
    docs.router,
)

_DESCRIPTION = """Events in, durable skill sequences out, humans asked before anything leaves.

Every `/v1` route needs `Authorization: Bearer ov_...` (see `overture tokens create`) and sees
only the token's org. Errors are RFC 9457 `application/problem+json`."""


def create_app(app: App, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """The HTTP service for ``app``: /v1 API, probes, metrics, webhooks and the web console.

    Request bodies over ``max_body_bytes`` are refused with 413 before they are read in full.
    """
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be at least 1")
    api = OvertureAPI(
        title="Overture",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # served by overture.http.docs, from this service rather than a CDN
        redoc_url=None,
        **NO_NATIVE_TELEMETRY,
    )
    api.state.overture = app
    api.state.tokens = app.tokens
    api.state.metrics = registry_for(app)
    api.state.throttle = throttle_for(app)
    api.state.metrics.register(api.state.throttle.collector())
    api.state.schema_head = migrate.head_revision()
    api.state.signin_requests = signin_mail.Requests(app.settings.signin_link_requests)
    api.state.offload = offload.executor()
    problem.install(api)
    console_session.install(api)
    for router in ROUTERS:
        api.include_router(router)
    api.add_middleware(BodyLimit, max_body_bytes=max_body_bytes)
    api.add_middleware(SecurityHeaders)
    log_redaction.install()
    traced = web_tracing.instrument(api, log_redaction.redact_urls)  # server spans, while tracing is on
    if not traced:
        api.lean_routes = api_v1.LEAN_ROUTES
    return api
