"""The busiest route answered on a shorter stack: the service's own middleware and exception
handlers around the route's handler, without the framework's router and its other layers.

``POST /v1/events`` is what integrations and webhook senders call at a high rate. Its handler
takes nothing from the framework (it reads its request itself), yet the full stack matched the
path against every route, solved an empty set of dependencies and passed through layers for
features this service does not use (dependencies with ``yield``, FastAPI's own body limit and
telemetry): together about as much time as the ingest itself. Here the request meets the same
middleware (security headers, the body limit) and the same exception handlers (problem+json,
500), in the same order.

The route stays declared on its router, so /openapi.json documents it, and a request the
table does not name (another method, a ``root_path``) takes the full stack. A traced service
routes everything through the full stack, where its spans are made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp

Handler = Callable[[Request], Awaitable[Response]]
Routes = Mapping[tuple[str, str], Handler]


def stacks(api: Starlette, routes: Routes) -> dict[tuple[str, str], ASGIApp]:
    """Per (method, path): its handler inside the service's middleware and exception handlers,
    built as Starlette builds the full stack."""
    handlers: dict[Any, Any] = {}
    error_handler = None
    for key, value in api.exception_handlers.items():
        if key in (500, Exception):
            error_handler = value
        else:
            handlers[key] = value
    built: dict[tuple[str, str], ASGIApp] = {}
    for key, handler in routes.items():
        app: ASGIApp = ExceptionMiddleware(request_response(handler), handlers=handlers, debug=api.debug)
        for cls, args, kwargs in reversed(api.user_middleware):
            app = cls(app, *args, **kwargs)
        built[key] = ServerErrorMiddleware(app, handler=error_handler, debug=api.debug)
    return built
