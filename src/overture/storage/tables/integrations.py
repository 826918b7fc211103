"""Who is behind each webhook, and every webhook we received (issue 3, part 3).

``integration_accounts`` maps an external identity (a Slack team, a Calendar channel, a Gmail
mailbox, a Graph subscription, a MeetingBaaS account) to an org and a user. Secrets we only
compare (channel token, clientState, callback secret) are kept as SHA-256 hashes; tokens for
the API clients are named by reference (``env:NAME``), never stored.

``webhook_receipts`` holds one row per receipt whatever became of it. ``dedupe_key`` is
unique, so a sender's retry finds the first receipt; the retry itself is a row too, with no
key and ``duplicate_of`` pointing at the first. ``work`` says what is left to do after the
answer was sent, so it can be done again after a crash; it never holds secrets. The one
content it holds is the transcript of an ``unrouted`` MeetingBaaS receipt (an account we did
not know yet), kept so the receipt can be replayed; the replay moves it to ``crm_transcripts``.

``meeting_bots`` keeps the MeetingBaaS recording bot of each calendar event: its bot id, when
and where it joins, what was last decided and why. ``version_at`` is the calendar version the
row reflects (an older change arriving late is ignored); ``request_key`` marks a creation in
flight, so a handler that crashed after MeetingBaaS answered finds that bot instead of making a
second; ``claimed_until`` lets one effect handler at a time change a calendar event's bot.
"""

from __future__ import annotations

import sqlalchemy as sa

from overture.storage.tables.base import ID, metadata
from overture.storage.tables.types import UTCDateTime, json_type

integration_accounts = sa.Table(
    "integration_accounts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False, index=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("secret_hash", sa.String(64), nullable=True),
    sa.Column("state", json_type(), nullable=False),
    sa.Column("base_url", sa.String(500), nullable=True),
    sa.Column("token_ref", sa.String(255), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("provider", "external_id"),
    sa.Index(None, "provider", "secret_hash"),
)

webhook_receipts = sa.Table(
    "webhook_receipts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("dedupe_key", sa.String(255), nullable=True, unique=True),
    sa.Column("sender_key", sa.String(255), nullable=False, index=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("org_id", ID, nullable=True),
    sa.Column("user_id", ID, nullable=True),
    sa.Column("account_id", ID, nullable=True),
    sa.Column("duplicate_of", ID, nullable=True),
    sa.Column("work", json_type(), nullable=True),
    sa.Column("events", json_type(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index(None, "provider", "received_at"),
    sa.Index(None, "outcome", "received_at"),
)

meeting_bots = sa.Table(
    "meeting_bots",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False, index=True),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("calendar_event_id", ID, nullable=False, unique=True),
    sa.Column("bot_id", sa.String(64), nullable=True, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("meeting_url", sa.String(500), nullable=True),
    sa.Column("join_at", UTCDateTime(), nullable=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("version_at", UTCDateTime(), nullable=True),
    sa.Column("request_key", sa.String(255), nullable=True),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
