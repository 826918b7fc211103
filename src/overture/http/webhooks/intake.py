"""Taking a webhook: authenticate it, find whose it is, record the receipt; then, for MeetingBaaS,
store the transcript and ingest ``meeting_ended`` before answering.

Every method either returns what was recorded or raises ``WebhookRejected`` having written
nothing: a request that does not prove where it comes from changes nothing. Once it does, each
outcome (taken, recorded only, refused, a sender's retry) is a receipt with its reason.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from overture.app import App
from overture.core.webhooks import Outcome, Provider, calendar_id_from_uri, meeting_route, secret_hash
from overture.core.webhooks import secret_matches as matches
from overture.errors import ValidationFailed
from overture.http.webhooks.config import WebhookSecrets
from overture.http.webhooks.receipts import Draft, Receipts, Taken
from overture.http.webhooks.slack import SlackDecisions
from overture.http.webhooks.work import WebhookWork
from overture.ids import new_id
from overture.integrations import gmail as gmail_api
from overture.integrations import google_calendar as calendar_api
from overture.integrations import graph as graph_api
from overture.integrations import meetingbaas as mb_api
from overture.integrations.apis import DEFAULT_TIMEOUT, ApiError, WebhookRejected, header, unauthenticated
from overture.storage.queries import integrations as store
from overture.storage.queries.integrations import Account

log = logging.getLogger("overture.webhooks")


class Intake:
    """The receivers' service: one per HTTP service, kept on its state."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.receipts = Receipts(app)
        self.work = WebhookWork(app)
        self.slack = SlackDecisions(app, self.work)
        # Certificates are cached for the max-age Google gives; no connection is kept open.
        self._certs = gmail_api.HttpxRequest(
            httpx.Client(timeout=10.0, limits=httpx.Limits(max_keepalive_connections=0))
        )

    def secrets(self) -> WebhookSecrets:
        return WebhookSecrets.load(self.app.settings)

    # -- MeetingBaaS --------------------------------------------------------------------------

    def meetingbaas(self, body: bytes, headers: Mapping[str, str]) -> Taken:
        """A bot's webhook: ``meeting_ended`` for a finished meeting with a transcript; any
        other event (failure, status, calendar news) recorded and not run."""
        now = self.app.clock.now()
        account = self._meetingbaas_account(body, headers, now)
        parsed = mb_api.parse_webhook(body)
        account = account or self._routed(parsed.extra)
        if isinstance(parsed, mb_api.MeetingNotice):
            parts = [p for p in (parsed.event, parsed.code, parsed.message) if p]
            detail = f"bot {parsed.bot_id or '-'}: {' — '.join(parts)}"
            draft = Draft(
                Provider.MEETINGBAAS, parsed.dedupe_key, Outcome.RECORDED, parsed.kind.value, detail
            )
            draft.account = account
            return self.receipts.record(draft)
        draft = Draft(Provider.MEETINGBAAS, parsed.dedupe_key, Outcome.PROCESSED, "ingested", account=account)
        if account is None or account.user_id is None:
            draft.outcome, draft.reason = Outcome.REJECTED, "unknown_account"
            draft.detail = f"bot {parsed.bot_id}: no MeetingBaaS account matches its secret or its extra"
            return self.receipts.record(draft)
        if not parsed.has_transcript:
            draft.outcome, draft.reason = Outcome.RECORDED, "no_transcript"
            draft.detail = f"bot {parsed.bot_id} finished without a transcript (speech_to_text was off)"
            return self.receipts.record(draft)
        if self.receipts.seen(Provider.MEETINGBAAS, parsed.dedupe_key) is not None:
            return self.receipts.record(draft)
        transcript = parsed.transcript or self._fetch_transcript(parsed)
        if not transcript.segments:
            draft.outcome, draft.reason = Outcome.RECORDED, "no_transcript"
            draft.detail = f"bot {parsed.bot_id} finished with an empty transcript"
            return self.receipts.record(draft)
        try:
            return self._meeting_ended(draft, account, parsed, transcript)
        except ValidationFailed as exc:
            draft.outcome, draft.reason, draft.detail = Outcome.REJECTED, "invalid_event", str(exc)
            return self.receipts.record(draft)

    def _meetingbaas_account(self, body: bytes, headers: Mapping[str, str], now: datetime) -> Account | None:
        """Authenticate; a per-bot callback secret also says whose bot it is."""
        given = header(headers, "x-mb-secret")
        if header(headers, "svix-signature") is None and given is not None:
            with self.app.store.read() as conn:
                account = store.find_by_secret_hash(conn, Provider.MEETINGBAAS.value, secret_hash(given))
            if account is None:
                raise unauthenticated("bad_secret", "x-mb-secret is the callback secret of no account")
            return account
        mb_api.verify_webhook(body, headers, self.secrets().meetingbaas(), now)
        return None

    def _routed(self, extra: Mapping[str, Any]) -> Account | None:
        route = meeting_route(extra)
        if route is None:
            return None
        with self.app.store.read() as conn:
            if route.account is not None:
                return store.find_account(conn, Provider.MEETINGBAAS.value, route.account)
            return store.find_for_user(
                conn, Provider.MEETINGBAAS.value, route.org_id or "", route.user_id or ""
            )

    @staticmethod
    def _fetch_transcript(meeting: mb_api.MeetingCompleted) -> mb_api.Transcript:
        """Download a v2 transcript. The link is pre-signed: no credential goes with it."""
        try:
            with httpx.Client(timeout=DEFAULT_TIMEOUT) as http:
                return mb_api.fetch_transcript(http, str(meeting.transcript_url))
        except (ApiError, ValueError) as exc:
            log.warning("bot %s: transcript not fetched (%s)", meeting.bot_id, type(exc).__name__)
            raise WebhookRejected(
                503, "transcript_unavailable", "the transcript artifact could not be fetched; send it again"
            ) from None

    def _meeting_ended(
        self,
        draft: Draft,
        account: Account,
        meeting: mb_api.MeetingCompleted,
        transcript: mb_api.Transcript,
    ) -> Taken:
        """One transaction: the receipt, the meeting, its transcript (once), the event."""
        now = self.app.clock.now()
        assert account.user_id is not None
        with self.app.store.write() as conn:
            taken = self.receipts.take(conn, draft, now)
            if taken.duplicate:
                return taken
            external_id = f"meetingbaas:{meeting.bot_id}"[:200]
            row = store.find_meeting(conn, account.org_id, external_id)
            meeting_id = str(row["id"]) if row else new_id()
            if row is None:
                seconds = meeting.duration_s or transcript.duration_s
                title = meeting.extra.get("meeting_title")
                store.insert_meeting(
                    conn,
                    {
                        "id": meeting_id,
                        "org_id": account.org_id,
                        "owner_id": account.user_id,
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
            event = meeting.event(transcript_id)
            event = event.model_copy(update={"payload": {**event.payload, "meeting_id": meeting_id}})
            refs = self.receipts.ingest(conn, [event], account.org_id, account.user_id, now)
            detail = f"meeting {meeting_id}, transcript {transcript_id} ({len(transcript.segments)} segments)"
            self.receipts.finish(conn, taken.receipt.id, Outcome.PROCESSED, "ingested", detail, now, refs)
        self.app.store.notify_work()
        return Taken(dataclasses.replace(taken.receipt, events=refs, detail=detail, finished_at=now))

    # -- Google Calendar ----------------------------------------------------------------------

    def calendar(self, headers: Mapping[str, str]) -> Taken:
        """A push: the ``sync`` handshake is recorded; a change is fetched after the answer."""
        note = calendar_api.parse_notification(headers)
        with self.app.store.read() as conn:
            account = store.find_account(conn, Provider.GOOGLE_CALENDAR.value, note.channel_id)
        if note.channel_token is None:
            raise unauthenticated("missing_token", "the X-Goog-Channel-Token header is missing")
        if account is None or not matches(note.channel_token, account.secret_hash):
            raise unauthenticated("bad_token", "X-Goog-Channel-Token is not the token of a channel we watch")
        watched = account.state.get("resource_id")
        if not note.is_sync and watched and watched != note.resource_id:
            raise unauthenticated(
                "wrong_resource", "X-Goog-Resource-ID is not the resource this channel watches"
            )
        key = f"{note.channel_id}:{note.message_number}"
        draft = Draft(Provider.GOOGLE_CALENDAR, key, Outcome.ACCEPTED, note.resource_state, account=account)
        if note.is_sync:
            draft.outcome, draft.reason = Outcome.RECORDED, "sync_handshake"
            draft.detail = f"channel {note.channel_id} is watching resource {note.resource_id}"
        else:
            calendar_id = calendar_id_from_uri(note.resource_uri) or account.state.get("calendar_id")
            draft.work = {"kind": "calendar_sync", "calendar_id": calendar_id, "message": note.message_number}
        now = self.app.clock.now()
        with self.app.store.write() as conn:
            taken = self.receipts.take(conn, draft, now)
            fresh = store.get_account(conn, account.id)
            if note.is_sync and not taken.duplicate and fresh is not None:
                expires = note.channel_expiration.isoformat() if note.channel_expiration else None
                state = {**fresh.state, "resource_id": note.resource_id, "channel_expires": expires}
                store.update_state(conn, account.id, state, now)
        return taken

    # -- Gmail --------------------------------------------------------------------------------

    def gmail(self, body: bytes, authorization: str | None) -> Taken:
        """A Pub/Sub push: acknowledged once recorded; the mailbox's history read afterwards."""
        auth = self.secrets().gmail_push_auth()
        if auth is not None:
            if not auth.service_account:
                raise unauthenticated("not_configured", "no push service account is configured")
            gmail_api.verify_push_token(authorization, auth, self._certs)
        push = gmail_api.parse_push(body)
        with self.app.store.read() as conn:
            account = store.find_account(conn, Provider.GMAIL.value, push.email_address.lower())
        draft = Draft(Provider.GMAIL, push.dedupe_key, Outcome.ACCEPTED, "changed", account=account)
        if account is None:
            if auth is None:
                raise WebhookRejected(404, "unknown_mailbox", "no Gmail account watches this mailbox")
            draft.outcome, draft.reason = Outcome.REJECTED, "unknown_mailbox"
            draft.detail = f"no account for {push.email_address}; acknowledged so Pub/Sub stops sending it"
        draft.work = {"kind": "gmail_sync", "history_id": push.history_id}
        return self.receipts.record(draft)

    # -- Microsoft Graph ----------------------------------------------------------------------

    def graph(self, body: bytes) -> list[Taken]:
        """A notification collection: each item whose clientState matches its subscription's
        is recorded; changes are fetched after the answer, lifecycle events handled."""
        expected = self._graph_client_states(body)
        batch = graph_api.parse_notifications(body, {k: v for k, (v, _) in expected.items()})
        now = self.app.clock.now()
        taken = []
        with self.app.store.write() as conn:
            for item in batch.changes:
                account = expected[item.subscription_id][1]
                work = {
                    "kind": "graph_change",
                    "resource": item.resource,
                    "resource_kind": item.resource_kind.value,
                    "resource_id": item.resource_id,
                    "change_type": item.change_type,
                }
                reason = item.change_type or "changed"
                draft = Draft(Provider.GRAPH, item.dedupe_key, Outcome.ACCEPTED, reason, account=account)
                draft.work = work
                taken.append(self.receipts.take(conn, draft, now))
            for item in batch.lifecycle:
                taken.append(self._lifecycle(conn, item, expected[item.subscription_id][1], now))
        return taken

    def _graph_client_states(self, body: bytes) -> dict[str, tuple[str, Account]]:
        """The clientState each subscription's items carry, for the subscriptions whose stored
        hash it matches (the others' items are discarded by the parser)."""
        try:
            doc = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        items = doc.get("value") if isinstance(doc, dict) else None
        items = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        ids = [i["subscriptionId"] for i in items if isinstance(i.get("subscriptionId"), str)]
        with self.app.store.read() as conn:
            accounts = store.accounts_by_external_ids(conn, Provider.GRAPH.value, ids)
        found: dict[str, tuple[str, Account]] = {}
        for item in items:
            account = accounts.get(str(item.get("subscriptionId")))
            given = item.get("clientState")
            if account and isinstance(given, str) and matches(given, account.secret_hash):
                found[account.external_id] = (given, account)
        return found

    def _lifecycle(
        self, conn: sa.Connection, item: graph_api.ChangeNotification, account: Account, now: datetime
    ) -> Taken:
        event = str(item.lifecycle_event)
        draft = Draft(Provider.GRAPH, item.dedupe_key, Outcome.RECORDED, event, account=account)
        state: dict[str, Any] | None = None
        if item.lifecycle_event == graph_api.Lifecycle.REAUTHORIZATION_REQUIRED:
            draft.outcome, draft.work = Outcome.ACCEPTED, {"kind": "graph_reauthorize"}
        elif item.lifecycle_event == graph_api.Lifecycle.SUBSCRIPTION_REMOVED:
            draft.detail = "the subscription is gone: create a new one, then resync"
            state = {"removed_at": now.isoformat()}
        elif item.lifecycle_event == graph_api.Lifecycle.MISSED:
            draft.detail = "Graph missed notifications: resync this mailbox or calendar"
            state = {"missed_at": now.isoformat()}
        else:
            draft.detail = f"lifecycle event {event} is not one we act on"
        taken = self.receipts.take(conn, draft, now)
        if state is not None and not taken.duplicate:
            fresh = store.get_account(conn, account.id)
            store.update_state(conn, account.id, {**(fresh.state if fresh else {}), **state}, now)
        return taken
