"""Reading JSON request bodies strictly: media type, syntax, and values both databases can store.

JSON allows what neither backend stores faithfully: NUL characters (PostgreSQL text and
JSONB refuse them), lone UTF-16 surrogates (not encodable as UTF-8), and numbers that
parse to infinity. They are refused here, with the field that holds them, before any write.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from overture.http.problem import ProblemError


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_json(request: Request) -> Any:
    """The request body parsed as JSON: 415 when it is not declared JSON, 400 when it is not JSON."""
    await require_json(request)
    raw = await request.body()
    if not raw.strip():
        raise ProblemError(400, "the request body is empty; expected a JSON object")
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise ProblemError(
            400, f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ProblemError(400, "the request body is not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise ProblemError(400, f"the request body is not valid JSON: {exc}") from None


async def require_json(request: Request) -> None:
    """A dependency for routes whose body FastAPI parses: 415 unless the body is declared JSON."""
    content_type = request.headers.get("content-type", "")
    if not _is_json_media_type(content_type):
        got = repr(content_type[:64]) if content_type else "none"
        raise ProblemError(415, f"Content-Type: expected application/json, got {got}")
