"""Receipts: every webhook that passed authentication is recorded once, with what became of it.

A receipt's dedupe key is the sender's own idea of "the same delivery" (a Pub/Sub message id,
a bot id, a Graph item's resource and version, a Slack trigger id). The first receipt holds the
key; a retry finds it, is recorded as a duplicate of it and answered like it, and changes
nothing else. A receipt that failed, was refused or was kept unrouted never blocks: it gives its
key up to the next delivery (``core.webhooks.holds_key``), so the same meeting sent again once
the account exists is processed. An unrouted receipt that a processed delivery replaces is
marked ``superseded`` and its kept transcript dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field

from overture.app import App
from overture.core.events import parse_event
from overture.core.webhooks import Outcome, Provider, holds_key, receipt_key
from overture.ids import new_id
from overture.integrations.apis import EventDraft
from overture.storage.queries import integrations as store
from overture.storage.queries.integrations import Account, Receipt


class EventRef(BaseModel):
    """An event a receipt produced, as ingest answered it."""

    event_id: str
    type: str
    status: str = Field(description="accepted, duplicate, deferred, skipped or rejected")
    job_id: str | None = None
    reason: str


class WebhookAck(BaseModel):
    """What a receiver answers once it has taken a webhook."""

    status: Outcome = Field(description="What became of this receipt (or of the first, for a duplicate).")
    receipt_id: str
    reason: str
    events: list[EventRef] = Field(default_factory=list)
    detail: str | None = Field(
        default=None, description="For a receipt kept `unrouted`: why, and how to replay it."
    )


@dataclass(frozen=True)
class Taken:
    """A receipt as the receiver answers it. ``first`` is set when this was a retry."""

    receipt: Receipt
    first: Receipt | None = None

    @property
    def duplicate(self) -> bool:
        return self.first is not None

    @property
    def unrouted(self) -> bool:
        """Kept for an account we do not know yet (answered 202: taken, not processed)."""
        return (self.first or self.receipt).outcome == Outcome.UNROUTED

    def ack(self) -> dict[str, Any]:
        shown = self.first or self.receipt
        status = Outcome.DUPLICATE.value if self.first else shown.outcome
        doc = {"status": status, "receipt_id": shown.id, "reason": shown.reason, "events": shown.events}
        body = WebhookAck.model_validate(doc).model_dump(mode="json")
        if self.unrouted:
            body["detail"] = shown.detail
        else:
            body.pop("detail")
        return body


@dataclass
class Draft:
    """A receipt about to be written: the facts known when the webhook was taken."""

    provider: Provider
    key: str
    outcome: Outcome
    reason: str
    detail: str = ""
    account: Account | None = None
    org_id: str | None = None
    user_id: str | None = None
    work: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Receipts:
    """Recording receipts, and ingesting what they carry, inside the caller's transaction."""

    app: App

    def seen(self, provider: Provider, key: str, outcome: Outcome = Outcome.PROCESSED) -> Receipt | None:
        """A receipt already holding ``key`` against a delivery that would end as ``outcome``
        (a cheap look before any slow work)."""
        with self.app.store.read() as conn:
            first = store.find_receipt(conn, receipt_key(provider, key.removeprefix(f"{provider.value}:")))
        return first if first is not None and holds_key(Outcome(first.outcome), outcome) else None

    def take(self, conn: sa.Connection, draft: Draft, now: datetime) -> Taken:
        """Record ``draft`` unless its key was taken before; then record the retry instead."""
        key = receipt_key(draft.provider, draft.key.removeprefix(f"{draft.provider.value}:"))
        self.app.store.lock_key(conn, f"receipt:{key}")
        first = store.find_receipt(conn, key)
        if first is not None and not holds_key(Outcome(first.outcome), draft.outcome):
            store.release_key(conn, first.id)
            if first.outcome == Outcome.UNROUTED and draft.outcome == Outcome.PROCESSED:
                why = "delivered again once routable; the later receipt holds the meeting"
                store.finish_receipt(conn, first.id, Outcome.RECORDED.value, "superseded", why, now)
                store.set_work(conn, first.id, None)
            first = None
        if first is not None:
            retry = self._row(draft, None, now, Outcome.DUPLICATE, "redelivery", f"duplicate of {first.id}")
            store.insert_receipt(conn, Receipt(**{**retry.__dict__, "duplicate_of": first.id}))
            return Taken(retry, first)
        receipt = self._row(draft, key, now, draft.outcome, draft.reason, draft.detail)
        store.insert_receipt(conn, receipt)
        return Taken(receipt)

    def record(self, draft: Draft) -> Taken:
        """``take`` in a transaction of its own."""
        now = self.app.clock.now()
        with self.app.store.write() as conn:
            return self.take(conn, draft, now)

    def ingest(
        self, conn: sa.Connection, drafts: Iterable[EventDraft], org_id: str, user_id: str, now: datetime
    ) -> list[dict[str, Any]]:
        """Gate and record each event in this transaction; ``ValidationFailed`` rolls all back."""
        refs = []
        for draft in drafts:
            event = parse_event(draft.for_user(org_id, user_id), now)
            result = self.app.ingestor.ingest_in(conn, event, now)
            refs.append(
                EventRef(
                    event_id=result.event_id,
                    type=event.type,
                    status=result.status,
                    job_id=result.job_id,
                    reason=result.reason,
                ).model_dump()
            )
        return refs

    def finish(
        self,
        conn: sa.Connection,
        receipt_id: str,
        outcome: Outcome,
        reason: str,
        detail: str,
        now: datetime,
        events: list[dict[str, Any]] | None = None,
    ) -> None:
        store.finish_receipt(conn, receipt_id, outcome.value, reason[:64], detail[:2000], now, events)

    @staticmethod
    def _row(
        draft: Draft, key: str | None, now: datetime, outcome: Outcome, reason: str, detail: str
    ) -> Receipt:
        account = draft.account
        return Receipt(
            id=new_id(),
            provider=draft.provider.value,
            dedupe_key=key,
            sender_key=draft.key[:255],
            outcome=outcome.value,
            reason=reason[:64],
            detail=detail[:2000],
            org_id=account.org_id if account else draft.org_id,
            user_id=draft.user_id or (account.user_id if account else None),
            account_id=account.id if account else None,
            duplicate_of=None,
            work=draft.work if outcome in (Outcome.ACCEPTED, Outcome.UNROUTED) else None,
            events=draft.events,
            received_at=now,
            finished_at=None if outcome == Outcome.ACCEPTED else now,
        )
