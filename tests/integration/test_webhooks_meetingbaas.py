"""POST /webhooks/meetingbaas in process on both backends: a finished meeting's transcript is stored
once and `meeting_ended` refers to it by id; notices are recorded; forgeries change nothing."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.storage.tables.crm import meetings, transcripts
from overture.storage.tables.orchestrator import events
from tests.fake_storage import receiver, tls_storage, trusting_fetcher
from tests.integration.test_http_api import Client, in_process, is_problem
from tests.integration.test_validate_once import count_event_checks
from tests.integration.test_webhooks_accounts import (
    connect,
    hooks_app,
    jobs_of,
    receipts,
    rows,
    snapshot,
)
from tests.unit.test_integrations_apis import Reply
from tests.unit.test_integrations_meetingbaas import ARTIFACT, SECRET_WORDS, V1_COMPLETE, V2_COMPLETED

API_KEY = "mb-api-key-123"
CALLBACK_SECRET = "cb-secret-456"
SVIX_SECRET = "whsec_" + base64.b64encode(b"svix-test-secret-bytes").decode()
URL = "/webhooks/meetingbaas"


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


def v1(**extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(V1_COMPLETE)
    doc["data"]["extra"] = {"overture_account": "ana-recorder", **extra}
    return doc


def v2(transcription_url: str, **extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(V2_COMPLETED)
    doc["data"]["transcription"] = transcription_url
    doc["data"]["extra"] = extra
    return doc


def raw(doc: Any) -> bytes:
    return json.dumps(doc).encode()


KEYED = {"x-meeting-baas-api-key": API_KEY, "content-type": "application/json"}


@pytest.fixture
def api(hooks: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("OVERTURE_MEETINGBAAS_API_KEY", API_KEY)
    monkeypatch.setenv("OVERTURE_MEETINGBAAS_SVIX_SECRET", SVIX_SECRET)
    connect(hooks, "meetingbaas", "ana-recorder", secret=CALLBACK_SECRET)
    with in_process(hooks) as client:
        yield client


def svix_headers(
    app: App, body: bytes, msg_id: str = "msg_2Lh9", secret: str = SVIX_SECRET
) -> dict[str, str]:
    stamp = str(int(app.clock.now().timestamp()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    return {"svix-id": msg_id, "svix-timestamp": stamp, "svix-signature": f"v1,{signature.decode()}"}


def test_meeting_ended_stores_the_transcript_once_and_refers_to_it(hooks: App, api: Client) -> None:
    """A v1 `complete` with our API key: one meeting, one transcript, a job whose payload has the
    transcript id and never its words."""
    response = api.post(URL, content=raw(v1()), headers=KEYED)
    assert response.status_code == 200, response.text
    ack = response.json()
    assert (ack["status"], ack["reason"]) == ("processed", "ingested")
    [ref] = ack["events"]
    assert (ref["type"], ref["status"]) == ("meeting_ended", "accepted")
    with hooks.store.read() as conn:
        [transcript] = conn.execute(sa.select(transcripts)).mappings().all()
        [meeting] = conn.execute(sa.select(meetings)).mappings().all()
        [payload] = conn.execute(sa.select(events.c.payload)).scalars().all()
    assert transcript["meeting_id"] == meeting["id"] and meeting["owner_id"] == "ana"
    assert [s["speaker"] for s in transcript["segments"]] == ["John Doe", "Jane Smith"]
    assert transcript["segments"][0]["text"] == SECRET_WORDS
    assert payload["transcript_id"] == transcript["id"] and payload["meeting_id"] == meeting["id"]
    hooks.run_until_idle()
    [job] = jobs_of(hooks, "meeting_ended")
    assert job.id == ref["job_id"] and job.status.value == "completed"
    assert job.trigger_payload["transcript_id"] == transcript["id"]
    stored = json.dumps([job.context, job.trigger_payload, job.execution_metadata, payload])
    assert SECRET_WORDS not in stored and "We'll" not in stored


def test_a_redelivery_is_a_duplicate_with_one_job(hooks: App, api: Client) -> None:
    """The same webhook twice: the second answer names the first receipt; one job, one transcript."""
    first = api.post(URL, content=raw(v1()), headers=KEYED).json()
    again = api.post(URL, content=raw(v1()), headers=KEYED)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate" and again.json()["receipt_id"] == first["receipt_id"]
    assert again.json()["events"] == first["events"]
    assert len(jobs_of(hooks, "meeting_ended")) == 1 and rows(hooks, transcripts) == 1
    taken = receipts(hooks, "meetingbaas")
    assert [(r.outcome, r.duplicate_of) for r in taken] == [
        ("processed", None),
        ("duplicate", first["receipt_id"]),
    ]


def test_v2_callback_fetches_the_artifact_without_our_credentials(hooks: App, api: Client) -> None:
    """`bot.completed` with the callback secret: the account is the secret's, the transcript is
    downloaded from its pre-signed link with no credential, and v1 for the same bot is a duplicate."""
    with tls_storage(lambda _r: Reply(body=ARTIFACT)) as storage, receiver(hooks, trusting_fetcher()) as mb:
        doc = v2(f"{storage.url}/bucket/transcription.json?X-Amz-Signature=x")
        response = mb.post(URL, content=raw(doc), headers={"x-mb-secret": CALLBACK_SECRET})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "processed"
        [seen] = storage.seen
    assert seen.path == "/bucket/transcription.json"
    assert not {"x-mb-secret", "x-meeting-baas-api-key", "authorization"} & set(seen.headers)
    with hooks.store.read() as conn:
        [segments] = conn.execute(sa.select(transcripts.c.segments)).scalars().all()
    assert segments[0]["text"] == "Can you send the proposal by Friday?"
    [job] = jobs_of(hooks, "meeting_ended")
    assert job.user_id == "ana" and job.trigger_payload["bot_id"] == V2_COMPLETED["data"]["bot_id"]


def test_an_unreachable_artifact_is_a_503_to_retry_and_changes_nothing(hooks: App, api: Client) -> None:
    """MeetingBaaS retries 5xx: nothing is recorded, and the retry that can fetch it succeeds."""
    replies = [Reply(status=500, body={"error": "busy"}), Reply(body=ARTIFACT)]
    with tls_storage(lambda _r: replies.pop(0)) as storage, receiver(hooks, trusting_fetcher()) as mb:
        doc = raw(v2(f"{storage.url}/t.json", overture_account="ana-recorder"))
        before = snapshot(hooks)
        is_problem(mb.post(URL, content=doc, headers=KEYED), 503)
        assert snapshot(hooks) == before and rows(hooks, transcripts) == 0
        assert mb.post(URL, content=doc, headers=KEYED).json()["status"] == "processed"
    assert len(jobs_of(hooks, "meeting_ended")) == 1


def test_svix_signed_webhooks_are_accepted(hooks: App, api: Client) -> None:
    """An account webhook signed the Svix way, routed by org and user in `extra`."""
    doc = v1()
    doc["data"]["extra"] = {"org_id": "acme", "user_id": "ana"}
    body = raw(doc)
    response = api.post(URL, content=body, headers=svix_headers(hooks, body))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "processed"


NOTICES = [
    ("failed", {"error": "CannotJoinMeeting", "message": "waiting room"}, "failed"),
    ("bot.failed", {"error_code": "BOT_NOT_ACCEPTED", "error_message": "denied"}, "failed"),
    (
        "bot.status_change",
        {"status": {"code": "in_call_recording", "created_at": "2026-11-20T11:00Z"}},
        "status",
    ),
    ("calendar.sync_events", {"calendar_id": "c1"}, "calendar"),
    ("bot.something_new", {}, "other"),
]


def test_failures_and_status_events_are_recorded_not_run(hooks: App, api: Client) -> None:
    """Each notice is a `recorded` receipt with its reason and detail; no event, no job."""
    for n, (event, data, reason) in enumerate(NOTICES):
        bot = f"bot-{n}"
        extra = {"overture_account": "ana-recorder"}
        doc = {"event": event, "data": {"bot_id": bot, **data, "extra": extra}}
        response = api.post(URL, content=raw(doc), headers=KEYED)
        assert response.status_code == 200 and response.json()["status"] == "recorded", event
        receipt = receipts(hooks, "meetingbaas")[-1]
        assert (receipt.outcome, receipt.reason, receipt.org_id) == ("recorded", reason, "acme")
        assert bot in receipt.detail
    assert rows(hooks, events) == 0


def test_unroutable_and_transcript_less_meetings_are_recorded(hooks: App, api: Client) -> None:
    """Authentic but nobody's: kept unrouted (202) to be replayed; no transcript: recorded.
    Neither runs anything."""
    nobody = v1()
    nobody["data"]["extra"] = {"customer": "x"}
    response = api.post(URL, content=raw(nobody), headers=KEYED)
    answer = response.json()
    assert response.status_code == 202
    assert (answer["status"], answer["reason"]) == ("unrouted", "unrouted")
    silent = v1()
    silent["data"]["bot_id"] = "bot-silent"
    del silent["data"]["transcript"]
    answer = api.post(URL, content=raw(silent), headers=KEYED).json()
    assert (answer["status"], answer["reason"]) == ("recorded", "no_transcript")
    empty = v1()
    empty["data"]["bot_id"] = "bot-empty"
    empty["data"]["transcript"] = [{"speaker": "A", "words": []}]
    answer = api.post(URL, content=raw(empty), headers=KEYED).json()
    assert (answer["status"], answer["reason"]) == ("recorded", "no_transcript")
    assert rows(hooks, events) == 0 and rows(hooks, meetings) == 0


FORGED = [
    {},
    {"x-meeting-baas-api-key": "wrong-key"},
    {"x-spoke-api-key": "wrong-key"},
    {"x-mb-secret": "wrong-secret"},
    {"svix-id": "msg_1", "svix-timestamp": "1", "svix-signature": "v1,AAAA"},
    {"svix-id": "msg_1", "svix-timestamp": "{now}", "svix-signature": "v1,AAAA"},
]


def test_forged_and_unsigned_webhooks_are_401_and_change_nothing(hooks: App, api: Client) -> None:
    """A wrong or missing credential, a stale or bad Svix signature: 401 problem, nothing written."""
    now = str(int(hooks.clock.now().timestamp()))
    before = snapshot(hooks)
    for headers in FORGED:
        filled = {k: v.format(now=now) for k, v in headers.items()}
        is_problem(api.post(URL, content=raw(v1()), headers=filled), 401)
    assert snapshot(hooks) == before


def test_stale_svix_signatures_are_refused(hooks: App, api: Client) -> None:
    """A correct Svix signature from more than five minutes ago is a replay: 401."""
    body = raw(v1())
    headers = svix_headers(hooks, body)
    hooks.clock.advance(301)  # type: ignore[attr-defined]
    before = snapshot(hooks)
    is_problem(api.post(URL, content=body, headers=headers), 401)
    assert snapshot(hooks) == before


def test_malformed_bodies_are_400_and_change_nothing(hooks: App, api: Client) -> None:
    """Authentic but unreadable: 400 problem, nothing written."""
    before = snapshot(hooks)
    for body in (b"{", b"[]", b'{"event": "complete"}', b'{"event": "complete", "data": {}}'):
        is_problem(api.post(URL, content=body, headers=KEYED), 400)
    assert snapshot(hooks) == before


def test_the_transcript_never_reaches_the_logs(
    hooks: App, api: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything logged while the webhook is taken and its job run is free of the words said."""
    caplog.set_level(logging.DEBUG)
    api.post(URL, content=raw(v1()), headers=KEYED)
    api.post(URL, content=raw(v1()), headers=KEYED)
    hooks.run_until_idle()
    assert SECRET_WORDS not in caplog.text and "We'll" not in caplog.text


def test_the_webhooks_event_is_validated_once(
    hooks: App, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `meeting_ended` a webhook makes is checked once, by the ingest of its receipt."""
    seen = count_event_checks(monkeypatch)
    response = api.post(URL, content=raw(v1()), headers=KEYED)
    assert response.status_code == 200, response.text
    assert [e["status"] for e in response.json()["events"]] == ["accepted"]
    assert seen == {"storable:event": 1, "model": 1}
