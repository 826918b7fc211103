"""The API's refusals as exceptions: one class per kind of problem, each carrying the RFC 9457
problem the server answered (status, title, detail and, for invalid input, each field's error).

They also derive from the in-process errors (``overture.errors``), so ``except NotFound`` reads
the same whether the code talks to an ``App`` or to a server.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from overture.errors import Conflict, Forbidden, NotFound, OvertureError, ValidationFailed
from overture.http.api.models import Problem, ProblemItem


class ApiError(OvertureError):
    """The API answered with an error."""

    def __init__(self, problem: Problem, retry_after: float | None = None) -> None:
        self.problem = problem
        self.status = problem.status
        self.title = problem.title
        self.detail = problem.detail
        self.type = problem.type
        self.errors: list[ProblemItem] = list(problem.errors or [])
        self.retry_after = retry_after
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}")

    @property
    def fields(self) -> dict[str, str]:
        """Each invalid field's message, by its location (``payload.to``, ``body.reason``)."""
        return {item.location: item.message for item in self.errors}


class Unauthenticated(ApiError):
    """401: no valid bearer token (missing, malformed, unknown or revoked)."""


class PermissionDenied(ApiError, Forbidden):
    """403: the token may not do this."""


class NotFoundError(ApiError, NotFound):
    """404: no such resource, or it belongs to another org."""


class ConflictError(ApiError, Conflict):
    """409: the resource is in a state that does not allow this."""


class InvalidRequest(ApiError, ValidationFailed):
    """400, 413, 415 or 422: the request was refused as it stands; ``fields`` says where."""


class TooManyRequests(ApiError):
    """429: too many failed authentications lately; ``retry_after`` says when to try again."""


class ServiceUnavailable(ApiError):
    """503: the database is unreachable or not migrated; nothing was done, try again later."""


class ServerError(ApiError):
    """500 or another server error: the server log has the details."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFoundError,
    409: ConflictError,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def error_for(status: int, body: Any, reason: str, retry_after: str | None = None) -> ApiError:
    """The exception for an error answer: its problem+json, or one made from the status line
    when the body is not one (a proxy's page)."""
    try:
        problem = Problem.model_validate(body)
    except ValidationError:
        problem = Problem(
            type="about:blank", title=reason or "Error", status=status, detail=f"HTTP {status} {reason}"
        )
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    try:
        wait = float(retry_after) if retry_after is not None else None
    except ValueError:
        wait = None
    return kind(problem, wait)
