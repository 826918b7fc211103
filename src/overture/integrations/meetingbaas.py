"""MeetingBaaS webhooks, API v1 and v2: who sent it, what it says.

Three ways to prove a request comes from MeetingBaaS, whichever the account uses: v1 sends our
own API key back in ``x-meeting-baas-api-key``; v2 per-bot callbacks send the callback secret
in ``x-mb-secret``; v2 account webhooks go through Svix and are HMAC-signed. A finished meeting
(v1 ``complete`` with the transcript inline, v2 ``bot.completed`` with a link to it) becomes a
``MeetingCompleted``; everything else (failures, status changes, calendar news) becomes a
``MeetingNotice``: recorded, never run. Transcript text is never put in a repr, a log line or
an event payload: it is stored once and referenced by id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from overture.integrations import safe_json
from overture.integrations.apis import EventDraft, header, malformed, obj, text, unauthenticated
from overture.integrations.safe_fetch import FetchPolicy, SafeFetch

SOURCE = "webhook:meetingbaas"
ARTIFACTS = "meetingbaas artifacts"
REPLAY_WINDOW_S = 300
_COMPLETED = {"complete", "bot.completed"}
_FAILED = {"failed", "bot.failed"}


class Credential(StrEnum):
    """Which of MeetingBaaS's mechanisms authenticated a request."""

    API_KEY = "api_key"
    CALLBACK_SECRET = "callback_secret"
    SVIX = "svix"


@dataclass(frozen=True, repr=False)
class MeetingBaasSecrets:
    """The secrets we accept; leave unset the mechanisms the account does not use."""

    api_key: str | None = None
    callback_secret: str | None = None
    svix_secret: str | None = None

    def __post_init__(self) -> None:
        if "" in (self.api_key, self.callback_secret, self.svix_secret):
            raise ValueError("a MeetingBaaS secret is set but empty; leave it unset instead")
        if self.svix_secret is not None:
            _svix_key(self.svix_secret)

    def __repr__(self) -> str:
        return "MeetingBaasSecrets(<redacted>)"


def _svix_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ValueError("the Svix secret must be 'whsec_' followed by base64") from None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def verify_svix(body: bytes, headers: Mapping[str, str], secret: str, now: datetime) -> None:
    """Svix's scheme: HMAC-SHA256 over ``{svix-id}.{svix-timestamp}.{body}`` with the decoded
    ``whsec_`` secret, base64, matched against any ``v1,<sig>`` entry; five-minute window."""
    msg_id, stamp, signatures = (header(headers, f"svix-{n}") for n in ("id", "timestamp", "signature"))
    if not (msg_id and stamp and signatures):
        raise unauthenticated("missing_signature", "svix-id, svix-timestamp and svix-signature are required")
    if not (stamp.isascii() and stamp.isdigit()):
        raise unauthenticated("malformed_timestamp", "svix-timestamp is not a whole number of seconds")
    skew = abs(now.timestamp() - int(stamp))
    if skew > REPLAY_WINDOW_S:
        raise unauthenticated(
            "stale_timestamp", f"svix-timestamp is {skew:.0f} s from now; at most {REPLAY_WINDOW_S} s"
        )
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(_svix_key(secret), signed, hashlib.sha256).digest()).decode()
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and _same(value, expected):
            return
    raise unauthenticated("bad_signature", "no svix-signature entry matches the body")


def verify_webhook(
    body: bytes, headers: Mapping[str, str], secrets: MeetingBaasSecrets, now: datetime
) -> Credential:
    """Authenticate a webhook by whichever mechanism its headers use, or raise
    ``WebhookRejected`` (401). A header for a mechanism we did not configure is refused."""
    if header(headers, "svix-signature") is not None:
        if secrets.svix_secret is None:
            raise unauthenticated("not_configured", "a Svix-signed webhook arrived but no Svix secret is set")
        verify_svix(body, headers, secrets.svix_secret, now)
        return Credential.SVIX
    callback = header(headers, "x-mb-secret")
    if callback is not None:
        if secrets.callback_secret is None or not _same(callback, secrets.callback_secret):
            raise unauthenticated("bad_secret", "x-mb-secret does not match the callback secret")
        return Credential.CALLBACK_SECRET
    key = header(headers, "x-meeting-baas-api-key")
    key = header(headers, "x-spoke-api-key") if key is None else key
    if key is not None:
        if secrets.api_key is None or not _same(key, secrets.api_key):
            raise unauthenticated("bad_api_key", "x-meeting-baas-api-key does not match our API key")
        return Credential.API_KEY
    raise unauthenticated("missing_credentials", "no MeetingBaaS signature, secret or API key header")


class Segment(BaseModel):
    """One speaker's turn; times are seconds from the start of the recording."""

    model_config = ConfigDict(frozen=True)

    speaker: str
    start_s: float
    end_s: float
    text: str = Field(repr=False)


class Transcript(BaseModel):
    """A speaker-attributed transcript, the same whichever API version delivered it."""

    model_config = ConfigDict(frozen=True)

    segments: tuple[Segment, ...] = Field(repr=False)

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [("segments", len(self.segments)), ("speakers", self.speakers)]

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.speaker for s in self.segments))

    @property
    def duration_s(self) -> float:
        return max((s.end_s for s in self.segments), default=0.0)

    def text(self) -> str:
        """``Speaker: words`` lines, the form the skills read."""
        return "\n".join(f"{s.speaker}: {s.text}" for s in self.segments)


def _number(*candidates: Any) -> float | None:
    for value in candidates:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _segment(raw: Any, fallback_speaker: str) -> Segment | None:
    """Read one segment defensively: the docs show words-only, timed and ``text`` shapes."""
    if not isinstance(raw, dict):
        return None
    words = [w for w in raw.get("words") or [] if isinstance(w, dict)]
    said = raw.get("text")
    if not isinstance(said, str) or not said.strip():
        said = " ".join(str(w.get("word", "")).strip() for w in words if w.get("word"))
    if not said.strip():
        return None
    first, last = (words[0], words[-1]) if words else ({}, {})
    start = _number(raw.get("start_time"), raw.get("start"), raw.get("offset"), first.get("start")) or 0.0
    end = _number(raw.get("end_time"), raw.get("end"), last.get("end")) or start
    speaker = raw.get("speaker")
    if isinstance(speaker, int) and not isinstance(speaker, bool):
        speaker = f"Speaker {speaker}"
    name = speaker.strip() if isinstance(speaker, str) and speaker.strip() else fallback_speaker
    return Segment(speaker=name, start_s=start, end_s=max(start, end), text=said.strip())


def transcript_from_segments(raw: Any) -> Transcript:
    """A v1 ``data.transcript`` list (or v2 ``utterances``) as a ``Transcript``."""
    items = raw if isinstance(raw, list) else []
    segments = (_segment(item, "Unknown speaker") for item in items)
    return Transcript(segments=tuple(s for s in segments if s is not None))


def transcript_from_artifact(data: Any) -> Transcript:
    """The v2 transcription artifact: ``{result: {utterances: [...]}}``."""
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("utterances"), list):
        raise ValueError("the transcription artifact has no result.utterances list")
    return transcript_from_segments(result["utterances"])


def transcript_policy(hosts: Sequence[str], allowed_networks: Sequence[str] = ()) -> FetchPolicy:
    """What a v2 transcript link may point at: https on MeetingBaaS's storage hosts."""
    return FetchPolicy(ARTIFACTS, tuple(hosts), tuple(allowed_networks))


def fetch_transcript(fetcher: SafeFetch, url: str) -> Transcript:
    """Download a v2 transcription artifact through the guarded client. ``url`` comes from the
    webhook body and is pre-signed (valid 4 hours): no credential of ours goes with it."""
    return transcript_from_artifact(fetcher.get_json(url))


class MeetingCompleted(BaseModel):
    """A recorded meeting: a ``meeting_ended`` event once its transcript is stored."""

    model_config = ConfigDict(frozen=True)

    api_version: str
    bot_id: str
    meetingbaas_event_id: str | None
    transcript: Transcript | None
    transcript_url: str | None = Field(repr=False)
    speakers: tuple[str, ...]
    participants: tuple[str, ...]
    duration_s: float | None
    extra: dict[str, Any] = Field(repr=False)

    @property
    def dedupe_key(self) -> str:
        """One per bot, so a v2 account webhook and a per-bot callback for the same meeting,
        or any redelivery of either, start one job."""
        return f"meetingbaas:{self.bot_id}:completed"

    @property
    def has_transcript(self) -> bool:
        """Whether there is a transcript to store: inline (v1) or as an artifact link (v2)."""
        return self.transcript is not None or self.transcript_url is not None

    @property
    def calendar_event_ref(self) -> str | None:
        """The calendar event our bot was sent for (``extra.calendar_event_id``), unchecked."""
        return text(self.extra.get("calendar_event_id"))

    def event(self, transcript_id: str | None, calendar_event_id: str | None = None) -> EventDraft:
        """The ``meeting_ended`` event, pointing at the stored transcript, never containing it.
        ``calendar_event_id`` is ours, once checked to be a stored event of the org; the
        vendor's own calendar event (MeetingBaaS's calendar sync) is ``meetingbaas_event_id``."""
        payload = {
            "bot_id": self.bot_id,
            "transcript_id": transcript_id,
            "calendar_event_id": calendar_event_id,
            "meetingbaas_event_id": self.meetingbaas_event_id,
            "speakers": list(self.speakers or (self.transcript.speakers if self.transcript else ())),
            "participants": list(self.participants),
            "duration_s": self.duration_s,
            "extra": self.extra,
        }
        return EventDraft(
            type="meeting_ended", source=SOURCE, payload=payload, idempotency_key=self.dedupe_key
        )


class NoticeKind(StrEnum):
    FAILED = "failed"
    STATUS = "status"
    TRANSCRIPTION = "transcription"
    CALENDAR = "calendar"
    OTHER = "other"


class MeetingNotice(BaseModel):
    """An event to record and answer, never to run a sequence for."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    event: str
    bot_id: str | None
    code: str | None
    message: str | None
    occurred_at: str | None
    extra: dict[str, Any] = Field(repr=False)

    @property
    def dedupe_key(self) -> str:
        parts = [self.bot_id or "-", self.event, self.code or "-", self.occurred_at or "-"]
        return "meetingbaas:" + ":".join(parts)


def _name(item: Any) -> str | None:
    """A name as MeetingBaaS lists people: a string (v1), or ``{name, display_name?}`` (v2)."""
    if isinstance(item, dict):
        item = text(item.get("name")) or text(item.get("display_name"))
    return item.strip() if isinstance(item, str) and item.strip() else None


def _names(*lists: Any) -> tuple[str, ...]:
    """The names in ``lists``, in order, each once (compared without case)."""
    seen: dict[str, str] = {}
    for raw in lists:
        for item in raw if isinstance(raw, list) else []:
            name = _name(item)
            if name is not None:
                seen.setdefault(name.casefold(), name)
    return tuple(seen.values())


def _completed(event: str, data: dict[str, Any], bot_id: str) -> MeetingCompleted:
    v2 = event == "bot.completed"
    inline = data.get("transcript")
    link = data.get("transcription")
    return MeetingCompleted(
        api_version="v2" if v2 else "v1",
        bot_id=bot_id,
        meetingbaas_event_id=text(data.get("event_id")) or text(data.get("event_uuid")),
        transcript=transcript_from_segments(inline) if isinstance(inline, list) else None,
        transcript_url=link if isinstance(link, str) and link else None,
        speakers=_names(data.get("speakers")),
        # Everyone MeetingBaaS names: v2's participants (who joined), then the speakers (v1 has
        # only those), for resolving who was on the call.
        participants=_names(data.get("participants"), data.get("speakers")),
        duration_s=_number(data.get("duration_seconds")),
        extra=obj(data.get("extra")),
    )


def parse_webhook(body: bytes) -> MeetingCompleted | MeetingNotice:
    """Read an (authenticated) webhook body, or raise ``WebhookRejected`` (400). Unknown event
    names become ``MeetingNotice(kind=OTHER)``: new vendor events are recorded, not refused."""
    try:
        doc = safe_json.loads(body)
    except ValueError as exc:
        raise malformed("malformed_body", safe_json.refusal(exc)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("event"), str):
        raise malformed("missing_event", "the body has no 'event' name")
    event = doc["event"]
    data = doc.get("data")
    if not isinstance(data, dict):
        raise malformed("missing_data", f"the {event!r} webhook has no 'data' object")
    bot_id = text(data.get("bot_id"))
    if event in _COMPLETED:
        if bot_id is None:
            raise malformed("missing_bot_id", f"the {event!r} webhook has no data.bot_id")
        return _completed(event, data, bot_id)
    status = obj(data.get("status"))
    if event in _FAILED:
        kind, code = NoticeKind.FAILED, text(data.get("error_code")) or text(data.get("error"))
        message = text(data.get("error_message")) or text(data.get("message"))
    elif event == "bot.status_change":
        kind, code = NoticeKind.STATUS, text(status.get("code"))
        message = text(status.get("error_message"))
    else:
        kind = NoticeKind.TRANSCRIPTION if event == "transcription_complete" else NoticeKind.OTHER
        kind = NoticeKind.CALENDAR if event.startswith("calendar.") else kind
        code, message = None, None
    return MeetingNotice(
        kind=kind,
        event=event,
        bot_id=bot_id,
        code=code,
        message=message,
        occurred_at=text(status.get("created_at")),
        extra=obj(data.get("extra")),
    )
