"""console sessions and one-time sign-in links

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:00:00

``console_sessions`` holds each signed-in browser: an opaque random value in its cookie, kept
here only as a SHA-256 hash, with its idle and absolute ends and how it ended (sign-out,
revocation). ``signin_links`` holds one-time sign-in links, hashed too: single use, expiring
within minutes, bound to one user.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import overture.storage.tables.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, overture.storage.tables.types.UTCDateTime(timezone=True), nullable=nullable)


def _owner(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f(f"fk_{table}_org_id_orgs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users")),
    ]


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        _when("created_at", False),
        _when("last_seen_at", False),
        _when("expires_at", False),
        _when("ended_at", True),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.Column("ended_by", sa.String(length=128), nullable=True),
        *_owner("console_sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_console_sessions_secret_hash")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_sessions_user_id_ended_at"), ["user_id", "ended_at"], unique=False
        )
    op.create_table(
        "signin_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_via", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        _when("created_at", False),
        _when("expires_at", False),
        _when("used_at", True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        *_owner("signin_links"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_links")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_signin_links_code_hash")),
    )
    with op.batch_alter_table("signin_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signin_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signin_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_links_user_id"))
    op.drop_table("signin_links")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id_ended_at"))
    op.drop_table("console_sessions")
