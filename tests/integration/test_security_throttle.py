"""Finding 3: failed authentication is throttled per client address and per token prefix, for
bearer tokens, console sign-ins and webhook signatures: past the limit (20 failures a minute from
one address, 10 with one token prefix, by default) the answer is 429 with Retry-After, the lockout
is audited once and counted in /metrics. Successes are never counted."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from anyio.from_thread import start_blocking_portal

from overture.app import App
from overture.clock import FakeClock
from overture.http import create_app
from overture.storage.tables.orchestrator import audit_log
from tests.integration.test_http_api import is_problem, issue
from tests.integration.test_webhooks_accounts import connect, hooks_app
from tests.integration.test_webhooks_slack import SECRET, form, signed
from tests.unit.test_integrations_slack import BLOCK_ACTIONS

BAD = "ov_" + "A" * 43


def guess(i: int) -> str:
    """A well-formed token that is no one's, its first characters (its prefix) its own."""
    return f"ov_{i:05d}" + "A" * 38


class Caller:
    """An in-process client calling from a given address."""

    def __init__(self, api: Any, address: str) -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        transport = httpx.ASGITransport(app=api, client=(address, 5555))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(functools.partial(self._client.request, method, url, **kwargs))

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._stack.close()


@contextmanager
def callers(app: App) -> Iterator[Any]:
    """``call(address)``: a client of one service from that address."""
    api = create_app(app)
    made: dict[str, Caller] = {}

    def call(address: str = "203.0.113.7") -> Caller:
        if address not in made:
            made[address] = Caller(api, address)
        return made[address]

    try:
        yield call
    finally:
        for caller in made.values():
            caller.close()


def tally(responses: list[httpx.Response]) -> dict[str, int]:
    return {
        "tries": len(responses),
        "accepted": sum(r.status_code < 300 for r in responses),
        "401": sum(r.status_code == 401 for r in responses),
        "429": sum(r.status_code == 429 for r in responses),
        "5xx": sum(r.status_code >= 500 for r in responses),
    }


def lockouts(app: App) -> list[dict[str, Any]]:
    with app.store.read() as conn:
        q = sa.select(audit_log.c.reason, audit_log.c.detail).where(audit_log.c.action == "auth_throttled")
        return [{"reason": r.reason, **r.detail} for r in conn.execute(q)]


def test_bad_bearer_tokens_from_one_address_are_throttled(app: App) -> None:
    """30 bad tokens (each its own prefix) from one address: 20 are 401, then 429 with
    Retry-After, even for a good token from there; another address is unaffected; one lockout
    is audited and counted."""
    good = issue(app, "acme", "ana")
    with callers(app) as call:
        tries = [
            call().request("GET", "/v1/jobs", headers={"Authorization": f"Bearer {guess(i)}"})
            for i in range(30)
        ]
        assert tally(tries) == {"tries": 30, "accepted": 0, "401": 20, "429": 10, "5xx": 0}
        last = is_problem(tries[-1], 429)
        assert "too many failed" in last["detail"]
        assert 1 <= int(tries[-1].headers["retry-after"]) <= 60
        assert call().request("GET", "/v1/jobs", headers=good).status_code == 429
        assert call("198.51.100.9").request("GET", "/v1/jobs", headers=good).status_code == 200
        metrics = call("198.51.100.9").request("GET", "/metrics").text
    assert lockouts(app) == [{"reason": "too_many_failures", "kind": "bearer", "key": "address"}]
    assert re.search(r'overture_auth_failures_total\{kind="bearer"\} 20\.0', metrics)
    assert re.search(r'overture_auth_throttled_total\{kind="bearer"\} 11\.0', metrics)


def test_one_token_prefix_tried_from_many_addresses_is_throttled(app: App) -> None:
    """Guesses sharing a prefix, each from a new address: 10 are 401, then 429."""
    with callers(app) as call:
        tries = [
            call(f"203.0.113.{i}").request(
                "GET", "/v1/jobs", headers={"Authorization": f"Bearer {BAD[:-2]}{i:02d}"}
            )
            for i in range(15)
        ]
    assert tally(tries) == {"tries": 15, "accepted": 0, "401": 10, "429": 5, "5xx": 0}
    assert lockouts(app) == [{"reason": "too_many_failures", "kind": "bearer", "key": "token"}]


def test_successes_are_never_throttled(app: App) -> None:
    good = issue(app, "acme", "ana")
    with callers(app) as call:
        codes = {call().request("GET", "/v1/jobs", headers=good).status_code for _ in range(40)}
    assert codes == {200}


def test_bad_console_sign_ins_are_throttled(app: App) -> None:
    """The sign-in form answers 429 with Retry-After once an address has failed 20 times."""
    with callers(app) as call:
        page = call().request("GET", "/signin")
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        cookie = {"cookie": f"overture_signin={nonce}"}
        tries = [
            call().request("POST", "/signin", data={"token": guess(i), "nonce": nonce}, headers=cookie)
            for i in range(22)
        ]
    assert tally(tries) == {"tries": 22, "accepted": 0, "401": 20, "429": 2, "5xx": 0}
    assert "Too many failed sign-ins" in tries[-1].text and int(tries[-1].headers["retry-after"]) >= 1
    assert lockouts(app) == [{"reason": "too_many_failures", "kind": "console", "key": "address"}]


@pytest.fixture
def hooks(db_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv("OVERTURE_SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("OVERTURE_MEETINGBAAS_API_KEY", "mb-key")
    app = hooks_app(db_url, clock)
    connect(app, "slack", "T111", user=None)
    yield app
    app.close()


def test_bad_webhook_signatures_are_throttled(hooks: App) -> None:
    """Forged Slack signatures and MeetingBaaS keys from one address: 401 up to the limit, then
    429, per sender; a genuine Slack request from elsewhere still goes through."""
    body = form(BLOCK_ACTIONS)
    forged = signed(hooks, body, secret="not-the-secret")
    with callers(hooks) as call:
        slack = [
            call().request("POST", "/slack/interactions", content=body, headers=forged) for _ in range(25)
        ]
        mb = [
            call().request(
                "POST", "/webhooks/meetingbaas", content=b"{}", headers={"x-meeting-baas-api-key": "x"}
            )
            for _ in range(21)
        ]
        genuine = call("198.51.100.9").request(
            "POST", "/slack/interactions", content=body, headers=signed(hooks, body)
        )
    assert tally(slack) == {"tries": 25, "accepted": 0, "401": 20, "429": 5, "5xx": 0}
    assert tally(mb) == {"tries": 21, "accepted": 0, "401": 20, "429": 1, "5xx": 0}
    assert genuine.status_code == 200
    assert sorted(d["kind"] for d in lockouts(hooks)) == ["webhook:meetingbaas", "webhook:slack"]
