"""MeetingBaaS webhooks taken: authenticate, find the account, store the transcript once and
ingest ``meeting_ended`` before answering, so MeetingBaaS's retry of a failure is the only retry.

A finished meeting whose account Overture does not know (no callback secret of ours, nothing in
``extra`` we can route) is not refused: it is kept as an ``unrouted`` receipt with its transcript
and answered 202, and ``replay`` turns it into exactly one ``meeting_ended`` once the account
exists. An unrouted receipt never blocks a later delivery of the same meeting (see
``receipts``). The transcript is read here and stored; it is never logged, and the event only
refers to it by id. ``extra.calendar_event_id`` (put there by the bot the sales pack schedules)
links the meeting to its stored calendar event, whose attendees resolve the participants.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from overture.app import App
from overture.core.webhooks import Outcome, Provider, meeting_route, secret_hash
from overture.errors import RateLimited, ValidationFailed
from overture.http.webhooks.config import WebhookSecrets
from overture.http.webhooks.receipts import Draft, Receipts, Taken
from overture.ids import new_id
from overture.integrations import meetingbaas as mb_api
from overture.integrations.apis import ApiError, WebhookRejected, header, unauthenticated
from overture.integrations.safe_fetch import FetchRefused, SafeFetch
from overture.storage.queries import integrations as store
from overture.storage.queries.integrations import Account

log = logging.getLogger("overture.webhooks")
UNROUTED = "meetingbaas_unrouted"
_KEPT = ("api_version", "bot_id", "meetingbaas_event_id", "speakers", "participants", "duration_s", "extra")


def route_text(extra: Mapping[str, Any]) -> str:
    route = meeting_route(extra)
    if route is None:
        return "its extra names no account"
    if route.account is not None:
        return f"its extra names account {route.account!r}"
    return f"its extra names org {route.org_id!r} and user {route.user_id!r}"


class MeetingBaasIntake:
    """The MeetingBaaS receiver's service (``replay`` turns what it kept unrouted into events)."""

    def __init__(self, app: App, receipts: Receipts | None = None, fetcher: SafeFetch | None = None) -> None:
        self.app = app
        self.receipts = receipts or Receipts(app)
        settings = app.settings
        policy = mb_api.transcript_policy(
            settings.meetingbaas_transcript_hosts, settings.fetch_allowed_networks
        )
        self.fetcher = fetcher or SafeFetch(policy)

    def take(self, body: bytes, headers: Mapping[str, str]) -> Taken:
        """A bot's webhook: ``meeting_ended`` for a finished meeting with a transcript, kept
        unrouted if it is nobody's yet; any other event (failure, status, calendar news)
        recorded and not run."""
        now = self.app.clock.now()
        account = self._authenticate(body, headers, now)
        parsed = mb_api.parse_webhook(body)
        account = account or self.routed(parsed.extra)
        if isinstance(parsed, mb_api.MeetingNotice):
            parts = [p for p in (parsed.event, parsed.code, parsed.message) if p]
            detail = f"bot {parsed.bot_id or '-'}: {' — '.join(parts)}"
            draft = Draft(
                Provider.MEETINGBAAS, parsed.dedupe_key, Outcome.RECORDED, parsed.kind.value, detail
            )
            draft.account = account
            return self.receipts.record(draft)
        draft = Draft(Provider.MEETINGBAAS, parsed.dedupe_key, Outcome.PROCESSED, "ingested", account=account)
        if not parsed.has_transcript:
            draft.outcome, draft.reason = Outcome.RECORDED, "no_transcript"
            draft.detail = f"bot {parsed.bot_id} finished without a transcript (speech_to_text was off)"
            return self.receipts.record(draft)
        routed = account is not None and account.user_id is not None
        if not routed:
            draft.outcome, draft.reason = Outcome.UNROUTED, "unrouted"
        if self.receipts.seen(Provider.MEETINGBAAS, parsed.dedupe_key, draft.outcome) is not None:
            return self.receipts.record(draft)
        transcript = parsed.transcript or self._fetch_transcript(parsed)
        if not transcript.segments:
            draft.outcome, draft.reason = Outcome.RECORDED, "no_transcript"
            draft.detail = f"bot {parsed.bot_id} finished with an empty transcript"
            return self.receipts.record(draft)
        if not routed:
            return self._keep(draft, parsed, transcript)
        assert account is not None
        try:
            return self._meeting_ended(draft, account, parsed, transcript)
        except ValidationFailed as exc:
            draft.outcome, draft.reason, draft.detail = Outcome.REJECTED, "invalid_event", str(exc)
            return self.receipts.record(draft)

    def _authenticate(self, body: bytes, headers: Mapping[str, str], now: datetime) -> Account | None:
        """Authenticate; a per-bot callback secret also says whose bot it is."""
        given = header(headers, "x-mb-secret")
        if header(headers, "svix-signature") is None and given is not None:
            with self.app.store.read() as conn:
                account = store.find_by_secret_hash(conn, Provider.MEETINGBAAS.value, secret_hash(given))
            if account is None:
                raise unauthenticated("bad_secret", "x-mb-secret is the callback secret of no account")
            return account
        mb_api.verify_webhook(body, headers, WebhookSecrets.load(self.app.settings).meetingbaas(), now)
        return None

    def routed(self, extra: Mapping[str, Any]) -> Account | None:
        route = meeting_route(extra)
        if route is None:
            return None
        with self.app.store.read() as conn:
            if route.account is not None:
                return store.find_account(conn, Provider.MEETINGBAAS.value, route.account)
            return store.find_for_user(
                conn, Provider.MEETINGBAAS.value, route.org_id or "", route.user_id or ""
            )

    def _fetch_transcript(self, meeting: mb_api.MeetingCompleted) -> mb_api.Transcript:
        """Download a v2 transcript through the guarded client (the link is pre-signed: no
        credential goes with it). A link it refuses is a 422, so the sender does not send it
        again; a fetch that failed is a 503, to be sent again."""
        try:
            return mb_api.fetch_transcript(self.fetcher, str(meeting.transcript_url))
        except FetchRefused as exc:
            log.warning("bot %s: transcript link refused (%s)", meeting.bot_id, exc.reason)
            raise WebhookRejected(422, "transcript_refused", f"data.transcription: {exc.detail}") from None
        except (ApiError, RateLimited, ValueError) as exc:
            log.warning("bot %s: transcript not fetched (%s)", meeting.bot_id, type(exc).__name__)
            raise WebhookRejected(
                503, "transcript_unavailable", "the transcript artifact could not be fetched; send it again"
            ) from None

    def _keep(self, draft: Draft, meeting: mb_api.MeetingCompleted, transcript: mb_api.Transcript) -> Taken:
        """Record the meeting unrouted, with what a replay needs (the transcript, which a v2
        link would not give again after four hours)."""
        draft.work = {
            "kind": UNROUTED,
            "meeting": meeting.model_dump(mode="json", include=set(_KEPT)),
            "segments": [s.model_dump() for s in transcript.segments],
        }
        draft.detail = (
            f"bot {meeting.bot_id}: no MeetingBaaS account matches its secret or its extra "
            f"({route_text(meeting.extra)}); kept with its transcript "
            f"({len(transcript.segments)} segments). Add the account "
            "(`overture integrations add meetingbaas ...`), then `overture integrations replay` this receipt."
        )
        log.info("bot %s: unrouted, kept for replay", meeting.bot_id)
        return self.receipts.record(draft)

    def store_meeting(
        self,
        conn: sa.Connection,
        account: Account,
        meeting: mb_api.MeetingCompleted,
        transcript: mb_api.Transcript,
        now: datetime,
    ) -> tuple[str, list[dict[str, Any]]]:
        """The meeting, its transcript (once) and the event, in the caller's transaction."""
        assert account.user_id is not None
        ref = meeting.calendar_event_ref
        calendar = store.calendar_event_of(conn, account.org_id, ref) if ref else None
        calendar_event_id = str(calendar["id"]) if calendar else None
        external_id = f"meetingbaas:{meeting.bot_id}"[:200]
        row = store.find_meeting(conn, account.org_id, external_id)
        meeting_id = str(row["id"]) if row else new_id()
        if row is None:
            seconds = meeting.duration_s or transcript.duration_s
            title = meeting.extra.get("meeting_title") or (calendar or {}).get("title")
            store.insert_meeting(
                conn,
                {
                    "id": meeting_id,
                    "org_id": account.org_id,
                    "owner_id": account.user_id,
                    "calendar_event_id": calendar_event_id,
                    "external_id": external_id,
                    "title": (title if isinstance(title, str) and title else "Recorded meeting")[:300],
                    "kind": "video_call",
                    "starts_at": now - timedelta(seconds=seconds),
                    "ends_at": now,
                    "status": "completed",
                    "created_at": now,
                },
            )
        transcript_id = store.transcript_of(conn, meeting_id)
        if transcript_id is None:
            transcript_id = new_id()
            store.insert_transcript(
                conn,
                {
                    "id": transcript_id,
                    "org_id": account.org_id,
                    "meeting_id": meeting_id,
                    "source": f"meetingbaas:{meeting.api_version}",
                    "segments": [s.model_dump() for s in transcript.segments],
                    "created_at": now,
                },
            )
        event = meeting.event(transcript_id, calendar_event_id)
        event = event.model_copy(update={"payload": {**event.payload, "meeting_id": meeting_id}})
        refs = self.receipts.ingest(conn, [event], account.org_id, account.user_id, now)
        linked = f", calendar event {calendar_event_id}" if calendar_event_id else ""
        detail = (
            f"meeting {meeting_id}, transcript {transcript_id} ({len(transcript.segments)} segments){linked}"
        )
        return detail, refs

    def _meeting_ended(
        self,
        draft: Draft,
        account: Account,
        meeting: mb_api.MeetingCompleted,
        transcript: mb_api.Transcript,
    ) -> Taken:
        """One transaction: the receipt, the meeting, its transcript (once), the event."""
        now = self.app.clock.now()
        with self.app.store.write() as conn:
            taken = self.receipts.take(conn, draft, now)
            if taken.duplicate:
                return taken
            detail, refs = self.store_meeting(conn, account, meeting, transcript, now)
            self.receipts.finish(conn, taken.receipt.id, Outcome.PROCESSED, "ingested", detail, now, refs)
        self.app.store.notify_work()
        return Taken(dataclasses.replace(taken.receipt, events=refs, detail=detail, finished_at=now))
