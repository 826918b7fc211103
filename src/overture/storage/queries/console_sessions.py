"""Named operations on console sessions and one-time sign-in links (only hashes are stored)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.storage.tables.console import console_sessions, signin_links
from overture.storage.tables.orchestrator import orgs, users


@dataclass(frozen=True)
class SessionRow:
    """A session as stored, without its hash: safe to list and print."""

    id: str
    org_id: str
    user_id: str
    via: str
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    ended_reason: str | None = None
    ended_by: str | None = None


@dataclass(frozen=True)
class LinkRow:
    """A sign-in link as stored, without its hash."""

    id: str
    org_id: str
    user_id: str
    issued_via: str
    issued_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    session_id: str | None = None


_SESSION_COLUMNS = [c for c in console_sessions.c if c.name != "secret_hash"]
_LINK_COLUMNS = [c for c in signin_links.c if c.name != "code_hash"]


def _gone(row: Mapping[Any, Any]) -> bool:
    """Whether the org or the user a row belongs to was removed since."""
    return row["org_removed"] is not None or row["user_removed"] is not None


def _with_owner(table: sa.Table, columns: list[sa.Column[Any]]) -> sa.Select[Any]:
    return sa.select(
        *columns, orgs.c.removed_at.label("org_removed"), users.c.removed_at.label("user_removed")
    ).select_from(table.join(orgs, orgs.c.id == table.c.org_id).join(users, users.c.id == table.c.user_id))


_SESSION_BY_HASH = _with_owner(console_sessions, _SESSION_COLUMNS).where(
    console_sessions.c.secret_hash == sa.bindparam("secret_hash")
)
_LINK_BY_HASH = _with_owner(signin_links, _LINK_COLUMNS).where(
    signin_links.c.code_hash == sa.bindparam("code_hash")
)


def _session(row: Mapping[Any, Any]) -> SessionRow:
    return SessionRow(**{c.name: row[c.name] for c in _SESSION_COLUMNS})


def _link(row: Mapping[Any, Any]) -> LinkRow:
    return LinkRow(**{c.name: row[c.name] for c in _LINK_COLUMNS})


# -- sessions ---------------------------------------------------------------------------------


def insert_session(conn: sa.Connection, row: SessionRow, secret_hash: str) -> None:
    conn.execute(sa.insert(console_sessions).values(**row.__dict__, secret_hash=secret_hash))


def session_by_hash(conn: sa.Connection, secret_hash: str) -> tuple[SessionRow, bool] | None:
    """The session whose secret hashes to this, and whether its org or user is gone since."""
    row = conn.execute(_SESSION_BY_HASH, {"secret_hash": secret_hash}).mappings().first()
    return (_session(row), _gone(row)) if row else None


def get_session(conn: sa.Connection, session_id: str) -> SessionRow | None:
    q = sa.select(*_SESSION_COLUMNS).where(console_sessions.c.id == session_id)
    row = conn.execute(q).mappings().first()
    return _session(row) if row else None


def touch_session(conn: sa.Connection, session_id: str, at: datetime) -> None:
    conn.execute(
        sa.update(console_sessions)
        .where(console_sessions.c.id == session_id, console_sessions.c.ended_at.is_(None))
        .values(last_seen_at=at)
    )


def end_session(conn: sa.Connection, session_id: str, at: datetime, reason: str, by: str) -> bool:
    """End a live session; False when there is no such session or it had ended already."""
    q = (
        sa.update(console_sessions)
        .where(console_sessions.c.id == session_id, console_sessions.c.ended_at.is_(None))
        .values(ended_at=at, ended_reason=reason, ended_by=by)
    )
    return conn.execute(q).rowcount == 1


def end_owned(
    conn: sa.Connection, org_id: str, user_id: str | None, at: datetime, reason: str, by: str
) -> int:
    """End every live session of an org (or of one user of it); how many were ended."""
    q = sa.update(console_sessions).where(
        console_sessions.c.org_id == org_id, console_sessions.c.ended_at.is_(None)
    )
    if user_id is not None:
        q = q.where(console_sessions.c.user_id == user_id)
    return int(conn.execute(q.values(ended_at=at, ended_reason=reason, ended_by=by)).rowcount)


def sessions_of(conn: sa.Connection, org_id: str, user_id: str, *, open_only: bool) -> list[SessionRow]:
    """A person's sessions, newest first; with ``open_only``, those not ended (they may have
    expired meanwhile: the caller knows the lifetimes)."""
    q = (
        sa.select(*_SESSION_COLUMNS)
        .where(console_sessions.c.org_id == org_id, console_sessions.c.user_id == user_id)
        .order_by(console_sessions.c.created_at.desc(), console_sessions.c.id)
        .limit(500)
    )
    if open_only:
        q = q.where(console_sessions.c.ended_at.is_(None))
    return [_session(r) for r in conn.execute(q).mappings()]


# -- one-time links ---------------------------------------------------------------------------


def insert_link(conn: sa.Connection, row: LinkRow, code_hash: str) -> None:
    conn.execute(sa.insert(signin_links).values(**row.__dict__, code_hash=code_hash))


def link_by_hash(conn: sa.Connection, code_hash: str) -> tuple[LinkRow, bool] | None:
    """The link whose code hashes to this, and whether its org or user is gone since."""
    row = conn.execute(_LINK_BY_HASH, {"code_hash": code_hash}).mappings().first()
    return (_link(row), _gone(row)) if row else None


def use_link(conn: sa.Connection, link_id: str, at: datetime, session_id: str) -> bool:
    """Spend a link: True for the one caller that does, while it is unused and unexpired."""
    q = (
        sa.update(signin_links)
        .where(
            signin_links.c.id == link_id,
            signin_links.c.used_at.is_(None),
            signin_links.c.expires_at > at,
        )
        .values(used_at=at, session_id=session_id)
    )
    return conn.execute(q).rowcount == 1


def users_by_email(conn: sa.Connection, email: str, limit: int = 5) -> list[tuple[str, str]]:
    """The (org, user) ids of the people still there with this email address, any case."""
    q = (
        sa.select(users.c.org_id, users.c.id)
        .select_from(users.join(orgs, orgs.c.id == users.c.org_id))
        .where(
            sa.func.lower(users.c.email) == email.strip().lower(),
            users.c.removed_at.is_(None),
            orgs.c.removed_at.is_(None),
        )
        .order_by(users.c.org_id, users.c.id)
        .limit(limit)
    )
    return [(r.org_id, r.id) for r in conn.execute(q)]
