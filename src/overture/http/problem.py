"""RFC 9457 problem details: every error the service answers, in one JSON shape.

``type`` is a URN per kind of problem (``urn:overture:problem:not-found``), ``title`` the
HTTP reason phrase, ``detail`` says precisely what was wrong, ``instance`` is the path
asked for, and validation problems list each error under ``errors``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from overture.errors import (
    Conflict,
    FieldsInvalid,
    Forbidden,
    InvalidToken,
    NotFound,
    OvertureError,
    ValidationFailed,
)
from overture.http.api.models import Problem, ProblemItem

log = logging.getLogger("overture.http")

MEDIA_TYPE = "application/problem+json"
SCHEMA_REF = "#/components/schemas/Problem"

_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "too-many-requests",
    500: "internal-error",
    503: "not-ready",
}
_DESCRIPTIONS = {
    400: "The request is malformed (for example, the body is not valid JSON).",
    401: "No valid bearer token: missing, malformed, unknown or revoked.",
    403: "The token may not do this (another org, another user, or not an admin token).",
    404: "No such resource, or it belongs to another org.",
    409: "The resource is in a state that does not allow this.",
    413: "The request body is larger than the configured limit; it was not read.",
    415: "The request body must be JSON (Content-Type: application/json).",
    422: "The request is well-formed but invalid; `detail` and `errors` say which field and why.",
    429: "Too many failed authentications from this client lately; try again after `Retry-After` seconds.",
    503: "Not ready: the database is unreachable or its schema is not current.",
}
_BEARER = {"WWW-Authenticate": 'Bearer realm="overture"'}


class ProblemError(Exception):
    """An HTTP-level refusal raised by the service's own code (body, media type, auth)."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def problem_type(status: int) -> str:
    return f"urn:overture:problem:{_SLUGS.get(status, 'error')}"


def problem_body(
    status: int, detail: str, instance: str | None = None, errors: Sequence[ProblemItem] | None = None
) -> dict[str, Any]:
    problem = Problem(
        type=problem_type(status),
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors else None,
    )
    return problem.model_dump(exclude_none=True)


def problem_response(
    status: int,
    detail: str,
    instance: str | None = None,
    *,
    errors: Sequence[ProblemItem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    return JSONResponse(
        problem_body(status, detail, instance, errors),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses, all problem+json."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {MEDIA_TYPE: {"schema": {"$ref": SCHEMA_REF}}},
        }
        for status in statuses
    }


def validation_items(errors: Sequence[Any]) -> list[ProblemItem]:
    """Pydantic/FastAPI error dicts as ``location: message`` items."""
    items = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        kind = err.get("type")
        msg = str(err.get("msg", "invalid"))
        if kind == "extra_forbidden":
            msg = "unknown field"
        elif kind == "json_invalid":
            error = err.get("ctx", {}).get("error", "decode error")
            msg = (
                f"not valid JSON ({error} at character {loc[-1]})"
                if len(loc) > 1
                else f"not valid JSON ({error})"
            )
            loc = loc[:1]
        items.append(ProblemItem(location=".".join(loc) or "request", message=msg))
    return items


def _status_of(exc: OvertureError) -> int:
    if isinstance(exc, InvalidToken):
        return 401
    if isinstance(exc, ValidationFailed):
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, Conflict):
        return 409
    return 500


async def _overture_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OvertureError)
    status = _status_of(exc)
    if status == 500:
        log.error("unhandled %s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
        return problem_response(500, "internal error; the server log has the details", request.url.path)
    items = (
        [ProblemItem(location=w, message=m) for w, m in exc.problems]
        if isinstance(exc, FieldsInvalid)
        else None
    )
    return problem_response(
        status, str(exc), request.url.path, errors=items, headers=_BEARER if status == 401 else None
    )


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.detail, request.url.path, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        detail = f"no resource at {request.url.path}"
    headers = exc.headers
    if exc.status_code == 405:
        allowed = _documented_methods(request) or (exc.headers or {}).get("Allow") or "none"
        headers = {**(exc.headers or {}), "Allow": allowed}
        detail = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
    return problem_response(exc.status_code, detail, request.url.path, headers=headers)


def _documented_methods(request: Request) -> str:
    """Every method the OpenAPI document gives this path (Starlette's 405 names only the first
    matching route's: ``/v1/orgs`` said ``GET`` and forgot ``POST``); empty if undocumented."""
    state = request.app.state
    table: list[tuple[re.Pattern[str], str]] | None = getattr(state, "allowed_methods", None)
    if table is None:
        table = []
        for path, item in request.app.openapi().get("paths", {}).items():
            parts = re.split(r"(\{[^}/]+\})", path)
            regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
            table.append((re.compile(f"^{regex}$"), ", ".join(sorted(m.upper() for m in item))))
        # A path of its own wins over a template that also matches it: /v1/jobs/cancel is not
        # /v1/jobs/{job_id}.
        table.sort(key=lambda entry: entry[0].pattern.count("[^/]+"))
        state.allowed_methods = table
    path = request.url.path
    return next((methods for pattern, methods in table if pattern.match(path)), "")


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = validation_items(exc.errors())
    status = 400 if any(e.get("type") == "json_invalid" for e in exc.errors()) else 422
    detail = "; ".join(f"{i.location}: {i.message}" for i in items)
    return problem_response(status, detail, request.url.path, errors=items)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ResponseValidationError):
        log.error("response of %s %s does not match its model: %s", request.method, request.url.path, exc)
    return problem_response(500, "internal error; the server log has the details", request.url.path)


def install(api: FastAPI) -> None:
    """Answer every error as problem+json: ours, FastAPI's validation errors, and Starlette's."""
    api.add_exception_handler(OvertureError, _overture_error)
    api.add_exception_handler(ProblemError, _problem_error)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _request_invalid)
    api.add_exception_handler(Exception, _internal)
