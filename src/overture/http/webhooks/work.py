"""The work a receiver leaves for after its answer: fetch what changed, store it, ingest events.

Google Calendar, Gmail and Microsoft Graph notifications only say that something changed; the
change is fetched through the API clients once the sender has its 2xx. The receipt was written
before the answer with ``work`` saying what to do, so a crash in between leaves an ``accepted``
receipt that :meth:`WebhookWork.resume` does again. Sync tokens and history ids advance in the
same transaction as the events they produced, so a failed fetch is simply fetched again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from overture.app import App
from overture.core.webhooks import Outcome, calendar_emits, external_event_id
from overture.errors import RateLimited, ValidationFailed
from overture.http.webhooks.config import account_client
from overture.http.webhooks.receipts import Receipts
from overture.ids import new_id
from overture.integrations import gmail, google_calendar, graph
from overture.integrations.apis import ApiError, EventDraft, check_response
from overture.integrations.google_calendar import Attendee, CalendarEvent
from overture.storage.queries import integrations as store
from overture.storage.queries import tenancy
from overture.storage.queries.integrations import Account, Receipt
from overture.storage.queries.recording import has_live_bot

log = logging.getLogger("overture.webhooks")


@dataclass(frozen=True)
class Done:
    """What a piece of work came to, for its receipt."""

    outcome: Outcome
    reason: str
    detail: str = ""


class WebhookWork:
    """Runs receipts' after-answer work, one account at a time within this process."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.receipts = Receipts(app)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._handlers: dict[str, Callable[[Receipt, Account], Done]] = {
            "calendar_sync": self._calendar_sync,
            "gmail_sync": self._gmail_sync,
            "graph_change": self._graph_change,
            "graph_reauthorize": self._graph_reauthorize,
        }

    def register(self, kind: str, handler: Callable[[Receipt, Account], Done]) -> None:
        """Add the handler for another kind of work (the Slack decision registers itself)."""
        self._handlers[kind] = handler

    @contextmanager
    def _locked(self, account_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(account_id, threading.Lock())
        with lock:
            yield

    def run(self, receipt_id: str) -> None:
        """Do one receipt's work. Never raises: whatever happens is written on the receipt."""
        with self.app.store.read() as conn:
            receipt = store.get_receipt(conn, receipt_id)
            account = store.get_account(conn, receipt.account_id) if receipt and receipt.account_id else None
        if receipt is None or receipt.work is None or Outcome(receipt.outcome).final:
            return
        handler = self._handlers.get(str(receipt.work.get("kind")))
        if handler is None or account is None:
            why = "unknown_work" if handler is None else "account_removed"
            return self._finish(receipt, Done(Outcome.REJECTED, why, f"cannot do {receipt.work.get('kind')}"))
        with self._locked(account.id):
            with self.app.store.read() as conn:  # as they are now that this account is ours
                fresh = store.get_receipt(conn, receipt.id)
                current = store.get_account(conn, account.id)
            if fresh is None or current is None or Outcome(fresh.outcome).final:
                return None
            receipt, account = fresh, current
            try:
                done = handler(receipt, account)
            except ValidationFailed as exc:
                done = Done(Outcome.REJECTED, "invalid_event", str(exc))
            except RateLimited as exc:
                done = Done(Outcome.FAILED, "rate_limited", str(exc))
            except ApiError as exc:
                done = Done(Outcome.FAILED if exc.retryable else Outcome.REJECTED, "api_error", str(exc))
            except Exception as exc:
                log.exception("webhook work for receipt %s failed", receipt.id)
                done = Done(Outcome.FAILED, "internal_error", type(exc).__name__)
        if done.outcome in (Outcome.FAILED, Outcome.REJECTED):
            log.warning("receipt %s: %s (%s)", receipt.id, done.reason, done.detail)
            self._finish(receipt, done)
        return None

    def resume(self, older_than_s: float = 60.0, limit: int = 100) -> int:
        """Do again the work of receipts left accepted (a crash after the answer) or failed."""
        before = self.app.clock.now() - timedelta(seconds=older_than_s)
        with self.app.store.read() as conn:
            pending = store.unfinished_receipts(conn, before, limit)
        for receipt in pending:
            self.run(receipt.id)
        return len(pending)

    def _finish(self, receipt: Receipt, done: Done) -> None:
        with self.app.store.write() as conn:
            self.receipts.finish(
                conn, receipt.id, done.outcome, done.reason, done.detail, self.app.clock.now()
            )

    def commit(
        self,
        receipt: Receipt,
        account: Account,
        done: Done,
        write: Callable[[sa.Connection, datetime], list[EventDraft]],
        state: dict[str, Any] | None = None,
    ) -> Done:
        """One transaction: the CRM writes, the events, the account's new state, the receipt."""
        now = self.app.clock.now()
        with self.app.store.write() as conn:
            drafts = write(conn, now)
            refs = []
            if drafts:
                assert account.user_id is not None
                refs = self.receipts.ingest(conn, drafts, account.org_id, account.user_id, now)
            if state is not None:
                fresh = store.get_account(conn, account.id)
                store.update_state(conn, account.id, {**(fresh.state if fresh else {}), **state}, now)
            detail = done.detail or f"{len(refs)} event(s)"
            self.receipts.finish(conn, receipt.id, done.outcome, done.reason, detail, now, refs)
        if refs:
            self.app.store.notify_work()
        return done

    # -- Google Calendar -------------------------------------------------------------------

    def _domains(self, account: Account) -> tuple[str, ...]:
        """The org's own domains: its profile's ``domains``, else its users' email domains."""
        with self.app.store.read() as conn:
            org = tenancy.get_org(conn, account.org_id)
            listed = org.profile.get("domains") if org else None
            if isinstance(listed, list) and listed:
                return tuple(str(d) for d in listed)
            people = tenancy.list_users(conn, account.org_id)
        return tuple(sorted({u.email.rpartition("@")[2].lower() for u in people if u.email}))

    def _calendar_sync(self, receipt: Receipt, account: Account) -> Done:
        work = receipt.work or {}
        calendar_id = str(work.get("calendar_id") or account.state.get("calendar_id") or "primary")
        token = account.state.get("sync_token")
        domains = self._domains(account)
        with account_client(account, google_calendar.DEFAULT_BASE_URL, google_calendar.SERVICE) as http:
            client = google_calendar.CalendarClient(http, org_domains=domains)
            since = token if isinstance(token, str) else None
            sync = client.changes(calendar_id, since, time_min=self.app.clock.now())
        done = Done(Outcome.PROCESSED, "resynced" if sync.reset else "synced")

        def write(conn: sa.Connection, now: datetime) -> list[EventDraft]:
            return [d for e in sync.events if (d := self._upsert_event(conn, account, e, now)) is not None]

        state = {"sync_token": sync.next_sync_token, "calendar_id": calendar_id}
        return self.commit(receipt, account, done, write, state)

    def _upsert_event(
        self, conn: sa.Connection, account: Account, event: CalendarEvent, now: datetime
    ) -> EventDraft | None:
        """Store the event in ``crm_calendar_events``; the draft to send if it is news."""
        assert account.user_id is not None
        external_id = external_event_id(event.provider, event.id)
        row = store.find_calendar_event(conn, account.user_id, external_id)
        if row is None and (event.cancelled or event.start is None):
            return None
        recorded = row is not None and event.cancelled and has_live_bot(conn, row["id"])
        emits = calendar_emits(
            row["starts_at"] if row else None,
            row["status"] if row else None,
            event.start,
            event.status,
            recorded,
        )
        values: dict[str, Any] = {"status": event.status[:16], "updated_at": event.updated or now}
        if not event.cancelled and event.start is not None:
            values |= {
                "title": (event.summary or "(no title)")[:300],
                "starts_at": event.start,
                "ends_at": event.end or event.start,
                "all_day": event.all_day,
                "location": event.meeting_url[:300] if event.meeting_url else None,
                "attendees": [a.model_dump(mode="json") for a in event.attendees],
            }
        row_id = row["id"] if row else new_id()
        if row is None:
            ids = {"id": row_id, "org_id": account.org_id, "user_id": account.user_id}
            store.insert_calendar_event(conn, {**ids, "external_id": external_id, **values})
        else:
            store.update_calendar_event(conn, row_id, values)
        if not emits:
            return None
        if event.cancelled and row is not None:  # sent only to take the bot back: say what it was
            event = cancelled_as_stored(event, row, now)
        draft = event.event()
        return draft.model_copy(update={"payload": {**draft.payload, "calendar_event_row_id": row_id}})

    # -- Gmail ------------------------------------------------------------------------------

    def _gmail_sync(self, receipt: Receipt, account: Account) -> Done:
        pushed = str((receipt.work or {}).get("history_id") or "")
        start = account.state.get("history_id")
        if not isinstance(start, str) or not start.isdigit():
            return self.commit(
                receipt,
                account,
                Done(Outcome.RECORDED, "baseline_set", f"history id {pushed} is the baseline from now on"),
                nothing,
                {"history_id": pushed},
            )
        try:
            with account_client(account, gmail.DEFAULT_BASE_URL, gmail.SERVICE) as http:
                changes = gmail.GmailClient(http, account.external_id).new_messages(start)
        except gmail.HistoryExpired:
            detail = f"history id {start} is too old for Gmail; the baseline is now {pushed}"
            done = Done(Outcome.RECORDED, "history_expired", detail)
            return self.commit(receipt, account, done, nothing, {"history_id": pushed})
        newest = max(int(changes.history_id), int(start))
        drafts = [m.event() for m in changes.messages]
        return self.commit(
            receipt,
            account,
            Done(Outcome.PROCESSED, "synced"),
            lambda _conn, _now: drafts,
            {"history_id": str(newest)},
        )

    # -- Microsoft Graph ------------------------------------------------------------------

    def _graph_change(self, receipt: Receipt, account: Account) -> Done:
        work = receipt.work or {}
        resource, kind = str(work.get("resource") or ""), work.get("resource_kind")
        resource_id = str(work.get("resource_id") or "")
        if kind not in (graph.ResourceKind.MESSAGE, graph.ResourceKind.EVENT):
            return self.commit(receipt, account, Done(Outcome.RECORDED, "not_handled", str(kind)), nothing)
        calendar_id = str(account.state.get("calendar_id") or "outlook")
        change = work.get("change_type")
        if kind == graph.ResourceKind.MESSAGE and change not in (None, "created"):
            detail = f"a message {change}: only new mail is sent on"
            return self.commit(receipt, account, Done(Outcome.RECORDED, f"message_{change}", detail), nothing)
        if change == "deleted":
            done = Done(Outcome.RECORDED, "deleted", f"{kind} {resource_id} was deleted")
            if not resource_id:
                return self.commit(receipt, account, done, nothing)
            gone = CalendarEvent(
                provider="graph", id=resource_id, calendar_id=calendar_id, status="cancelled"
            )
            return self.commit(receipt, account, done, self._storing(account, gone))
        with account_client(account, graph.DEFAULT_BASE_URL, graph.SERVICE) as http:
            client = graph.GraphClient(http, org_domains=self._domains(account))
            if kind == graph.ResourceKind.MESSAGE:
                mailbox = str(account.state.get("mailbox") or self._mailbox(account))
                message = client.message(resource, mailbox)
                event = None
            else:
                message, event = None, client.event(resource, calendar_id)
        if event is not None:
            return self.commit(
                receipt, account, Done(Outcome.PROCESSED, "fetched"), self._storing(account, event)
            )
        if message is not None:
            draft = message.event()
            return self.commit(receipt, account, Done(Outcome.PROCESSED, "fetched"), lambda _c, _n: [draft])
        return self.commit(
            receipt,
            account,
            Done(Outcome.RECORDED, "resource_gone", f"{kind} was gone when fetched"),
            nothing,
        )

    def _storing(
        self, account: Account, event: CalendarEvent
    ) -> Callable[[sa.Connection, datetime], list[EventDraft]]:
        def write(conn: sa.Connection, now: datetime) -> list[EventDraft]:
            draft = self._upsert_event(conn, account, event, now)
            return [draft] if draft is not None else []

        return write

    def _mailbox(self, account: Account) -> str:
        with self.app.store.read() as conn:
            user = tenancy.get_user(conn, account.user_id or "", account.org_id)
        return (user.email if user and user.email else None) or account.external_id

    def _graph_reauthorize(self, receipt: Receipt, account: Account) -> Done:
        """``reauthorizationRequired``: ask Graph to keep the subscription alive."""
        with account_client(account, graph.DEFAULT_BASE_URL, graph.SERVICE) as http:
            try:
                answer = http.post(f"/subscriptions/{account.external_id}/reauthorize")
            except httpx.HTTPError as exc:
                raise ApiError(graph.SERVICE, f"{type(exc).__name__}: {exc}") from exc
            check_response(answer, graph.SERVICE)
        done = Done(Outcome.PROCESSED, "reauthorized", f"subscription {account.external_id} reauthorized")
        return self.commit(receipt, account, done, nothing, {"reauthorized_at": self._iso()})

    def _iso(self) -> str:
        return self.app.clock.now().isoformat()


def nothing(_conn: sa.Connection, _now: datetime) -> list[EventDraft]:
    return []


def cancelled_as_stored(event: CalendarEvent, row: dict[str, Any], now: datetime) -> CalendarEvent:
    """A cancellation (Google sends little more than the id) with the times, guests and link of
    the event as stored, and a version of its own."""
    attendees = tuple(Attendee.model_validate(a) for a in row["attendees"] or [])
    return event.model_copy(
        update={
            "summary": event.summary or row["title"],
            "start": event.start or row["starts_at"],
            "end": event.end or row["ends_at"],
            "attendees": event.attendees or attendees,
            "meeting_url": event.meeting_url or row["location"],
            "updated": event.updated or now,
        }
    )
