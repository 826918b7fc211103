"""Probes and metrics for operators: /healthz, /readyz and /metrics. No token needed."""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from overture.http.api.models import Health, Ready
from overture.http.auth import AppDep
from overture.http.metrics import render
from overture.http.problem import ProblemError, problems
from overture.storage.outage import RETRY_AFTER_S

log = logging.getLogger("overture.http")

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The process is up and answering (the database is not consulted)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, responses=problems(503))
def readyz(request: Request, app: AppDep) -> dict[str, str]:
    """Ready for traffic: the database answers, its schema is the one this version needs, and
    the worker this process runs (``serve``) is running and reaching the database."""
    head: str = request.app.state.schema_head
    try:
        with app.store.read() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readyz: database unreachable (%s)", type(exc).__name__)
        raise ProblemError(
            503,
            f"the database is unreachable ({type(exc).__name__})",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from None
    if current != head:
        at = f"revision {current}" if current else "no revision (never migrated)"
        raise ProblemError(
            503, f"the database schema is at {at}; this version needs {head}: run `overture migrate`"
        )
    checks: list[Callable[[], str | None]] = getattr(request.app.state, "readiness", [])
    for check in checks:
        problem = check()
        if problem is not None:
            raise ProblemError(503, problem, headers={"Retry-After": str(RETRY_AFTER_S)})
    return {"status": "ready", "schema_revision": head}


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **problems(503),
    },
)
def metrics(request: Request) -> Response:
    """Events by outcome, jobs by status, queue depth, pending approvals, step durations."""
    try:
        body = render(request.app.state.metrics)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("metrics: database unreachable: %s", exc)
        raise ProblemError(503, f"the database is unreachable ({type(exc).__name__})") from None
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
