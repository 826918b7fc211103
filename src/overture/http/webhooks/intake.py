"""Taking a webhook: authenticate it, find whose it is, record the receipt (MeetingBaaS's,
which stores the transcript and ingests ``meeting_ended`` before answering, in ``meetingbaas``).

Every method either returns what was recorded or raises ``WebhookRejected`` having written
nothing: a request that does not prove where it comes from changes nothing. Once it does, each
outcome (taken, recorded only, refused, a sender's retry) is a receipt with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa

from overture.app import App
from overture.core.webhooks import Outcome, Provider, calendar_id_from_uri
from overture.core.webhooks import secret_matches as matches
from overture.http.webhooks.config import WebhookSecrets
from overture.http.webhooks.meetingbaas import MeetingBaasIntake
from overture.http.webhooks.receipts import Draft, Receipts, Taken
from overture.http.webhooks.slack import SlackDecisions
from overture.http.webhooks.work import WebhookWork
from overture.integrations import gmail as gmail_api
from overture.integrations import google_calendar as calendar_api
from overture.integrations import graph as graph_api
from overture.integrations import safe_json
from overture.integrations.apis import WebhookRejected, unauthenticated
from overture.integrations.safe_fetch import SafeFetch
from overture.storage.queries import integrations as store
from overture.storage.queries.integrations import Account

log = logging.getLogger("overture.webhooks")


class Intake:
    """The receivers' service: one per HTTP service, kept on its state."""

    def __init__(self, app: App, fetcher: SafeFetch | None = None) -> None:
        self.app = app
        self.receipts = Receipts(app)
        self.work = WebhookWork(app)
        self.slack = SlackDecisions(app, self.work)
        self.mb = MeetingBaasIntake(app, self.receipts, fetcher)
        # Certificates are cached for the max-age Google gives; no connection is kept open.
        self._certs = gmail_api.HttpxRequest(
            httpx.Client(timeout=10.0, limits=httpx.Limits(max_keepalive_connections=0))
        )

    def secrets(self) -> WebhookSecrets:
        return WebhookSecrets.load(self.app.settings)

    # -- MeetingBaaS --------------------------------------------------------------------------

    def meetingbaas(self, body: bytes, headers: Mapping[str, str]) -> Taken:
        """A bot's webhook (see ``MeetingBaasIntake.take``)."""
        return self.mb.take(body, headers)

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
            doc = safe_json.loads(body)
        except ValueError:  # the parser says why, after
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
