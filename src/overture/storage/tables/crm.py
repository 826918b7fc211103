"""The sales pack's CRM, in the same database. Every row is org-scoped."""

from __future__ import annotations

import sqlalchemy as sa

from overture.storage.tables.base import ID, metadata
from overture.storage.tables.types import UTCDateTime, json_type


def _org() -> sa.Column[str]:
    return sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False, index=True)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


companies = sa.Table(
    "crm_companies",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("domain", sa.String(200), nullable=True),
    sa.Column("industry", sa.String(100), nullable=True),
    sa.Column("employees", sa.Integer(), nullable=True),
    sa.Column("details", json_type(), nullable=False),
    _ts("created_at"),
)

contacts = sa.Table(
    "crm_contacts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("company_id", ID, sa.ForeignKey("crm_companies.id"), nullable=True, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=True, index=True),
    sa.Column("title", sa.String(200), nullable=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("linkedin_url", sa.String(500), nullable=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id"), nullable=True),
    _ts("created_at"),
)

deals = sa.Table(
    "crm_deals",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("company_id", ID, sa.ForeignKey("crm_companies.id"), nullable=True, index=True),
    sa.Column("contact_id", ID, sa.ForeignKey("crm_contacts.id"), nullable=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id"), nullable=True, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("value_cents", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("close_date", sa.Date(), nullable=True),
    _ts("last_activity_at", nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
)

meetings = sa.Table(
    "crm_meetings",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id"), nullable=True, index=True),
    sa.Column("deal_id", ID, sa.ForeignKey("crm_deals.id"), nullable=True),
    sa.Column("contact_id", ID, sa.ForeignKey("crm_contacts.id"), nullable=True),
    sa.Column("calendar_event_id", ID, nullable=True),
    sa.Column("external_id", sa.String(200), nullable=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    _ts("starts_at"),
    _ts("ends_at"),
    sa.Column("status", sa.String(24), nullable=False),
    _ts("created_at"),
    sa.UniqueConstraint("org_id", "external_id"),
)

transcripts = sa.Table(
    "crm_transcripts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("meeting_id", ID, sa.ForeignKey("crm_meetings.id"), nullable=False, index=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column("segments", json_type(), nullable=False),
    _ts("created_at"),
)

activities = sa.Table(
    "crm_activities",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    _org(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("contact_id", ID, nullable=True),
    sa.Column("deal_id", ID, nullable=True, index=True),
    sa.Column("user_id", ID, nullable=True),
    _ts("occurred_at"),
)

tasks = sa.Table(
    "crm_tasks",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("due_date", sa.Date(), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("contact_id", ID, nullable=True),
    sa.Column("deal_id", ID, nullable=True),
    sa.Column("meeting_id", ID, nullable=True),
    sa.Column("source_key", sa.String(255), nullable=True, unique=True),
    _ts("created_at"),
)

calendar_events = sa.Table(
    "crm_calendar_events",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("external_id", sa.String(255), nullable=True),
    sa.Column("title", sa.String(300), nullable=False),
    _ts("starts_at"),
    _ts("ends_at"),
    sa.Column("all_day", sa.Boolean(), nullable=False),
    sa.Column("location", sa.String(300), nullable=True),
    sa.Column("attendees", json_type(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _ts("updated_at"),
    sa.UniqueConstraint("user_id", "external_id"),
    sa.Index(None, "user_id", "starts_at"),
)

email_threads = sa.Table(
    "crm_email_threads",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("external_id", sa.String(255), nullable=True),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("contact_id", ID, nullable=True),
    sa.Column("needs_reply", sa.Boolean(), nullable=False),
    _ts("last_message_at"),
    sa.UniqueConstraint("user_id", "external_id"),
)

email_messages = sa.Table(
    "crm_email_messages",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("thread_id", ID, sa.ForeignKey("crm_email_threads.id"), nullable=False, index=True),
    sa.Column("external_id", sa.String(255), nullable=True, unique=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("sender", sa.String(320), nullable=False),
    sa.Column("recipients", json_type(), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    _ts("sent_at"),
)

proposal_templates = sa.Table(
    "crm_proposal_templates",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    _ts("created_at"),
)

proposals = sa.Table(
    "crm_proposals",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("deal_id", ID, sa.ForeignKey("crm_deals.id"), nullable=True, index=True),
    sa.Column("template_id", ID, nullable=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("value_cents", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source_key", sa.String(255), nullable=True, unique=True),
    _ts("created_at"),
    _ts("sent_at", nullable=True),
)

campaigns = sa.Table(
    "crm_campaigns",
    metadata,
    sa.Column("id", ID, primary_key=True),
    _org(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("metrics", json_type(), nullable=False),
    _ts("updated_at"),
)
