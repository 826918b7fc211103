"""Prose-skill sessions held for people in the console, shared by every server process.

One process holds a session's conversation (``holder``, with its heartbeat ``seen_at``); the
page, the answers and the stream may reach any process. So what the session said is kept in
``skill_session_entries`` (in order, ``seq`` from 1) and what the person sent waits in
``skill_session_inputs`` until the holder takes it. Entries hold what the page shows, vault
notes included: they live as long as the session is among its person's last few.
"""

from __future__ import annotations

import sqlalchemy as sa

from overture.storage.tables.base import ID, metadata
from overture.storage.tables.types import UTCDateTime

skill_sessions = sa.Table(
    "skill_sessions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("skill", sa.String(128), nullable=False),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("seen_at", UTCDateTime(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "org_id", "user_id", "created_at"),
)

skill_session_entries = sa.Table(
    "skill_session_entries",
    metadata,
    sa.Column("session_id", ID, sa.ForeignKey("skill_sessions.id"), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("default", sa.Text(), nullable=False),
)

skill_session_inputs = sa.Table(
    "skill_session_inputs",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("session_id", ID, sa.ForeignKey("skill_sessions.id"), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("taken_at", UTCDateTime(), nullable=True),
)
