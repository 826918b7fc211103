"""Findings 4 and 7: security headers on every response, and no secret in a URL reaches the logs.

Every answer carries ``X-Content-Type-Options: nosniff``; /v1 and webhook answers (and console
pages) are ``Cache-Control: no-store``; HSTS is sent when the request came over https (as
uvicorn reports it, ``X-Forwarded-Proto`` included from trusted proxies). The access log
shows paths without their query strings, and the URLs client libraries log lose their query
(and Slack's response_url its secret path)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from overture.app import App
from overture.http import create_app
from overture.http.log_redaction import redact_path, redact_urls
from tests.integration.test_http_api import issue
from tests.unit.test_integrations_apis import FakeApi, Reply

TOKEN_TEXT = "ov_SECRETSECRETSECRETSECRETSECRETSECRETSECRE"


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), base_url="http://testserver") as test_client:
        yield test_client


def test_every_kind_of_answer_carries_nosniff_and_api_answers_are_not_stored(
    app: App, client: TestClient
) -> None:
    """A /v1 success and refusal, a webhook refusal, a 404, a 413, a probe and a console page."""
    ana = issue(app, "acme", "ana")
    answers = {
        "v1 ok": client.get("/v1/jobs", headers=ana),
        "v1 401": client.get("/v1/jobs"),
        "webhook 401": client.post("/webhooks/meetingbaas", content=b"{}"),
        "slack 401": client.post("/slack/interactions", content=b"payload=%7B%7D"),
        "404": client.get("/v1/nothing-here", headers=ana),
        "413": client.post("/v1/events", content=b"x" * 2_000_000, headers=ana),
        "probe": client.get("/healthz"),
        "console": client.get("/"),
    }
    for name, response in answers.items():
        assert response.headers.get("x-content-type-options") == "nosniff", name
        assert "strict-transport-security" not in response.headers, name
    for name in ("v1 ok", "v1 401", "webhook 401", "slack 401", "404", "413", "console"):
        assert answers[name].headers.get("cache-control") == "no-store", name


def test_hsts_is_sent_over_https(app: App) -> None:
    """A request that came over https (directly, or through a trusted proxy) is told HSTS."""
    with TestClient(create_app(app), base_url="https://testserver") as secure:
        response = secure.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_access_log_never_shows_a_query_string(app: App, caplog: pytest.LogCaptureFixture) -> None:
    """A real uvicorn server: a token sent in the query string is refused and logged without it."""
    port = _free_port()
    config = uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        thread.start()
        try:
            for _ in range(200):
                if server.started:
                    break
                threading.Event().wait(0.02)
            response = httpx.get(f"http://127.0.0.1:{port}/v1/jobs?access_token={TOKEN_TEXT}&x=1")
            assert response.status_code == 401
        finally:
            server.should_exit = True
            thread.join(10)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/v1/jobs?[redacted]" in line for line in lines), lines
    assert not [line for line in lines if TOKEN_TEXT in line]


def test_urls_logged_by_client_libraries_lose_their_secrets(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Once the service is made, httpx's log of each request's URL and slack_sdk's of the
    response_url it retries keep neither the query string nor Slack's secret path."""
    create_app(app)
    with FakeApi(lambda _r: Reply(body={})) as fake, caplog.at_level(logging.DEBUG):
        httpx.get(f"{fake.url}/t.json?X-Amz-Signature=SIGSECRET")
        logging.getLogger("slack_sdk.webhook.client").info(
            "Going to retry the same request: POST https://hooks.slack.com/actions/T1/42/HOOKSECRET"
        )
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "SIGSECRET" not in text and "HOOKSECRET" not in text
    assert f"{fake.url}/t.json?[redacted]" in text
    assert "https://hooks.slack.com/[redacted]" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET https://a.test/x?token=1 done", "GET https://a.test/x?[redacted] done"),
        ("https://u:p@a.test/x", "https://[redacted]@a.test/x"),
        ('"https://hooks.slack.com/services/T/B/X"', '"https://hooks.slack.com/[redacted]"'),
        ("no url here", "no url here"),
    ],
)
def test_redaction_keeps_what_helps_and_drops_what_could_be_secret(text: str, expected: str) -> None:
    assert redact_urls(text) == expected


def test_paths_keep_their_path_and_lose_their_query() -> None:
    assert redact_path("/v1/jobs?access_token=x") == "/v1/jobs?[redacted]"
    assert redact_path("/v1/jobs") == "/v1/jobs"
