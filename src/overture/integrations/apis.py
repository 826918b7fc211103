"""What every integration shares: refusing a webhook, drafting an event, calling an API.

Inbound, a receiver either returns a parsed value or raises ``WebhookRejected``, which carries
the status to answer and a short machine-readable reason, so a route stays a few lines.
Outbound, every API client is an ``httpx.Client`` built by ``make_client`` (base URL, timeouts,
bearer auth) and read through ``request_json``: a 429 becomes ``RateLimited`` (the engine
defers the job instead of failing it), anything else that went wrong becomes ``ApiError``
naming the service and the status.
"""

from __future__ import annotations

import email.utils
import hashlib
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from overture.errors import OvertureError, RateLimited

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "overture-integrations"

TokenSource = str | Callable[[], str]
"""A bearer token, or a callable asked for the current one before every request (for OAuth
tokens that are refreshed while a client lives)."""


class WebhookRejected(OvertureError):
    """The webhook request was refused."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


def unauthenticated(reason: str, detail: str) -> WebhookRejected:
    """A 401: the request does not prove it comes from the sender it claims."""
    return WebhookRejected(401, reason, detail)


def malformed(reason: str, detail: str) -> WebhookRejected:
    """A 400: the request is authentic (or not yet checked) but cannot be read."""
    return WebhookRejected(400, reason, detail)


class ApiError(OvertureError):
    """An external API call failed."""

    def __init__(self, service: str, detail: str, status: int | None = None) -> None:
        where = f"{service} answered {status}" if status is not None else service
        super().__init__(f"{where}: {detail}")
        self.service = service
        self.status = status
        self.detail = detail

    @property
    def retryable(self) -> bool:
        """Worth trying again later: the network failed or the service had a server error."""
        return self.status is None or self.status >= 500


class EventDraft(BaseModel):
    """An event a receiver wants ingested, short of the org and user that only the route
    (which knows which channel, mailbox or bot belongs to whom) can name."""

    model_config = ConfigDict(frozen=True)

    type: str
    source: str
    payload: dict[str, Any]
    idempotency_key: str
    occurred_at: datetime | None = None

    def for_user(self, org_id: str, user_id: str) -> dict[str, Any]:
        """The event's wire shape, as ``overture.core.events.parse_event`` takes it."""
        data = self.model_dump(mode="json", exclude_none=True)
        return {**data, "org_id": org_id, "user_id": user_id}


def idempotency_key(prefix: str, *parts: str) -> str:
    """``prefix:part:part``, hashed past the 255 characters an event's key may hold (Google
    event ids alone may run to 1024)."""
    key = ":".join((prefix, *parts))
    if len(key) <= 255:
        return key
    return f"{prefix}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: wire formats leave fields out."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None: a wrong type is treated as absent."""
    return value if isinstance(value, str) and value else None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the capitalisation of its name (senders differ, and a plain
    dict, unlike Starlette's ``Headers``, is case-sensitive)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``, asking a callable token source on every request."""

    def __init__(self, token: TokenSource) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token() if callable(self._token) else self._token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def make_client(
    base_url: str,
    *,
    token: TokenSource | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An API client rooted at ``base_url`` (a fake's loopback URL in tests), with bounded
    timeouts so a slow service cannot hold a worker, and bearer auth when a token is given."""
    return httpx.Client(
        base_url=base_url,
        auth=BearerAuth(token) if token is not None else None,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        transport=transport,
    )


def retry_after_s(value: str | None, reference: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: either delta-seconds or an HTTP-date
    (counted from ``reference``, the response's own ``Date`` when it has one)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    when = http_date(text)
    if when is None:
        return None
    reference = reference if reference.tzinfo else reference.replace(tzinfo=UTC)
    return max(0.0, (when - reference).total_seconds())


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date (RFC 9110: ``Fri, 21 Nov 2025 10:00:00 GMT``) as an aware datetime."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _error_detail(response: httpx.Response) -> str:
    """The service's own error message when it sends one (Google and Graph nest it under
    ``error.message``; Google's OAuth endpoints use ``error_description``), else the reason."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(body.get("error_description"), str):
            return str(body["error_description"])
        if isinstance(error, str):
            return error
    return response.reason_phrase or "error"


def check_response(response: httpx.Response, service: str, now: datetime | None = None) -> None:
    """Raise ``RateLimited`` for a 429, ``ApiError`` for any other non-2xx answer."""
    if response.is_success:
        return
    if response.status_code == 429:
        reference = http_date(response.headers.get("Date")) or now or datetime.now(UTC)
        wait = retry_after_s(response.headers.get("Retry-After"), reference)
        raise RateLimited(f"{service} rate limit: {_error_detail(response)}", retry_after_s=wait)
    raise ApiError(service, _error_detail(response), status=response.status_code)


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    params: Mapping[str, str | int | list[str]] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Send one request and return its JSON object, or raise ``RateLimited`` / ``ApiError``
    (network failures and bodies that are not a JSON object included)."""
    try:
        response = client.request(method, url, params=params, json=json, headers=headers)
    except httpx.HTTPError as exc:
        raise ApiError(service, f"{type(exc).__name__}: {exc}") from exc
    check_response(response, service)
    try:
        body = response.json()
    except ValueError as exc:
        raise ApiError(service, "the answer is not JSON", status=response.status_code) from exc
    if not isinstance(body, dict):
        raise ApiError(service, "the answer is not a JSON object", status=response.status_code)
    return body
