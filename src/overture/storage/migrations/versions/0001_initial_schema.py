"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 12:34:19.709620
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import overture.storage.tables.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_job_id"), ["job_id"], unique=False)

    op.create_table(
        "cost_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_ledger")),
    )
    with op.batch_alter_table("cost_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_ledger_org_id_created_at"), ["org_id", "created_at"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("parent_job_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_org_id_received_at"), ["org_id", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_events_org_id_type_dedupe_key_received_at"),
            ["org_id", "type", "dedupe_key", "received_at"],
            unique=False,
        )

    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("send_after", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_user_id_status_send_after"),
            ["user_id", "status", "send_after"],
            unique=False,
        )

    op.create_table(
        "orgs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "profile",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orgs")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_until", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_status_id"), ["status", "id"], unique=False)

    op.create_table(
        "budgets",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("limit_micros", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_budgets_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "period", name=op.f("pk_budgets")),
    )
    op.create_table(
        "feature_settings",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_feature_settings_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "event_type", name=op.f("pk_feature_settings")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("slack_user_id", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active_hours", sa.String(length=32), nullable=True),
        sa.Column("workdays", sa.String(length=64), nullable=False),
        sa.Column("max_notifications_per_hour", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "preferences",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_users_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_org_id"), ["org_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_api_tokens_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "sequence_jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("event_source", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column(
            "context",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "event_chain",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "trigger_payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("chain_depth", sa.Integer(), nullable=False),
        sa.Column("parent_job_id", sa.String(length=64), nullable=True),
        sa.Column("run_after", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column(
            "lease_expires_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("continuations", sa.Integer(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column(
            "execution_metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_sequence_jobs_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sequence_jobs_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sequence_jobs")),
    )
    with op.batch_alter_table("sequence_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sequence_jobs_org_id_created_at"), ["org_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sequence_jobs_parent_job_id"), ["parent_job_id"], unique=False)
        batch_op.create_index(
            "ix_sequence_jobs_runnable",
            ["run_after"],
            unique=False,
            sqlite_where=sa.text("status IN ('pending', 'deferred')"),
            postgresql_where=sa.text("status IN ('pending', 'deferred')"),
        )
        batch_op.create_index(
            "ix_sequence_jobs_leased",
            ["lease_expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'in_progress'"),
            postgresql_where=sa.text("status = 'in_progress'"),
        )

    op.create_table(
        "job_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column(
            "output",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("started_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["sequence_jobs.id"], name=op.f("fk_job_steps_job_id_sequence_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_steps")),
    )
    with op.batch_alter_table("job_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_steps_job_id_step_index"), ["job_id", "step_index"], unique=False
        )

    op.create_table(
        "pending_actions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(length=128), nullable=False),
        sa.Column("pattern", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column(
            "draft",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "channel_refs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "modifications",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_via", sa.String(length=32), nullable=True),
        sa.Column("decided_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["sequence_jobs.id"], name=op.f("fk_pending_actions_job_id_sequence_jobs")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_pending_actions_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_pending_actions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_actions")),
        sa.UniqueConstraint("job_id", "step_index", name=op.f("uq_pending_actions_job_id_step_index")),
    )
    with op.batch_alter_table("pending_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_actions_job_id"), ["job_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pending_actions_org_id_status"), ["org_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pending_actions_status_expires_at"),
            ["status", "expires_at"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("pending_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_actions_status_expires_at"))
        batch_op.drop_index(batch_op.f("ix_pending_actions_org_id_status"))
        batch_op.drop_index(batch_op.f("ix_pending_actions_job_id"))

    op.drop_table("pending_actions")
    with op.batch_alter_table("job_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_steps_job_id_step_index"))

    op.drop_table("job_steps")
    with op.batch_alter_table("sequence_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_sequence_jobs_runnable")
        batch_op.drop_index("ix_sequence_jobs_leased")
        batch_op.drop_index(batch_op.f("ix_sequence_jobs_parent_job_id"))
        batch_op.drop_index(batch_op.f("ix_sequence_jobs_org_id_created_at"))

    op.drop_table("sequence_jobs")
    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_org_id"))

    op.drop_table("users")
    op.drop_table("feature_settings")
    op.drop_table("budgets")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_status_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_job_id"))

    op.drop_table("outbox")
    op.drop_table("orgs")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_user_id_status_send_after"))

    op.drop_table("notifications")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_org_id_type_dedupe_key_received_at"))
        batch_op.drop_index(batch_op.f("ix_events_org_id_received_at"))

    op.drop_table("events")
    with op.batch_alter_table("cost_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_ledger_org_id_created_at"))

    op.drop_table("cost_ledger")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_job_id"))

    op.drop_table("audit_log")
