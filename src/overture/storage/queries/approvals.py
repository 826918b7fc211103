"""Named operations on pending actions (the approval inbox)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.core.records import ActionStatus, PendingAction
from overture.storage.tables.orchestrator import pending_actions


def _action(row: Mapping[Any, Any]) -> PendingAction:
    return PendingAction(
        id=row["id"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        job_id=row["job_id"],
        step_index=row["step_index"],
        step_name=row["step_name"],
        pattern=row["pattern"],
        title=row["title"],
        draft=row["draft"] or {},
        status=ActionStatus(row["status"]),
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        channel_refs=row["channel_refs"] or {},
        modifications=row["modifications"],
        decided_by=row["decided_by"],
        decided_via=row["decided_via"],
        decided_at=row["decided_at"],
    )


def action_row(action: PendingAction) -> dict[str, Any]:
    """The row an action is stored as."""
    return {
        "id": action.id,
        "org_id": action.org_id,
        "user_id": action.user_id,
        "job_id": action.job_id,
        "step_index": action.step_index,
        "step_name": action.step_name,
        "pattern": action.pattern,
        "title": action.title,
        "draft": action.draft,
        "channel_refs": action.channel_refs,
        "status": action.status.value,
        "expires_at": action.expires_at,
        "created_at": action.created_at,
        "decided_by": action.decided_by,
        "decided_via": action.decided_via,
        "decided_at": action.decided_at,
    }


def action_from_row(row: Mapping[Any, Any]) -> PendingAction:
    return _action(row)


def insert_action(conn: sa.Connection, action: PendingAction) -> None:
    conn.execute(sa.insert(pending_actions).values(**action_row(action)))


def get_action(conn: sa.Connection, action_id: str, org_id: str | None = None) -> PendingAction | None:
    q = sa.select(pending_actions).where(pending_actions.c.id == action_id)
    if org_id is not None:
        q = q.where(pending_actions.c.org_id == org_id)
    row = conn.execute(q).mappings().first()
    return _action(row) if row else None


def action_for_step(conn: sa.Connection, job_id: str, step_index: int) -> PendingAction | None:
    q = sa.select(pending_actions).where(
        pending_actions.c.job_id == job_id, pending_actions.c.step_index == step_index
    )
    row = conn.execute(q).mappings().first()
    return _action(row) if row else None


def list_actions(
    conn: sa.Connection,
    org_id: str | None = None,
    status: str | None = ActionStatus.PENDING.value,
    user_id: str | None = None,
    limit: int = 100,
    job_id: str | None = None,
) -> list[PendingAction]:
    q = sa.select(pending_actions).order_by(pending_actions.c.created_at, pending_actions.c.id)
    if job_id is not None:
        q = q.where(pending_actions.c.job_id == job_id)
    if org_id is not None:
        q = q.where(pending_actions.c.org_id == org_id)
    if status is not None:
        q = q.where(pending_actions.c.status == status)
    if user_id is not None:
        q = q.where(pending_actions.c.user_id == user_id)
    return [_action(r) for r in conn.execute(q.limit(limit)).mappings()]


_DECIDE = (
    sa.update(pending_actions)
    .where(
        pending_actions.c.id == sa.bindparam("w_id"),
        pending_actions.c.status == ActionStatus.PENDING.value,
    )
    .values(
        status=sa.bindparam("w_status"),
        decided_by=sa.bindparam("w_by"),
        decided_via=sa.bindparam("w_via"),
        decided_at=sa.bindparam("w_at", type_=pending_actions.c.decided_at.type),
        modifications=sa.bindparam("w_mods", type_=pending_actions.c.modifications.type),
    )
)


def record_decision(
    conn: sa.Connection,
    action_id: str,
    status: ActionStatus,
    by: str | None,
    via: str,
    at: datetime,
    modifications: dict[str, Any] | None,
) -> bool:
    """Decide a still-pending action; False when someone decided (or it expired) first."""
    result = conn.execute(
        _DECIDE,
        {
            "w_id": action_id,
            "w_status": status.value,
            "w_by": by,
            "w_via": via,
            "w_at": at,
            "w_mods": modifications,
        },
    )
    return result.rowcount == 1


def due_for_expiry(conn: sa.Connection, now: datetime, limit: int) -> list[PendingAction]:
    q = (
        sa.select(pending_actions)
        .where(
            pending_actions.c.status == ActionStatus.PENDING.value,
            pending_actions.c.expires_at <= now,
        )
        .order_by(pending_actions.c.expires_at)
        .limit(limit)
    )
    return [_action(r) for r in conn.execute(q).mappings()]


def count_pending(conn: sa.Connection, org_id: str | None = None) -> int:
    q = sa.select(sa.func.count()).where(pending_actions.c.status == ActionStatus.PENDING.value)
    if org_id is not None:
        q = q.where(pending_actions.c.org_id == org_id)
    return int(conn.execute(q).scalar() or 0)


def pending_of_job(conn: sa.Connection, job_id: str) -> list[PendingAction]:
    """The job's actions still waiting for a human."""
    q = sa.select(pending_actions).where(
        pending_actions.c.job_id == job_id, pending_actions.c.status == ActionStatus.PENDING.value
    )
    return [_action(r) for r in conn.execute(q.order_by(pending_actions.c.step_index)).mappings()]


def reopen_expired(conn: sa.Connection, action_id: str, expires_at: datetime) -> bool:
    """Ask again: an expired action back to pending until ``expires_at``; False unless expired."""
    result = conn.execute(
        sa.update(pending_actions)
        .where(pending_actions.c.id == action_id, pending_actions.c.status == ActionStatus.EXPIRED.value)
        .values(
            status=ActionStatus.PENDING.value,
            expires_at=expires_at,
            decided_by=None,
            decided_via=None,
            decided_at=None,
        )
    )
    return result.rowcount == 1


def expired_of_job(conn: sa.Connection, job_id: str) -> PendingAction | None:
    """The job's action that expired (the one an expired job stopped at)."""
    q = sa.select(pending_actions).where(
        pending_actions.c.job_id == job_id, pending_actions.c.status == ActionStatus.EXPIRED.value
    )
    row = conn.execute(q.order_by(pending_actions.c.step_index.desc())).mappings().first()
    return _action(row) if row else None
