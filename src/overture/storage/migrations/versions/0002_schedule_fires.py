"""schedule fires

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 12:59:33.351688
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import overture.storage.tables.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "schedule_fires",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=140), nullable=False),
        sa.Column("slot_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("fired_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_fires")),
        sa.UniqueConstraint(
            "schedule", "target", "slot_at", name=op.f("uq_schedule_fires_schedule_target_slot_at")
        ),
    )
    op.create_table(
        "scheduler_state",
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("checked_until", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("schedule", name=op.f("pk_scheduler_state")),
    )


def downgrade() -> None:

    op.drop_table("scheduler_state")
    op.drop_table("schedule_fires")
