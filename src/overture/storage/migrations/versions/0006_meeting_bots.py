"""the MeetingBaaS recording bot of each calendar event

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 22:12:18.316027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import overture.storage.tables.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, overture.storage.tables.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "meeting_bots",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("calendar_event_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("meeting_url", sa.String(length=500), nullable=True),
        _when("join_at", True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _when("version_at", True),
        sa.Column("request_key", sa.String(length=255), nullable=True),
        _when("claimed_until", True),
        _when("created_at", False),
        _when("updated_at", False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_meeting_bots_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_bots")),
        sa.UniqueConstraint("calendar_event_id", name=op.f("uq_meeting_bots_calendar_event_id")),
    )
    with op.batch_alter_table("meeting_bots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_bots_bot_id"), ["bot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_bots_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting_bots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_bots_org_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_bots_bot_id"))
    op.drop_table("meeting_bots")
