"""Reading JSON request bodies strictly: media type, syntax, limits, and values both databases
can store.

JSON allows what neither backend stores faithfully: NUL characters (PostgreSQL text and
JSONB refuse them), lone UTF-16 surrogates (not encodable as UTF-8), and numbers that
parse to infinity. They are refused here, with the field that holds them, before any write.
Bodies go through the one safe reader (``integrations.safe_json``): too deep, too many keys
or too large is a 400 naming the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from overture.http.problem import ProblemError
from overture.integrations import safe_json

_WHAT = "the request body"


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json(request: Request) -> Any:
    """The request body parsed as JSON: 415 when it is not declared JSON, 400 when it is not JSON."""
    check_json_type(request)
    return json_body(await request.body())


def json_body(raw: bytes) -> Any:
    """A body already read, parsed as JSON: 400 when it is empty or not JSON."""
    if not raw.strip():
        raise ProblemError(400, "the request body is empty; expected a JSON object")
    return parse_json(raw)


def parse_json(raw: bytes) -> Any:
    """``raw`` read by the safe reader, or a 400 saying which limit or why it is not JSON."""
    try:
        return safe_json.loads(raw, what=_WHAT)
    except ValueError as exc:
        raise ProblemError(400, safe_json.refusal(exc, _WHAT)) from None


async def require_json(request: Request) -> None:
    """A dependency for routes whose body FastAPI parses: 415 unless the body is declared JSON."""
    check_json_type(request)


def check_json_type(request: Request) -> None:
    """415 unless the body is declared JSON."""
    content_type = request.headers.get("content-type", "")
    if not _is_json_media_type(content_type):
        got = repr(content_type[:64]) if content_type else "none"
        raise ProblemError(415, f"Content-Type: expected application/json, got {got}")


class LimitedJsonRoute(APIRoute):
    """A route whose JSON body FastAPI parses, measured by the safe reader first: a body too
    deep, too large or with too many keys is a 400 before FastAPI's own parser sees it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def route(request: Request) -> Response:
            if takes_body and _is_json_media_type(request.headers.get("content-type", "")):
                raw = await request.body()
                try:
                    safe_json.check(raw, what=_WHAT)
                except safe_json.JsonRefused as exc:
                    raise ProblemError(400, str(exc)) from None
            return await handler(request)

        return route
