"""MeetingBaaS webhooks (v1 and v2): authentication, parsing, transcripts kept out of logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from overture.core.events import parse_event
from overture.integrations.apis import ApiError, WebhookRejected
from overture.integrations.meetingbaas import (
    Credential,
    MeetingBaasSecrets,
    MeetingCompleted,
    MeetingNotice,
    NoticeKind,
    fetch_transcript,
    parse_webhook,
    transcript_from_artifact,
    verify_svix,
    verify_webhook,
)
from tests.fake_storage import tls_storage, trusting_fetcher
from tests.unit.test_integrations_apis import Reply, Seen

NOW = datetime(2025, 11, 21, 10, 0, tzinfo=UTC)
SECRET_WORDS = "Hello everyone"

# v1 `complete`, as on the webhook reference page.
V1_COMPLETE: dict[str, Any] = {
    "event": "complete",
    "data": {
        "bot_id": "123e4567-e89b-12d3-a456-426614174000",
        "event_uuid": "123e4567-e89b-12d3-a456-426614174001",
        "transcript": [
            {
                "speaker": "John Doe",
                "offset": 1.5,
                "start_time": 1.5,
                "end_time": 2.4,
                "words": [
                    {"start": 1.5, "end": 1.9, "word": "Hello"},
                    {"start": 2.0, "end": 2.4, "word": "everyone"},
                ],
            },
            {
                "speaker": "Jane Smith",
                "words": [
                    {"start": 3.1, "end": 3.5, "word": "We'll"},
                    {"start": 3.6, "end": 4.2, "word": "send"},
                ],
            },
        ],
        "speakers": ["John Doe", "Jane Smith"],
        "mp4": "https://storage.example.com/recordings/video123.mp4?token=abc",
        "audio": "https://storage.example.com/recordings/audio123.wav?token=abc",
        "event": "complete",
        "extra": {"org_id": "acme", "user_id": "ana"},
    },
}

# v2 `bot.completed`: artifacts are links, not inline.
V2_COMPLETED: dict[str, Any] = {
    "event": "bot.completed",
    "data": {
        "bot_id": "9b1c2d3e-0000-4000-8000-000000000001",
        "event_id": "789e0123-e45b-67c8-d901-234567890abc",
        "transcription": "https://s3.amazonaws.com/bucket/transcription.json?X-Amz-Signature=x",
        "mp4": "https://s3.amazonaws.com/bucket/video.mp4?X-Amz-Signature=x",
        "audio": "https://s3.amazonaws.com/bucket/audio.mp3?X-Amz-Signature=x",
        "diarization": "https://s3.amazonaws.com/bucket/diarization.jsonl?X-Amz-Signature=x",
        "chat_messages": None,
        "duration_seconds": 3600,
        "participants": [{"name": "Sam Buyer", "id": 1}, {"name": "Ana Rep", "id": 2, "display_name": "Ana"}],
        "speakers": ["Sam Buyer", "Ana Rep"],
        "transcription_ids": ["tr_1"],
        "extra": {"customer_id": "12345"},
    },
}

# The v2 transcription artifact's JSON.
ARTIFACT: dict[str, Any] = {
    "bot_id": "9b1c2d3e-0000-4000-8000-000000000001",
    "provider": "gladia",
    "result": {
        "utterances": [
            {
                "text": "Can you send the proposal by Friday?",
                "language": "en",
                "start": 12.5,
                "end": 15.0,
                "confidence": 0.93,
                "channel": 0,
                "speaker": 0,
                "words": [{"word": "Can", "start": 12.5, "end": 12.7, "confidence": 0.99}],
            },
            {"text": "Yes, I will.", "start": 15.2, "end": 16.0, "speaker": "Ana Rep", "words": []},
        ],
        "languages": ["en"],
        "total_utterances": 2,
        "total_duration": 16.0,
    },
    "created_at": "2025-11-21T10:00:00Z",
}


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def test_v1_complete_becomes_a_meeting_with_its_transcript() -> None:
    """Speaker-attributed segments with times; the bot id and the calendar event id."""
    meeting = parse_webhook(body(V1_COMPLETE))
    assert isinstance(meeting, MeetingCompleted)
    assert (meeting.api_version, meeting.bot_id) == ("v1", "123e4567-e89b-12d3-a456-426614174000")
    assert meeting.meetingbaas_event_id == "123e4567-e89b-12d3-a456-426614174001"
    assert meeting.speakers == ("John Doe", "Jane Smith")
    assert meeting.transcript is not None and meeting.has_transcript
    first, second = meeting.transcript.segments
    assert (first.speaker, first.start_s, first.end_s, first.text) == ("John Doe", 1.5, 2.4, SECRET_WORDS)
    assert (second.speaker, second.start_s, second.end_s, second.text) == (
        "Jane Smith",
        3.1,
        4.2,
        "We'll send",
    )
    assert meeting.transcript.duration_s == 4.2
    assert meeting.transcript.text() == "John Doe: Hello everyone\nJane Smith: We'll send"
    assert meeting.dedupe_key == "meetingbaas:123e4567-e89b-12d3-a456-426614174000:completed"


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ({"speaker": "A", "text": " Hi there ", "start_time": 5, "end_time": 6}, ("A", 5.0, 6.0, "Hi there")),
        ({"speaker": "A", "offset": 7.0, "words": [{"word": "x", "end": 7.5}]}, ("A", 7.0, 7.5, "x")),
        ({"words": [{"word": "solo", "start": 1, "end": 2}]}, ("Unknown speaker", 1.0, 2.0, "solo")),
        ({"speaker": 3, "text": "t"}, ("Speaker 3", 0.0, 0.0, "t")),
        ({"speaker": "  ", "text": "t", "start_time": 4, "end_time": 1}, ("Unknown speaker", 4.0, 4.0, "t")),
    ],
)
def test_segment_shapes_are_read_defensively(segment: dict[str, Any], expected: tuple[Any, ...]) -> None:
    """The docs show words-only, timed and text shapes; each reads into one form."""
    doc = {"event": "complete", "data": {"bot_id": "b1", "transcript": [segment]}}
    meeting = parse_webhook(body(doc))
    assert isinstance(meeting, MeetingCompleted) and meeting.transcript is not None
    (only,) = meeting.transcript.segments
    assert (only.speaker, only.start_s, only.end_s, only.text) == expected


def test_empty_and_junk_segments_are_dropped() -> None:
    doc = {"event": "complete", "data": {"bot_id": "b1", "transcript": [{"words": []}, "junk", {"text": ""}]}}
    meeting = parse_webhook(body(doc))
    assert isinstance(meeting, MeetingCompleted) and meeting.transcript is not None
    assert meeting.transcript.segments == () and meeting.has_transcript


def test_v1_complete_without_speech_to_text_has_no_transcript() -> None:
    meeting = parse_webhook(body({"event": "complete", "data": {"bot_id": "b1", "mp4": "https://x"}}))
    assert isinstance(meeting, MeetingCompleted) and not meeting.has_transcript


def test_v2_completed_points_at_the_transcription_artifact() -> None:
    """v2 delivers links; the transcript is fetched from ``transcript_url``."""
    meeting = parse_webhook(body(V2_COMPLETED))
    assert isinstance(meeting, MeetingCompleted)
    assert (meeting.api_version, meeting.bot_id) == ("v2", "9b1c2d3e-0000-4000-8000-000000000001")
    assert meeting.meetingbaas_event_id == "789e0123-e45b-67c8-d901-234567890abc"
    assert meeting.transcript is None and meeting.has_transcript
    assert meeting.transcript_url == V2_COMPLETED["data"]["transcription"]
    assert meeting.participants == ("Sam Buyer", "Ana Rep")
    assert meeting.duration_s == 3600.0
    assert meeting.extra == {"customer_id": "12345"}


def test_meeting_ended_event_references_the_transcript_and_never_contains_it() -> None:
    """The event carries the stored transcript's id and the bot id, valid for the engine."""
    meeting = parse_webhook(body(V1_COMPLETE))
    assert isinstance(meeting, MeetingCompleted)
    draft = meeting.event("tr_42")
    assert (draft.type, draft.source, draft.idempotency_key) == (
        "meeting_ended",
        "webhook:meetingbaas",
        meeting.dedupe_key,
    )
    assert draft.payload["transcript_id"] == "tr_42"
    assert draft.payload["extra"] == {"org_id": "acme", "user_id": "ana"}
    wire = json.dumps(draft.for_user("acme", "ana"))
    assert "Hello" not in wire and "everyone" not in wire and "token=abc" not in wire
    event = parse_event(draft.for_user("acme", "ana"), NOW)
    assert event.payload["bot_id"] == meeting.bot_id


def test_participants_are_everyone_named_once() -> None:
    """v1 names only speakers; v2 names participants (``name``, else ``display_name``) and
    speakers; each person once, whatever the case. Our calendar event is passed in, checked."""
    v1 = parse_webhook(body(V1_COMPLETE))
    assert isinstance(v1, MeetingCompleted) and v1.participants == ("John Doe", "Jane Smith")
    doc = json.loads(body(V2_COMPLETED))
    doc["data"]["participants"] += [{"display_name": "Kim"}, {"name": "sam buyer"}, {"id": 9}]
    doc["data"]["speakers"] = [{"name": "Ana Rep"}, "Lou"]
    doc["data"]["extra"] = {"calendar_event_id": "ce-1"}
    v2 = parse_webhook(body(doc))
    assert isinstance(v2, MeetingCompleted)
    assert v2.participants == ("Sam Buyer", "Ana Rep", "Kim", "Lou")
    assert v2.calendar_event_ref == "ce-1"
    payload = v2.event("tr_1", "ce-1").payload
    assert (payload["calendar_event_id"], payload["meetingbaas_event_id"]) == (
        "ce-1",
        doc["data"]["event_id"],
    )
    assert payload["participants"] == ["Sam Buyer", "Ana Rep", "Kim", "Lou"]
    assert v2.event("tr_1").payload["calendar_event_id"] is None


def test_v1_and_v2_deliveries_of_one_meeting_share_a_dedupe_key() -> None:
    """A Svix webhook and a per-bot callback for the same bot start one job."""
    webhook = parse_webhook(body(V2_COMPLETED))
    callback = parse_webhook(body(V2_COMPLETED))
    assert webhook.dedupe_key == callback.dedupe_key


def test_transcript_text_stays_out_of_reprs_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Reprs (which end up in tracebacks and logs) show counts and speakers, never words."""
    caplog.set_level(logging.DEBUG)
    meeting = parse_webhook(body(V1_COMPLETE))
    assert isinstance(meeting, MeetingCompleted) and meeting.transcript is not None
    shown = repr(meeting) + str(meeting) + repr(meeting.transcript) + repr(meeting.transcript.segments[0])
    logging.getLogger("test").info("parsed %r", meeting)
    assert "Hello" not in shown and "everyone" not in shown and "token=abc" not in shown
    assert "segments=2" in repr(meeting.transcript)
    assert "Hello" not in caplog.text and "everyone" not in caplog.text


@pytest.mark.parametrize(
    ("doc", "kind", "code", "message"),
    [
        (
            {
                "event": "failed",
                "data": {"bot_id": "b1", "error": "meeting_not_found", "message": "Could not join"},
            },
            NoticeKind.FAILED,
            "meeting_not_found",
            "Could not join",
        ),
        (
            {
                "event": "bot.failed",
                "data": {
                    "bot_id": "b1",
                    "event_id": "e1",
                    "error_code": "BOT_NOT_ACCEPTED",
                    "error_message": "Bot was not accepted into the meeting",
                    "extra": {"customer_id": "12345"},
                },
            },
            NoticeKind.FAILED,
            "BOT_NOT_ACCEPTED",
            "Bot was not accepted into the meeting",
        ),
        (
            {
                "event": "bot.status_change",
                "data": {
                    "bot_id": "b1",
                    "event_id": "e1",
                    "status": {
                        "code": "in_call_recording",
                        "created_at": "2025-01-15T10:30:00Z",
                        "start_time": 1,
                    },
                },
            },
            NoticeKind.STATUS,
            "in_call_recording",
            None,
        ),
        (
            {
                "event": "bot.status_change",
                "data": {
                    "bot_id": "b1",
                    "status": {
                        "code": "meeting_error",
                        "created_at": "2025-01-15T10:31:00Z",
                        "error_message": "x",
                    },
                },
            },
            NoticeKind.STATUS,
            "meeting_error",
            "x",
        ),
        ({"event": "transcription_complete", "data": {"bot_id": "b1"}}, NoticeKind.TRANSCRIPTION, None, None),
        (
            {"event": "calendar.sync_events", "data": {"calendar_id": "c1", "affected_event_uuids": []}},
            NoticeKind.CALENDAR,
            None,
            None,
        ),
        ({"event": "bot.chat_message", "data": {"bot_id": "b1"}}, NoticeKind.OTHER, None, None),
    ],
)
def test_failures_and_status_events_are_recorded_not_run(
    doc: dict[str, Any], kind: NoticeKind, code: str | None, message: str | None
) -> None:
    """Everything but a completed meeting is a notice: record it, answer 200, run nothing."""
    notice = parse_webhook(body(doc))
    assert isinstance(notice, MeetingNotice)
    assert (notice.kind, notice.event, notice.code, notice.message) == (kind, doc["event"], code, message)


def test_status_notices_dedupe_per_status_and_moment() -> None:
    """A redelivered status change is a duplicate; the next status is not."""

    def status(code: str, at: str) -> str:
        doc = {
            "event": "bot.status_change",
            "data": {"bot_id": "b1", "status": {"code": code, "created_at": at}},
        }
        return parse_webhook(body(doc)).dedupe_key

    assert status("joining_call", "2025-01-15T10:30:00Z") == status("joining_call", "2025-01-15T10:30:00Z")
    assert status("joining_call", "2025-01-15T10:30:00Z") != status(
        "in_call_recording", "2025-01-15T10:31:00Z"
    )
    assert status("joining_call", "t") == "meetingbaas:b1:bot.status_change:joining_call:t"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "malformed_body"),
        (b"\xff", "malformed_body"),
        (b"[]", "missing_event"),
        (b'{"data": {}}', "missing_event"),
        (b'{"event": 3, "data": {}}', "missing_event"),
        (b'{"event": "complete"}', "missing_data"),
        (b'{"event": "complete", "data": []}', "missing_data"),
        (b'{"event": "complete", "data": {"transcript": []}}', "missing_bot_id"),
        (b'{"event": "bot.completed", "data": {"bot_id": ""}}', "missing_bot_id"),
    ],
)
def test_malformed_webhooks_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_webhook(raw)
    assert (caught.value.status, caught.value.reason) == (400, reason)


# Svix's published test vector (from Svix's own library tests).
SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SVIX_BODY = b'{"test": 2432232314}'
SVIX_HEADERS = {
    "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "svix-timestamp": "1614265330",
    "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
SVIX_NOW = datetime.fromtimestamp(1614265330, UTC)


def svix_sign(raw: bytes, msg_id: str, ts: int, secret: str = SVIX_SECRET) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + raw, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_svix_published_vector_verifies() -> None:
    verify_svix(SVIX_BODY, SVIX_HEADERS, SVIX_SECRET, SVIX_NOW)
    verify_svix(SVIX_BODY, SVIX_HEADERS, SVIX_SECRET.removeprefix("whsec_"), SVIX_NOW)


def test_svix_accepts_any_matching_entry_among_several() -> None:
    """Secret rotation: Svix sends one signature per active secret, space-separated."""
    headers = {**SVIX_HEADERS, "svix-signature": "v1,bm9wZQ== v2,xyz " + SVIX_HEADERS["svix-signature"]}
    verify_svix(SVIX_BODY, headers, SVIX_SECRET, SVIX_NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"svix-id": None}, "missing_signature"),
        ({"svix-timestamp": None}, "missing_signature"),
        ({"svix-timestamp": "soon"}, "malformed_timestamp"),
        ({"now": SVIX_NOW + timedelta(seconds=301)}, "stale_timestamp"),
        ({"now": SVIX_NOW - timedelta(seconds=301)}, "stale_timestamp"),
        ({"svix-id": "msg_other"}, "bad_signature"),
        ({"body": b'{"test": 2432232315}'}, "bad_signature"),
        ({"svix-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}, "bad_signature"),
        ({"secret": "whsec_" + base64.b64encode(b"another key").decode()}, "bad_signature"),
    ],
)
def test_svix_refuses_forged_and_stale_messages(change: dict[str, Any], reason: str) -> None:
    headers = {k: v for k, v in {**SVIX_HEADERS, **change}.items() if k.startswith("svix") and v is not None}
    with pytest.raises(WebhookRejected) as caught:
        verify_svix(
            change.get("body", SVIX_BODY),
            headers,
            change.get("secret", SVIX_SECRET),
            change.get("now", SVIX_NOW),
        )
    assert (caught.value.status, caught.value.reason) == (401, reason)


SECRETS = MeetingBaasSecrets(api_key="mb-key-123", callback_secret="cb-secret", svix_secret=SVIX_SECRET)


@pytest.mark.parametrize(
    ("headers", "credential"),
    [
        ({"x-meeting-baas-api-key": "mb-key-123"}, Credential.API_KEY),
        ({"X-Meeting-Baas-Api-Key": "mb-key-123"}, Credential.API_KEY),
        ({"x-spoke-api-key": "mb-key-123"}, Credential.API_KEY),
        ({"x-mb-secret": "cb-secret"}, Credential.CALLBACK_SECRET),
    ],
)
def test_each_mechanism_authenticates(headers: dict[str, str], credential: Credential) -> None:
    assert verify_webhook(body(V1_COMPLETE), headers, SECRETS, NOW) == credential


def test_svix_signed_webhooks_authenticate() -> None:
    raw = body(V2_COMPLETED)
    ts = int(NOW.timestamp())
    headers = {"svix-id": "msg_1", "svix-timestamp": str(ts), "svix-signature": svix_sign(raw, "msg_1", ts)}
    assert verify_webhook(raw, headers, SECRETS, NOW) == Credential.SVIX


@pytest.mark.parametrize(
    ("headers", "secrets", "reason"),
    [
        ({}, SECRETS, "missing_credentials"),
        ({"x-meeting-baas-api-key": "guess"}, SECRETS, "bad_api_key"),
        ({"x-meeting-baas-api-key": ""}, SECRETS, "bad_api_key"),
        ({"x-meeting-baas-api-key": "mb-key-123"}, MeetingBaasSecrets(callback_secret="cb"), "bad_api_key"),
        ({"x-mb-secret": "guess"}, SECRETS, "bad_secret"),
        ({"x-mb-secret": "cb-secret"}, MeetingBaasSecrets(api_key="k"), "bad_secret"),
        ({"svix-signature": "v1,x"}, MeetingBaasSecrets(api_key="k"), "not_configured"),
        ({"svix-id": "m", "svix-timestamp": "1", "svix-signature": "v1,x"}, SECRETS, "stale_timestamp"),
        ({"x-meeting-baas-api-key": "mb-key-123é"}, SECRETS, "bad_api_key"),
    ],
)
def test_forged_webhooks_are_refused(
    headers: dict[str, str], secrets: MeetingBaasSecrets, reason: str
) -> None:
    """Wrong, missing or unconfigured credentials are 401s with a reason."""
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(body(V1_COMPLETE), headers, secrets, NOW)
    assert (caught.value.status, caught.value.reason) == (401, reason)


def test_secrets_are_checked_at_construction_and_never_shown() -> None:
    with pytest.raises(ValueError, match="Svix secret"):
        MeetingBaasSecrets(svix_secret="whsec_not base64!")
    assert "mb-key-123" not in repr(SECRETS) and "cb-secret" not in repr(SECRETS)


def test_v2_transcript_artifact_is_fetched_without_our_credentials() -> None:
    """The pre-signed URL is fetched by a client without auth; utterances become segments."""

    def storage(request: Seen) -> Reply:
        return Reply(body=ARTIFACT) if request.path == "/bucket/transcription.json" else Reply(404)

    with tls_storage(storage) as api:
        transcript = fetch_transcript(
            trusting_fetcher(), f"{api.url}/bucket/transcription.json?X-Amz-Signature=x"
        )
        seen = api.seen[0]
    assert "authorization" not in seen.headers and "x-meeting-baas-api-key" not in seen.headers
    assert seen.query == {"X-Amz-Signature": ["x"]}
    assert [(s.speaker, s.start_s, s.end_s) for s in transcript.segments] == [
        ("Speaker 0", 12.5, 15.0),
        ("Ana Rep", 15.2, 16.0),
    ]
    assert transcript.segments[1].text == "Yes, I will."


def test_an_expired_artifact_link_is_an_api_error() -> None:
    """S3 answers 403 once the 4 hours are over; the caller asks MeetingBaaS to resend."""
    with (
        tls_storage(lambda _r: Reply(403, b"<Error>AccessDenied</Error>")) as api,
        pytest.raises(ApiError) as caught,
    ):
        fetch_transcript(trusting_fetcher(), f"{api.url}/bucket/transcription.json")
    assert caught.value.status == 403


@pytest.mark.parametrize("doc", [{}, {"result": None}, {"result": {"utterances": "x"}}, []])
def test_artifacts_without_utterances_are_refused(doc: Any) -> None:
    with pytest.raises(ValueError, match="utterances"):
        transcript_from_artifact(doc)


@pytest.mark.parametrize("field", ["api_key", "callback_secret", "svix_secret"])
def test_an_empty_secret_is_a_configuration_error(field: str) -> None:
    """An empty secret would match an empty header; it is refused at start-up."""
    with pytest.raises(ValueError, match="empty"):
        MeetingBaasSecrets(**{field: ""})
