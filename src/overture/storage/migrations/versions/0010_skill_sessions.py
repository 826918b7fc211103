"""skill sessions shared by every server process

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:00:00

A console skill session is held by one server process, but its page, answers and stream may
reach any of them (``serve --http-workers``, several hosts on PostgreSQL): ``skill_sessions``
names the holder and its heartbeat, ``skill_session_entries`` keeps what was said, in order,
and ``skill_session_inputs`` what the person sent until the holder takes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import overture.storage.tables.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, overture.storage.tables.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "skill_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("skill", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("seen_at"),
        _when("created_at"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_skill_sessions_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_skill_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_sessions")),
    )
    with op.batch_alter_table("skill_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_skill_sessions_org_id_user_id_created_at"),
            ["org_id", "user_id", "created_at"],
            unique=False,
        )
    op.create_table(
        "skill_session_entries",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("default", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["skill_sessions.id"],
            name=op.f("fk_skill_session_entries_session_id_skill_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", "seq", name=op.f("pk_skill_session_entries")),
    )
    op.create_table(
        "skill_session_inputs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _when("created_at"),
        _when("taken_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["skill_sessions.id"],
            name=op.f("fk_skill_session_inputs_session_id_skill_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_session_inputs")),
    )
    with op.batch_alter_table("skill_session_inputs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skill_session_inputs_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("skill_session_inputs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skill_session_inputs_session_id"))
    op.drop_table("skill_session_inputs")
    op.drop_table("skill_session_entries")
    with op.batch_alter_table("skill_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skill_sessions_org_id_user_id_created_at"))
    op.drop_table("skill_sessions")
