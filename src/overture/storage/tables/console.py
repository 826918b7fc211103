"""The console's own tables: people's sessions and the one-time links they sign in with.

Neither keeps a secret: a session's cookie value and a link's code are stored as their SHA-256
hashes, like API tokens, so a copy of the database signs no one in.
"""

from __future__ import annotations

import sqlalchemy as sa

from overture.storage.tables.base import ID, metadata
from overture.storage.tables.types import UTCDateTime

console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    # How the person proved who they are: "token" or "link".
    sa.Column("via", sa.String(16), nullable=False),
    # The browser's own description of itself, shortened, so a person recognises their devices.
    sa.Column("user_agent", sa.String(200), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    # The absolute end; the idle end is last_seen_at plus the idle lifetime, checked on use.
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.Column("ended_reason", sa.String(32), nullable=True),
    sa.Column("ended_by", sa.String(128), nullable=True),
    sa.Index(None, "user_id", "ended_at"),
)

signin_links = sa.Table(
    "signin_links",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    # Where it was sent ("cli", "email", "slack", "api") and who asked for it.
    sa.Column("issued_via", sa.String(16), nullable=False),
    sa.Column("issued_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.Column("session_id", ID, nullable=True),
)
