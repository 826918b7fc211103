"""Shared integration plumbing: API clients against a loopback fake, errors, event drafts.

``FakeApi`` (a stdlib HTTP server on 127.0.0.1 in a thread) is also used by the other
``test_integrations_*`` modules to stand in for Google, Microsoft and MeetingBaaS.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from overture.core.events import parse_event
from overture.errors import RateLimited
from overture.integrations.apis import (
    ApiError,
    EventDraft,
    WebhookRejected,
    header,
    idempotency_key,
    make_client,
    malformed,
    obj,
    request_json,
    retry_after_s,
    unauthenticated,
)


@dataclass(frozen=True)
class Seen:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Seen], Reply]


class FakeApi:
    """A real HTTP server on a free loopback port that answers from ``handler`` and records
    every request, so clients are tested over the wire with their real base-URL handling."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Seen(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                fake.seen.append(request)
                reply = fake.handler(request)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response_only(reply.status)
                headers = {
                    "Date": self.date_time_string(),
                    "Content-Type": "application/json",
                    **reply.headers,
                }
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def fixed(reply: Reply) -> Handler:
    return lambda _request: reply


@pytest.fixture
def echo() -> Iterator[FakeApi]:
    with FakeApi(lambda r: Reply(body={"path": r.path, "query": r.query})) as api:
        yield api


def test_client_roots_requests_at_the_base_url_with_bearer_auth(echo: FakeApi) -> None:
    """A relative path is appended to the base URL's path; the token travels as Bearer."""
    with make_client(f"{echo.url}/calendar/v3", token="ya29.token") as http:
        body = request_json(http, "GET", "/calendars/primary/events", service="t", params={"a": "1"})
    assert body == {"path": "/calendar/v3/calendars/primary/events", "query": {"a": ["1"]}}
    assert echo.seen[0].headers["authorization"] == "Bearer ya29.token"
    assert echo.seen[0].headers["user-agent"] == "overture-integrations"


def test_callable_token_is_asked_on_every_request(echo: FakeApi) -> None:
    """A refreshed OAuth token is picked up without rebuilding the client."""
    tokens = iter(["one", "two"])
    with make_client(echo.url, token=lambda: next(tokens)) as http:
        request_json(http, "GET", "/a", service="t")
        request_json(http, "GET", "/b", service="t")
    assert [s.headers["authorization"] for s in echo.seen] == ["Bearer one", "Bearer two"]


def test_client_without_token_sends_no_authorization(echo: FakeApi) -> None:
    """Pre-signed artifact URLs must not receive our credentials."""
    with make_client(echo.url) as http:
        request_json(http, "GET", "/x", service="t")
    assert "authorization" not in echo.seen[0].headers


@pytest.mark.parametrize(
    ("reply", "expected_wait"),
    [
        (Reply(429, {"error": {"message": "Rate Limit Exceeded"}}, {"Retry-After": "30"}), 30.0),
        (
            Reply(
                429,
                {},
                {"Retry-After": "Fri, 21 Nov 2025 10:02:00 GMT", "Date": "Fri, 21 Nov 2025 10:00:00 GMT"},
            ),
            120.0,
        ),
        (Reply(429, {}), None),
    ],
)
def test_429_becomes_rate_limited_with_the_wait(reply: Reply, expected_wait: float | None) -> None:
    """429 maps to RateLimited (the engine defers the job), carrying Retry-After in seconds."""
    with FakeApi(fixed(reply)) as api, make_client(api.url) as http, pytest.raises(RateLimited) as caught:
        request_json(http, "GET", "/x", service="gmail")
    assert caught.value.retry_after_s == expected_wait
    assert "gmail" in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "status", "detail", "retryable"),
    [
        (Reply(500, {"error": {"code": 500, "message": "Backend Error"}}), 500, "Backend Error", True),
        (Reply(404, {"error": {"message": "Not Found"}}), 404, "Not Found", False),
        (Reply(401, {"error": "invalid_token", "error_description": "Expired"}), 401, "Expired", False),
        (Reply(403, b"<html>no</html>"), 403, "Forbidden", False),
        (Reply(200, b"not json"), 200, "the answer is not JSON", False),
        (Reply(200, [1, 2]), 200, "the answer is not a JSON object", False),
    ],
)
def test_other_failures_become_api_errors(reply: Reply, status: int, detail: str, retryable: bool) -> None:
    """Any other failure is an ApiError naming the service, the status and the service's message."""
    with FakeApi(fixed(reply)) as api, make_client(api.url) as http, pytest.raises(ApiError) as caught:
        request_json(http, "GET", "/x", service="graph")
    assert (caught.value.status, caught.value.detail, caught.value.retryable) == (status, detail, retryable)
    assert str(caught.value).startswith(f"graph answered {status}")


def test_network_failures_are_retryable_api_errors() -> None:
    """A refused connection is an ApiError with no status, worth retrying."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with make_client(f"http://127.0.0.1:{port}") as http, pytest.raises(ApiError) as caught:
        request_json(http, "GET", "/x", service="gcal")
    assert caught.value.status is None and caught.value.retryable


def test_timeouts_are_bounded() -> None:
    """A slow service raises a retryable ApiError after the client's timeout, not a hang."""

    def slow(_request: Seen) -> Reply:
        time.sleep(0.5)
        return Reply()

    with (
        FakeApi(slow) as api,
        make_client(api.url, timeout=0.1) as http,
        pytest.raises(ApiError, match="Timeout") as caught,
    ):
        request_json(http, "GET", "/x", service="gcal")
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("Fri, 21 Nov 2025 10:00:30 GMT", 30.0),
        ("Fri, 21 Nov 2025 09:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    """Retry-After is delta-seconds or an HTTP-date; anything else is ignored."""
    assert retry_after_s(value, datetime(2025, 11, 21, 10, 0, tzinfo=UTC)) == expected


def test_header_lookup_ignores_case() -> None:
    """Senders capitalise header names differently; plain dicts must still match."""
    headers = {"x-slack-signature": "v0=1", "X-Goog-Channel-ID": "c"}
    assert header(headers, "X-Slack-Signature") == "v0=1"
    assert header(headers, "x-goog-channel-id") == "c"
    assert header(headers, "missing") is None
    assert header(httpx.Headers({"A-B": "1"}), "a-b") == "1"


def test_idempotency_keys_fit_the_event_limit() -> None:
    """Keys stay readable when short and are hashed past 255 characters."""
    assert idempotency_key("gmail", "ana@acme.test", "18c") == "gmail:ana@acme.test:18c"
    long = idempotency_key("google", "cal", "x" * 1024)
    assert long.startswith("google:sha256:") and len(long) <= 255
    assert long == idempotency_key("google", "cal", "x" * 1024)


def test_rejections_carry_status_and_reason() -> None:
    """A route answers exc.status with exc.detail; exc.reason is for logs and tests."""
    assert (unauthenticated("bad_signature", "no").status, malformed("bad", "no").status) == (401, 400)
    exc = WebhookRejected(503, "certs_unavailable", "later")
    assert (exc.status, exc.reason, str(exc)) == (503, "certs_unavailable", "later")


def test_obj_keeps_only_json_objects() -> None:
    assert obj({"a": 1}) == {"a": 1}
    assert obj(None) == {} and obj([1]) == {} and obj("x") == {}


def test_event_draft_is_a_valid_event_for_the_engine() -> None:
    """A draft plus the route's org and user is exactly what /v1/events accepts."""
    draft = EventDraft(
        type="email_received",
        source="webhook:email",
        payload={"id": "1"},
        idempotency_key="gmail:ana@acme.test:1",
        occurred_at=datetime(2025, 11, 21, 9, 0, tzinfo=UTC),
    )
    event = parse_event(draft.for_user("acme", "ana"), datetime(2025, 11, 21, 10, 0, tzinfo=UTC))
    assert (event.type, event.source, event.org_id, event.user_id) == (
        "email_received",
        "webhook:email",
        "acme",
        "ana",
    )
    assert event.idempotency_key == "gmail:ana@acme.test:1"
