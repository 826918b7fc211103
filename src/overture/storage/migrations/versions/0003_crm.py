"""crm

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 13:01:19.399839
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import overture.storage.tables.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "crm_activities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("deal_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_activities_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_activities")),
    )
    with op.batch_alter_table("crm_activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_activities_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_activities_org_id"), ["org_id"], unique=False)

    op.create_table(
        "crm_campaigns",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_campaigns_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_campaigns")),
    )
    with op.batch_alter_table("crm_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_campaigns_org_id"), ["org_id"], unique=False)

    op.create_table(
        "crm_companies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=200), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_companies_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_companies")),
    )
    with op.batch_alter_table("crm_companies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_companies_org_id"), ["org_id"], unique=False)

    op.create_table(
        "crm_proposal_templates",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_proposal_templates_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_proposal_templates")),
    )
    with op.batch_alter_table("crm_proposal_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_proposal_templates_org_id"), ["org_id"], unique=False)

    op.create_table(
        "crm_calendar_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("starts_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column(
            "attendees",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_calendar_events_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_crm_calendar_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_calendar_events")),
        sa.UniqueConstraint(
            "user_id", "external_id", name=op.f("uq_crm_calendar_events_user_id_external_id")
        ),
    )
    with op.batch_alter_table("crm_calendar_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_calendar_events_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_calendar_events_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_crm_calendar_events_user_id_starts_at"), ["user_id", "starts_at"], unique=False
        )

    op.create_table(
        "crm_contacts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("linkedin_url", sa.String(length=500), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["crm_companies.id"], name=op.f("fk_crm_contacts_company_id_crm_companies")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_contacts_org_id_orgs")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_crm_contacts_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contacts")),
    )
    with op.batch_alter_table("crm_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_contacts_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_contacts_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_contacts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "crm_email_threads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("needs_reply", sa.Boolean(), nullable=False),
        sa.Column(
            "last_message_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_email_threads_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_crm_email_threads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_email_threads")),
        sa.UniqueConstraint("user_id", "external_id", name=op.f("uq_crm_email_threads_user_id_external_id")),
    )
    with op.batch_alter_table("crm_email_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_email_threads_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_email_threads_user_id"), ["user_id"], unique=False)

    op.create_table(
        "crm_tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("deal_id", sa.String(length=64), nullable=True),
        sa.Column("meeting_id", sa.String(length=64), nullable=True),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_tasks_org_id_orgs")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_crm_tasks_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tasks")),
        sa.UniqueConstraint("source_key", name=op.f("uq_crm_tasks_source_key")),
    )
    with op.batch_alter_table("crm_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_tasks_org_id"), ["org_id"], unique=False)

    op.create_table(
        "crm_deals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.String(length=64), nullable=True),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column(
            "last_activity_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["crm_companies.id"], name=op.f("fk_crm_deals_company_id_crm_companies")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["crm_contacts.id"], name=op.f("fk_crm_deals_contact_id_crm_contacts")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_deals_org_id_orgs")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_crm_deals_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_deals")),
    )
    with op.batch_alter_table("crm_deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_deals_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_deals_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_deals_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "crm_email_messages",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column(
            "recipients",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_email_messages_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["crm_email_threads.id"],
            name=op.f("fk_crm_email_messages_thread_id_crm_email_threads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_email_messages")),
        sa.UniqueConstraint("external_id", name=op.f("uq_crm_email_messages_external_id")),
    )
    with op.batch_alter_table("crm_email_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_email_messages_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_email_messages_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "crm_meetings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("deal_id", sa.String(length=64), nullable=True),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("calendar_event_id", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("starts_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["crm_contacts.id"], name=op.f("fk_crm_meetings_contact_id_crm_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["crm_deals.id"], name=op.f("fk_crm_meetings_deal_id_crm_deals")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_meetings_org_id_orgs")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_crm_meetings_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_meetings")),
        sa.UniqueConstraint("org_id", "external_id", name=op.f("uq_crm_meetings_org_id_external_id")),
    )
    with op.batch_alter_table("crm_meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_meetings_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_meetings_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "crm_proposals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("deal_id", sa.String(length=64), nullable=True),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["crm_deals.id"], name=op.f("fk_crm_proposals_deal_id_crm_deals")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_proposals_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_proposals")),
        sa.UniqueConstraint("source_key", name=op.f("uq_crm_proposals_source_key")),
    )
    with op.batch_alter_table("crm_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_proposals_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_proposals_org_id"), ["org_id"], unique=False)

    op.create_table(
        "crm_transcripts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column(
            "segments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["crm_meetings.id"], name=op.f("fk_crm_transcripts_meeting_id_crm_meetings")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_crm_transcripts_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_transcripts")),
    )
    with op.batch_alter_table("crm_transcripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_transcripts_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_transcripts_org_id"), ["org_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("crm_transcripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_transcripts_org_id"))
        batch_op.drop_index(batch_op.f("ix_crm_transcripts_meeting_id"))

    op.drop_table("crm_transcripts")
    with op.batch_alter_table("crm_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_proposals_org_id"))
        batch_op.drop_index(batch_op.f("ix_crm_proposals_deal_id"))

    op.drop_table("crm_proposals")
    with op.batch_alter_table("crm_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_meetings_owner_id"))
        batch_op.drop_index(batch_op.f("ix_crm_meetings_org_id"))

    op.drop_table("crm_meetings")
    with op.batch_alter_table("crm_email_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_email_messages_thread_id"))
        batch_op.drop_index(batch_op.f("ix_crm_email_messages_org_id"))

    op.drop_table("crm_email_messages")
    with op.batch_alter_table("crm_deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_deals_owner_id"))
        batch_op.drop_index(batch_op.f("ix_crm_deals_org_id"))
        batch_op.drop_index(batch_op.f("ix_crm_deals_company_id"))

    op.drop_table("crm_deals")
    with op.batch_alter_table("crm_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_tasks_org_id"))

    op.drop_table("crm_tasks")
    with op.batch_alter_table("crm_email_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_email_threads_user_id"))
        batch_op.drop_index(batch_op.f("ix_crm_email_threads_org_id"))

    op.drop_table("crm_email_threads")
    with op.batch_alter_table("crm_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_contacts_org_id"))
        batch_op.drop_index(batch_op.f("ix_crm_contacts_email"))
        batch_op.drop_index(batch_op.f("ix_crm_contacts_company_id"))

    op.drop_table("crm_contacts")
    with op.batch_alter_table("crm_calendar_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_calendar_events_user_id_starts_at"))
        batch_op.drop_index(batch_op.f("ix_crm_calendar_events_user_id"))
        batch_op.drop_index(batch_op.f("ix_crm_calendar_events_org_id"))

    op.drop_table("crm_calendar_events")
    with op.batch_alter_table("crm_proposal_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_proposal_templates_org_id"))

    op.drop_table("crm_proposal_templates")
    with op.batch_alter_table("crm_companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_companies_org_id"))

    op.drop_table("crm_companies")
    with op.batch_alter_table("crm_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_campaigns_org_id"))

    op.drop_table("crm_campaigns")
    with op.batch_alter_table("crm_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_activities_org_id"))
        batch_op.drop_index(batch_op.f("ix_crm_activities_deal_id"))

    op.drop_table("crm_activities")
