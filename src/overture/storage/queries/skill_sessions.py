"""Named operations on console skill sessions: the session row, its entries, its inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.storage.tables.skill_sessions import skill_session_entries, skill_session_inputs, skill_sessions

OPEN, OVER, LOST = "open", "over", "lost"


@dataclass(frozen=True)
class SessionRow:
    id: str
    org_id: str
    user_id: str
    skill: str
    holder: str
    status: str
    seen_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class InputRow:
    id: int
    session_id: str
    action: str
    text: str


def insert_session(conn: sa.Connection, row: SessionRow) -> None:
    conn.execute(sa.insert(skill_sessions).values(**row.__dict__))


def get_session(conn: sa.Connection, session_id: str, org_id: str, user_id: str) -> SessionRow | None:
    """The session, only for the person who started it."""
    q = sa.select(skill_sessions).where(
        skill_sessions.c.id == session_id,
        skill_sessions.c.org_id == org_id,
        skill_sessions.c.user_id == user_id,
    )
    found = conn.execute(q).mappings().first()
    return SessionRow(**found) if found else None


def session_by_id(conn: sa.Connection, session_id: str) -> SessionRow | None:
    found = (
        conn.execute(sa.select(skill_sessions).where(skill_sessions.c.id == session_id)).mappings().first()
    )
    return SessionRow(**found) if found else None


def sessions_of(conn: sa.Connection, org_id: str, user_id: str) -> list[SessionRow]:
    q = (
        sa.select(skill_sessions)
        .where(skill_sessions.c.org_id == org_id, skill_sessions.c.user_id == user_id)
        .order_by(skill_sessions.c.created_at, skill_sessions.c.id)
    )
    return [SessionRow(**r) for r in conn.execute(q).mappings()]


def set_status(conn: sa.Connection, session_id: str, status: str, now: datetime) -> None:
    q = sa.update(skill_sessions).where(skill_sessions.c.id == session_id)
    conn.execute(q.values(status=status, seen_at=now))


def mark_lost(conn: sa.Connection, holder: str, stale_before: datetime) -> int:
    """Open sessions whose holder stopped beating before ``stale_before`` are lost."""
    q = sa.update(skill_sessions).where(
        skill_sessions.c.status == OPEN,
        skill_sessions.c.seen_at < stale_before,
        skill_sessions.c.holder != holder,
    )
    return int(conn.execute(q.values(status=LOST)).rowcount or 0)


def beat(conn: sa.Connection, holder: str, now: datetime) -> None:
    """The holder is alive: its open sessions were seen now."""
    q = sa.update(skill_sessions).where(skill_sessions.c.holder == holder, skill_sessions.c.status == OPEN)
    conn.execute(q.values(seen_at=now))


def append_entries(
    conn: sa.Connection, session_id: str, first_seq: int, entries: list[dict[str, str]]
) -> None:
    if entries:
        rows = [{"session_id": session_id, "seq": first_seq + i, **e} for i, e in enumerate(entries)]
        conn.execute(sa.insert(skill_session_entries), rows)


def entries_after(conn: sa.Connection, session_id: str, seen: int) -> list[dict[str, Any]]:
    e = skill_session_entries.c
    q = (
        sa.select(e.seq, e.kind, e.text, e.key, e.default)
        .where(e.session_id == session_id, e.seq > seen)
        .order_by(e.seq)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def add_input(conn: sa.Connection, session_id: str, action: str, text: str, now: datetime) -> None:
    conn.execute(
        sa.insert(skill_session_inputs).values(
            session_id=session_id, action=action, text=text, created_at=now
        )
    )


def pending_inputs(conn: sa.Connection, session_ids: list[str]) -> int:
    """How many inputs wait for these sessions (a read, so an idle pump never writes)."""
    i = skill_session_inputs.c
    if not session_ids:
        return 0
    q = sa.select(sa.func.count()).where(i.session_id.in_(session_ids), i.taken_at.is_(None))
    return int(conn.execute(q).scalar() or 0)


def take_inputs(conn: sa.Connection, session_ids: list[str], now: datetime) -> list[InputRow]:
    """The inputs not taken yet for these sessions, oldest first, marked taken."""
    i = skill_session_inputs.c
    if not session_ids:
        return []
    q = (
        sa.select(i.id, i.session_id, i.action, i.text)
        .where(i.session_id.in_(session_ids), i.taken_at.is_(None))
        .order_by(i.id)
    )
    found = [InputRow(**r) for r in conn.execute(q).mappings()]
    if found:
        conn.execute(
            sa.update(skill_session_inputs).where(i.id.in_([f.id for f in found])).values(taken_at=now)
        )
    return found


def forget(conn: sa.Connection, session_ids: list[str]) -> None:
    """Delete these sessions with everything they said and were sent."""
    if session_ids:
        for table in (skill_session_entries, skill_session_inputs):
            conn.execute(sa.delete(table).where(table.c.session_id.in_(session_ids)))
        conn.execute(sa.delete(skill_sessions).where(skill_sessions.c.id.in_(session_ids)))
