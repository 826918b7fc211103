"""integration accounts and webhook receipts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 13:15:08.127437
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import overture.storage.tables.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column("sender_key", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("duplicate_of", sa.String(length=64), nullable=True),
        sa.Column(
            "work",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_webhook_receipts_dedupe_key")),
    )
    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_receipts_outcome_received_at"), ["outcome", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_receipts_provider_received_at"), ["provider", "received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_receipts_sender_key"), ["sender_key"], unique=False)

    op.create_table(
        "integration_accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("token_ref", sa.String(length=255), nullable=True),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_integration_accounts_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_integration_accounts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_accounts")),
        sa.UniqueConstraint(
            "provider", "external_id", name=op.f("uq_integration_accounts_provider_external_id")
        ),
    )
    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integration_accounts_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_integration_accounts_provider_secret_hash"),
            ["provider", "secret_hash"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_accounts_provider_secret_hash"))
        batch_op.drop_index(batch_op.f("ix_integration_accounts_org_id"))

    op.drop_table("integration_accounts")
    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_receipts_sender_key"))
        batch_op.drop_index(batch_op.f("ix_webhook_receipts_provider_received_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_receipts_outcome_received_at"))

    op.drop_table("webhook_receipts")
