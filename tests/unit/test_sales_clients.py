"""Tier-3 HTTP clients against loopback fakes that answer like Apollo, Apify and Instantly."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from overture.errors import RateLimited
from overture.integrations.apis import ApiError
from overture.packs.sales import clients
from overture.packs.sales.config import SalesConfig

Reply = tuple[int, Any]


class Fake:
    """A loopback HTTP server: records each request and answers from ``route``."""

    def __init__(self, route: Callable[[str, str, dict[str, str], Any], Reply]) -> None:
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size)) if size else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(
                    {"method": self.command, "path": self.path, "headers": headers, "body": body}
                )
                status, answer = route(self.command, self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[str, str, dict[str, str], Any], Reply]], Fake]]:
    started: list[Fake] = []

    def start(route: Callable[[str, str, dict[str, str], Any], Reply]) -> Fake:
        started.append(Fake(route))
        return started[-1]

    yield start
    for fake in started:
        fake.close()


def test_apollo_match_sends_the_key_and_reads_the_person(serve: Any) -> None:
    """POST /api/v1/people/match with x-api-key; the person comes back; null means no match."""
    people = {"jordan@b.example": {"id": "p1", "title": "VP Operations", "headline": "Ops leader"}}
    fake = serve(lambda m, p, h, body: (200, {"person": people.get(body["email"])}))
    config = SalesConfig(apollo_base_url=fake.url, apollo_api_key="k-123")
    found = clients.apollo_match(config, {"email": "jordan@b.example", "name": "Jordan"})
    assert found is not None and found["title"] == "VP Operations"
    assert clients.apollo_match(config, {"email": "nobody@b.example"}) is None
    first = fake.requests[0]
    assert (first["method"], first["path"], first["headers"]["x-api-key"]) == (
        "POST",
        "/api/v1/people/match",
        "k-123",
    )
    assert first["body"] == {"email": "jordan@b.example", "name": "Jordan"}


def test_apify_runs_the_actor_synchronously_with_a_bearer_token(serve: Any) -> None:
    """POST /v2/acts/{actor}/run-sync-get-dataset-items with the input as body; items come back."""
    fake = serve(lambda m, p, h, body: (201, [{"headline": "VP Ops at Brightline"}]))
    config = SalesConfig(apify_base_url=fake.url, apify_token="tok", apify_linkedin_actor="someone~linkedin")
    items = clients.apify_run(config, config.apify_linkedin_actor, {"profileUrls": ["https://x"]}, 1)
    assert items == [{"headline": "VP Ops at Brightline"}]
    request = fake.requests[0]
    assert request["path"].startswith("/v2/acts/someone~linkedin/run-sync-get-dataset-items?limit=1")
    assert request["headers"]["authorization"] == "Bearer tok" and request["body"] == {
        "profileUrls": ["https://x"]
    }


def test_instantly_analytics_and_its_rate_limit(serve: Any) -> None:
    """GET /api/v2/campaigns/analytics with a bearer key; a 429 becomes RateLimited with its wait."""
    calls = iter([(200, [{"campaign_id": "c1", "reply_count_unique": 3}]), (429, {"error": "slow down"})])
    fake = serve(lambda m, p, h, body: next(calls))
    config = SalesConfig(instantly_base_url=fake.url, instantly_api_key="ik")
    assert clients.instantly_analytics(config) == [{"campaign_id": "c1", "reply_count_unique": 3}]
    assert fake.requests[0]["headers"]["authorization"] == "Bearer ik"
    with pytest.raises(RateLimited):
        clients.instantly_analytics(config)


def test_server_errors_and_unreachable_sources_raise_api_errors(serve: Any) -> None:
    """A 500 names the service and status; a closed port is an ApiError too (no hang)."""
    fake = serve(lambda m, p, h, body: (500, {"error": {"message": "boom"}}))
    with pytest.raises(ApiError, match="apollo answered 500: boom"):
        clients.apollo_match(
            SalesConfig(apollo_base_url=fake.url, apollo_api_key="k"), {"email": "a@b.example"}
        )
    closed = SalesConfig(instantly_base_url="http://127.0.0.1:9", instantly_api_key="k", source_timeout_s=1)
    with pytest.raises(ApiError):
        clients.instantly_analytics(closed)


def test_unconfigured_sources_say_so_before_any_request() -> None:
    """No key, no actor: SourceNotConfigured, and nothing is sent."""
    with pytest.raises(clients.SourceNotConfigured, match="OVERTURE_APOLLO_API_KEY"):
        clients.apollo_match(SalesConfig(), {"email": "a@b.example"})
    with pytest.raises(clients.SourceNotConfigured, match="no actor"):
        clients.apify_run(SalesConfig(apify_token="t"), None, {})
    with pytest.raises(clients.SourceNotConfigured):
        clients.instantly_analytics(SalesConfig())


def test_config_reads_overture_environment_variables() -> None:
    """Base URLs and keys come from OVERTURE_* variables; defaults are the vendors' hosts."""
    config = SalesConfig.from_env(
        {
            "OVERTURE_APOLLO_API_KEY": "secret-key",
            "OVERTURE_INSTANTLY_BASE_URL": "http://i",
            "OVERTURE_SMTP_PORT": "2525",
        }
    )
    assert (config.apollo_base_url, config.apollo_api_key) == ("https://api.apollo.io", "secret-key")
    assert (config.instantly_base_url, config.smtp_port, config.smtp_host) == ("http://i", 2525, None)
    assert "secret-key" not in repr(config)
