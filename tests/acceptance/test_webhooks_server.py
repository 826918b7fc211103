"""The webhook receivers over real HTTP: uvicorn serving create_app on 127.0.0.1, the senders' APIs
played by loopback fakes. Answers come before the slow work, which is awaited by polling."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import ActionStatus
from overture.storage.queries import approvals as actionq
from tests.acceptance.test_http_server import served, wait_for
from tests.integration.test_webhooks_accounts import (
    connect,
    hooks_app,
    jobs_of,
    receipts,
    snapshot,
)
from tests.integration.test_webhooks_google import EXISTS_HEADERS, FakeCalendar
from tests.integration.test_webhooks_slack import SECRET, click, signed
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen
from tests.unit.test_integrations_gmail import ACCOUNT, AUDIENCE, CERT_PEM, KID, PUSH, FakeGmail
from tests.unit.test_integrations_gmail import token as push_token
from tests.unit.test_integrations_graph import MESSAGE_CREATED, STATE, SUB, FakeGraph
from tests.unit.test_integrations_meetingbaas import SECRET_WORDS, V1_COMPLETE

API_KEY = "mb-api-key-wire"


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


class Gate:
    """Holds a fake's answers until released, to show the receiver answered first."""

    def __init__(self, handler: Callable[[Seen], Reply]) -> None:
        self.handler = handler
        self.open = threading.Event()
        self.waiting = threading.Event()

    def __call__(self, request: Seen) -> Reply:
        self.waiting.set()
        self.open.wait(20)
        return self.handler(request)


@pytest.fixture
def senders(hooks: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Every sender configured, with fakes for Google's certs, Gmail, Calendar and Graph."""
    certs_body = {KID: CERT_PEM}
    graph_gate = Gate(FakeGraph())
    with (
        FakeApi(lambda _r: Reply(body=certs_body, headers={"Cache-Control": "max-age=3600"})) as certs,
        FakeApi(FakeGmail()) as gmail,
        FakeApi(FakeCalendar()) as calendar,
        FakeApi(graph_gate) as graph,
    ):
        for name, value in {
            "MEETINGBAAS_API_KEY": API_KEY,
            "SLACK_SIGNING_SECRET": SECRET,
            "GMAIL_PUSH_AUDIENCE": AUDIENCE,
            "GMAIL_PUSH_SERVICE_ACCOUNT": ACCOUNT,
            "GMAIL_CERTS_URL": f"{certs.url}/oauth2/v1/certs",
        }.items():
            monkeypatch.setenv(f"OVERTURE_{name}", value)
        connect(hooks, "meetingbaas", "ana-recorder")
        connect(hooks, "gmail", "ana@acme.test", base_url=f"{gmail.url}/gmail/v1", state={"history_id": "5"})
        connect(
            hooks,
            "google_calendar",
            EXISTS_HEADERS["X-Goog-Channel-ID"],
            secret=EXISTS_HEADERS["X-Goog-Channel-Token"],
            base_url=f"{calendar.url}/calendar/v3",
            state={"sync_token": "tok-1"},
        )
        connect(hooks, "graph", SUB, secret=STATE, base_url=f"{graph.url}/v1.0")
        connect(hooks, "slack", "T111", user=None)
        yield {"graph_gate": graph_gate}
        graph_gate.open.set()


def twice(http: httpx.Client, url: str, **kwargs: Any) -> tuple[httpx.Response, httpx.Response]:
    """A request and the sender's retry of it."""
    return http.post(url, **kwargs), http.post(url, **kwargs)


def test_each_webhook_becomes_its_job_once(hooks: App, senders: dict[str, Any]) -> None:
    """Over the wire, each sender's webhook (sent twice, as senders retry) gives one job: meeting_ended
    referring to its transcript by id, email_received, calendar_event_created, email_received from Graph."""
    meeting = copy.deepcopy(V1_COMPLETE)
    meeting["data"]["extra"] = {"overture_account": "ana-recorder"}
    with served(hooks) as base, httpx.Client(base_url=base, timeout=10) as http:
        first, retry = twice(
            http,
            "/webhooks/meetingbaas",
            content=json.dumps(meeting),
            headers={"x-meeting-baas-api-key": API_KEY},
        )
        assert (first.status_code, first.json()["status"]) == (200, "processed")
        assert (
            retry.json()["status"] == "duplicate" and retry.json()["receipt_id"] == first.json()["receipt_id"]
        )

        first, retry = twice(
            http,
            "/webhooks/gmail",
            content=json.dumps(PUSH),
            headers={"Authorization": f"Bearer {push_token()}"},
        )
        assert first.status_code == retry.status_code == 200 and retry.json()["status"] == "duplicate"

        first, retry = twice(http, "/webhooks/google-calendar", headers=EXISTS_HEADERS)
        assert first.status_code == retry.status_code == 200 and retry.json()["status"] == "duplicate"

        senders["graph_gate"].open.set()
        first, retry = twice(
            http, "/webhooks/microsoft-graph", content=json.dumps({"value": [MESSAGE_CREATED]})
        )
        assert first.status_code == retry.status_code == 202
        assert [a["status"] for a in retry.json()] == ["duplicate"]

        wait_for(lambda: len(jobs_of(hooks, "email_received")) == 3, "the mail jobs")
        wait_for(lambda: jobs_of(hooks, "calendar_event_created"), "the calendar job")
    [ended] = jobs_of(hooks, "meeting_ended")
    assert ended.trigger_payload["transcript_id"] and SECRET_WORDS not in json.dumps(ended.context)
    assert len(jobs_of(hooks, "calendar_event_created")) == 1
    assert sorted(j.trigger_payload["provider"] for j in jobs_of(hooks, "email_received")) == [
        "gmail",
        "gmail",
        "graph",
    ]
    hooks.run_until_idle()
    assert {j.status.value for j in jobs_of(hooks, "meeting_ended")} == {"completed"}


def test_graph_is_answered_before_the_change_is_fetched(hooks: App, senders: dict[str, Any]) -> None:
    """The validation handshake is echoed as text/plain; a notification gets its 202 while Graph
    is still being asked for the message, and the job follows."""
    gate: Gate = senders["graph_gate"]
    with served(hooks) as base, httpx.Client(base_url=base, timeout=10) as http:
        handshake = http.post("/webhooks/microsoft-graph", params={"validationToken": "Validation: ping"})
        assert handshake.status_code == 200 and handshake.text == "Validation: ping"
        assert handshake.headers["content-type"].startswith("text/plain")
        answer = http.post("/webhooks/microsoft-graph", content=json.dumps({"value": [MESSAGE_CREATED]}))
        assert answer.status_code == 202 and answer.json()[0]["status"] == "accepted"
        assert gate.waiting.wait(10) and jobs_of(hooks, "email_received") == []
        gate.open.set()
        wait_for(lambda: jobs_of(hooks, "email_received"), "the Graph message's job")
    assert receipts(hooks, "graph")[0].outcome == "processed"


def test_slack_signed_by_the_sdk_decides_and_forgeries_change_nothing(
    hooks: App, senders: dict[str, Any]
) -> None:
    """A click signed with the SDK's tool is acked and approves; forged, stale and unsigned
    copies get 401 and leave everything as it was."""
    hooks.emit({"type": "gated", "org_id": "acme", "user_id": "ana"})
    hooks.run_until_idle()
    with hooks.store.read() as conn:
        [action] = actionq.list_actions(conn, "acme")
    body = click("approve", action.id)
    with served(hooks) as base, httpx.Client(base_url=base, timeout=10) as http:
        before = snapshot(hooks)
        unsigned = {k: v for k, v in signed(hooks, body).items() if k != "X-Slack-Signature"}
        for headers in (signed(hooks, body, secret="forged"), signed(hooks, body, skew_s=-400), unsigned):
            refused = http.post("/slack/interactions", content=body, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/problem+json"
        assert snapshot(hooks) == before
        answer = http.post("/slack/interactions", content=body, headers=signed(hooks, body))
        assert answer.status_code == 200 and answer.json()["text"] == "Approved: Send to dana"

        def decided() -> bool:
            with hooks.store.read() as conn:
                fresh = actionq.get_action(conn, action.id)
            return fresh is not None and fresh.status == ActionStatus.APPROVED

        wait_for(decided, "the Slack decision")
    with hooks.store.read() as conn:
        fresh = actionq.get_action(conn, action.id)
    assert fresh is not None and (fresh.decided_by, fresh.decided_via) == ("ana", "slack")
