"""Named operations for the webhook receivers: integration accounts, receipts, and the CRM rows
a webhook creates (meetings, transcripts, calendar events)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.storage.queries.tenancy import UserRow
from overture.storage.tables.crm import calendar_events, meetings, transcripts
from overture.storage.tables.integrations import integration_accounts, webhook_receipts
from overture.storage.tables.orchestrator import users

# -- accounts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """An integration account. ``secret_hash`` is a SHA-256 digest: never the secret."""

    id: str
    provider: str
    external_id: str
    org_id: str
    user_id: str | None
    secret_hash: str | None = field(repr=False)
    state: dict[str, Any]
    base_url: str | None
    token_ref: str | None
    created_at: datetime
    updated_at: datetime


def _account(row: Mapping[Any, Any]) -> Account:
    return Account(**{**row, "state": dict(row["state"] or {})})


def insert_account(conn: sa.Connection, account: Account) -> None:
    conn.execute(sa.insert(integration_accounts).values(**account.__dict__))


def get_account(conn: sa.Connection, account_id: str) -> Account | None:
    q = sa.select(integration_accounts).where(integration_accounts.c.id == account_id)
    row = conn.execute(q).mappings().first()
    return _account(row) if row else None


def find_account(conn: sa.Connection, provider: str, external_id: str) -> Account | None:
    """The account of ``provider`` whose external id is ``external_id``."""
    q = sa.select(integration_accounts).where(
        integration_accounts.c.provider == provider, integration_accounts.c.external_id == external_id
    )
    row = conn.execute(q).mappings().first()
    return _account(row) if row else None


def find_by_secret_hash(conn: sa.Connection, provider: str, digest: str) -> Account | None:
    """The account of ``provider`` whose secret hashes to ``digest`` (a callback secret)."""
    q = (
        sa.select(integration_accounts)
        .where(integration_accounts.c.provider == provider, integration_accounts.c.secret_hash == digest)
        .order_by(integration_accounts.c.created_at, integration_accounts.c.id)
    )
    row = conn.execute(q).mappings().first()
    return _account(row) if row else None


def find_for_user(conn: sa.Connection, provider: str, org_id: str, user_id: str) -> Account | None:
    """The user's (first) account of ``provider``."""
    q = (
        sa.select(integration_accounts)
        .where(
            integration_accounts.c.provider == provider,
            integration_accounts.c.org_id == org_id,
            integration_accounts.c.user_id == user_id,
        )
        .order_by(integration_accounts.c.created_at, integration_accounts.c.id)
    )
    row = conn.execute(q).mappings().first()
    return _account(row) if row else None


def accounts_by_external_ids(
    conn: sa.Connection, provider: str, external_ids: Sequence[str]
) -> dict[str, Account]:
    """The accounts of ``provider`` among ``external_ids``, by external id."""
    if not external_ids:
        return {}
    q = sa.select(integration_accounts).where(
        integration_accounts.c.provider == provider,
        integration_accounts.c.external_id.in_(sorted(set(external_ids))),
    )
    return {r["external_id"]: _account(r) for r in conn.execute(q).mappings()}


def list_accounts(conn: sa.Connection, org_id: str | None = None) -> list[Account]:
    q = sa.select(integration_accounts).order_by(
        integration_accounts.c.org_id, integration_accounts.c.provider, integration_accounts.c.external_id
    )
    if org_id is not None:
        q = q.where(integration_accounts.c.org_id == org_id)
    return [_account(r) for r in conn.execute(q).mappings()]


def update_state(conn: sa.Connection, account_id: str, state: dict[str, Any], now: datetime) -> None:
    conn.execute(
        sa.update(integration_accounts)
        .where(integration_accounts.c.id == account_id)
        .values(state=state, updated_at=now)
    )


def user_by_slack_id(conn: sa.Connection, org_id: str, slack_user_id: str) -> UserRow | None:
    """The org's user whose ``slack_user_id`` is this Slack user (a removed user is no one)."""
    q = (
        sa.select(users)
        .where(users.c.org_id == org_id, users.c.slack_user_id == slack_user_id, users.c.removed_at.is_(None))
        .order_by(users.c.id)
    )
    row = conn.execute(q).mappings().first()
    return UserRow(**row) if row else None


# -- receipts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """One webhook receipt and what became of it."""

    id: str
    provider: str
    dedupe_key: str | None
    sender_key: str
    outcome: str
    reason: str
    detail: str
    org_id: str | None
    user_id: str | None
    account_id: str | None
    duplicate_of: str | None
    work: dict[str, Any] | None
    events: list[dict[str, Any]]
    received_at: datetime
    finished_at: datetime | None


def _receipt(row: Mapping[Any, Any]) -> Receipt:
    return Receipt(**{**row, "events": list(row["events"] or [])})


def insert_receipt(conn: sa.Connection, receipt: Receipt) -> None:
    conn.execute(sa.insert(webhook_receipts).values(**receipt.__dict__))


def get_receipt(conn: sa.Connection, receipt_id: str) -> Receipt | None:
    q = sa.select(webhook_receipts).where(webhook_receipts.c.id == receipt_id)
    row = conn.execute(q).mappings().first()
    return _receipt(row) if row else None


def find_receipt(conn: sa.Connection, dedupe_key: str) -> Receipt | None:
    """The receipt that holds ``dedupe_key`` (the first, or the latest retried, one)."""
    q = sa.select(webhook_receipts).where(webhook_receipts.c.dedupe_key == dedupe_key)
    row = conn.execute(q).mappings().first()
    return _receipt(row) if row else None


def release_key(conn: sa.Connection, receipt_id: str) -> None:
    """Give up a failed receipt's dedupe key so that a redelivery can be taken afresh."""
    conn.execute(
        sa.update(webhook_receipts).where(webhook_receipts.c.id == receipt_id).values(dedupe_key=None)
    )


def finish_receipt(
    conn: sa.Connection,
    receipt_id: str,
    outcome: str,
    reason: str,
    detail: str,
    now: datetime,
    events: list[dict[str, Any]] | None = None,
) -> None:
    values: dict[str, Any] = {"outcome": outcome, "reason": reason, "detail": detail, "finished_at": now}
    if events is not None:
        values["events"] = events
    conn.execute(sa.update(webhook_receipts).where(webhook_receipts.c.id == receipt_id).values(**values))


def set_work(conn: sa.Connection, receipt_id: str, work: dict[str, Any] | None) -> None:
    """Replace what a receipt keeps for later (None once nothing is left to do with it)."""
    conn.execute(sa.update(webhook_receipts).where(webhook_receipts.c.id == receipt_id).values(work=work))


def route_receipt(
    conn: sa.Connection, receipt_id: str, org_id: str, user_id: str | None, account_id: str
) -> None:
    """Say whose an unrouted receipt turned out to be, once it is replayed."""
    conn.execute(
        sa.update(webhook_receipts)
        .where(webhook_receipts.c.id == receipt_id)
        .values(org_id=org_id, user_id=user_id, account_id=account_id)
    )


def unfinished_receipts(conn: sa.Connection, received_before: datetime, limit: int) -> list[Receipt]:
    """Receipts whose after-answer work is not done (accepted) or went wrong (failed) and may be
    done again; failed ones whose key a redelivery took are left out."""
    q = (
        sa.select(webhook_receipts)
        .where(
            webhook_receipts.c.received_at <= received_before,
            webhook_receipts.c.work.is_not(None),
            webhook_receipts.c.dedupe_key.is_not(None),
            webhook_receipts.c.outcome.in_(("accepted", "failed")),
        )
        .order_by(webhook_receipts.c.received_at, webhook_receipts.c.id)
        .limit(limit)
    )
    return [_receipt(r) for r in conn.execute(q).mappings()]


def list_receipts(
    conn: sa.Connection,
    provider: str | None = None,
    org_id: str | None = None,
    limit: int = 100,
    outcome: str | None = None,
) -> list[Receipt]:
    """Receipts, oldest first."""
    q = sa.select(webhook_receipts).order_by(webhook_receipts.c.received_at, webhook_receipts.c.id)
    if provider is not None:
        q = q.where(webhook_receipts.c.provider == provider)
    if org_id is not None:
        q = q.where(webhook_receipts.c.org_id == org_id)
    if outcome is not None:
        q = q.where(webhook_receipts.c.outcome == outcome)
    return [_receipt(r) for r in conn.execute(q.limit(limit)).mappings()]


# -- CRM rows a webhook writes ---------------------------------------------------------------


def find_meeting(conn: sa.Connection, org_id: str, external_id: str) -> dict[str, Any] | None:
    q = sa.select(meetings).where(meetings.c.org_id == org_id, meetings.c.external_id == external_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def insert_meeting(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(sa.insert(meetings).values(**row))


def transcript_of(conn: sa.Connection, meeting_id: str) -> str | None:
    """The id of the meeting's (first) transcript."""
    q = (
        sa.select(transcripts.c.id)
        .where(transcripts.c.meeting_id == meeting_id)
        .order_by(transcripts.c.created_at, transcripts.c.id)
    )
    value = conn.execute(q).scalar()
    return str(value) if value is not None else None


def insert_transcript(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(sa.insert(transcripts).values(**row))


def calendar_event_of(conn: sa.Connection, org_id: str, event_id: str) -> dict[str, Any] | None:
    """The org's stored calendar event ``event_id`` (a bot's ``extra`` names it)."""
    q = sa.select(calendar_events).where(calendar_events.c.org_id == org_id, calendar_events.c.id == event_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def find_calendar_event(conn: sa.Connection, user_id: str, external_id: str) -> dict[str, Any] | None:
    q = sa.select(calendar_events).where(
        calendar_events.c.user_id == user_id, calendar_events.c.external_id == external_id
    )
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def insert_calendar_event(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(sa.insert(calendar_events).values(**row))


def update_calendar_event(conn: sa.Connection, row_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(sa.update(calendar_events).where(calendar_events.c.id == row_id).values(**values))
