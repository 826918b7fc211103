"""A Python client of the Overture HTTP API, in blocking (``Client``) and asyncio
(``AsyncClient``) forms, typed with the server's own wire models (``overture.http.api.models``).

    with Client("http://127.0.0.1:8000", token="ov_...") as client:
        outcome = client.emit({"type": "gated", "org_id": "acme", "user_id": "ana", "payload": {}})
        if outcome.awaiting_approval:
            client.approvals.decide(outcome.approvals[0].id, "approve")
            outcome = client.wait(outcome.job.id)
"""

from overture.client.aio import AsyncClient
from overture.client.errors import (
    ApiError,
    ConflictError,
    InvalidRequest,
    NotFoundError,
    PermissionDenied,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
)
from overture.client.sync import Client
from overture.core.wire import EventRejected, JobOutcome, WaitTimedOut

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "ConflictError",
    "EventRejected",
    "InvalidRequest",
    "JobOutcome",
    "NotFoundError",
    "PermissionDenied",
    "ServerError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthenticated",
    "WaitTimedOut",
]
