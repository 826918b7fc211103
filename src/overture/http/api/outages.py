"""A /v1 request that finds the database away answers 503 with Retry-After, never 500: the
client is to try again, and nothing was done."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response

from overture.http.bodies import LimitedJsonRoute
from overture.http.problem import problem_response
from overture.storage.outage import RETRY_AFTER_S, is_unavailable

log = logging.getLogger("overture.http")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def outage_aware(handler: Handler) -> Handler:
    """``handler``, answering 503 while the database is away (its token lookup included)."""

    async def route(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning("%s %s: the database is unreachable", request.method, request.url.path)
            return problem_response(
                503,
                "the database is unreachable; nothing was done: try again shortly",
                request.url.path,
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )

    return route


class OutageAwareRoute(LimitedJsonRoute):
    """A /v1 route that answers 503 while the database is away (see ``outage_aware``)."""

    def get_route_handler(self) -> Handler:
        return outage_aware(super().get_route_handler())
