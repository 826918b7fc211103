"""Orgs, users, feature settings and budgets: the named operations the admin commands use.

A removed org or user (``removed_at`` set) is gone to every reader here; only
``include_removed`` sees it, to tell that its id is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.storage.tables.orchestrator import budgets, feature_settings, orgs, users


@dataclass(frozen=True)
class OrgRow:
    id: str
    name: str
    profile: dict[str, Any]
    created_at: datetime
    removed_at: datetime | None = None


@dataclass(frozen=True)
class UserRow:
    id: str
    org_id: str
    name: str
    email: str | None
    slack_user_id: str | None
    timezone: str
    active_hours: str | None
    workdays: str
    max_notifications_per_hour: int
    role: str
    preferences: dict[str, Any]
    created_at: datetime
    removed_at: datetime | None = None


_ANY_ORG = sa.select(orgs).where(orgs.c.id == sa.bindparam("org_id"))
_ORG = _ANY_ORG.where(orgs.c.removed_at.is_(None))
_ANY_USER = sa.select(users).where(users.c.id == sa.bindparam("user_id"))
_USER = _ANY_USER.where(users.c.removed_at.is_(None))
_USER_IN_ORG = _USER.where(users.c.org_id == sa.bindparam("org_id"))
_FEATURES = sa.select(feature_settings.c.event_type, feature_settings.c.enabled).where(
    feature_settings.c.org_id == sa.bindparam("org_id")
)


def insert_org(conn: sa.Connection, org: OrgRow) -> None:
    conn.execute(sa.insert(orgs).values(**org.__dict__))


def get_org(conn: sa.Connection, org_id: str, include_removed: bool = False) -> OrgRow | None:
    row = conn.execute(_ANY_ORG if include_removed else _ORG, {"org_id": org_id}).mappings().first()
    return OrgRow(**row) if row else None


def list_orgs(conn: sa.Connection) -> list[OrgRow]:
    q = sa.select(orgs).where(orgs.c.removed_at.is_(None)).order_by(orgs.c.id)
    return [OrgRow(**r) for r in conn.execute(q).mappings()]


def insert_user(conn: sa.Connection, user: UserRow) -> None:
    conn.execute(sa.insert(users).values(**user.__dict__))


def get_user(
    conn: sa.Connection, user_id: str, org_id: str | None = None, include_removed: bool = False
) -> UserRow | None:
    """A user by id; with ``org_id``, only if the user belongs to that org."""
    if include_removed:
        row = conn.execute(_ANY_USER, {"user_id": user_id}).mappings().first()
        return UserRow(**row) if row and org_id in (None, row["org_id"]) else None
    if org_id is None:
        row = conn.execute(_USER, {"user_id": user_id}).mappings().first()
    else:
        row = conn.execute(_USER_IN_ORG, {"user_id": user_id, "org_id": org_id}).mappings().first()
    return UserRow(**row) if row else None


def update_user(conn: sa.Connection, org_id: str, user_id: str, **values: Any) -> bool:
    """Change some of a user's fields; False when no such user is in that org."""
    q = (
        sa.update(users)
        .where(users.c.id == user_id, users.c.org_id == org_id, users.c.removed_at.is_(None))
        .values(**values)
    )
    return conn.execute(q).rowcount == 1


def remove_user(conn: sa.Connection, org_id: str, user_id: str, at: datetime) -> bool:
    """Mark a user removed; False when no such user (still there) is in that org."""
    return update_user(conn, org_id, user_id, removed_at=at)


def remove_org(conn: sa.Connection, org_id: str, at: datetime) -> bool:
    """Mark an org and every user of it removed; False when there is no such org (still there)."""
    q = sa.update(orgs).where(orgs.c.id == org_id, orgs.c.removed_at.is_(None)).values(removed_at=at)
    if conn.execute(q).rowcount != 1:
        return False
    conn.execute(
        sa.update(users).where(users.c.org_id == org_id, users.c.removed_at.is_(None)).values(removed_at=at)
    )
    return True


def list_users(conn: sa.Connection, org_id: str) -> list[UserRow]:
    q = sa.select(users).where(users.c.org_id == org_id, users.c.removed_at.is_(None)).order_by(users.c.id)
    return [UserRow(**r) for r in conn.execute(q).mappings()]


def set_feature(conn: sa.Connection, org_id: str, event_type: str, enabled: bool, now: datetime) -> None:
    """Upsert one org x event-type switch."""
    updated = conn.execute(
        sa.update(feature_settings)
        .where(feature_settings.c.org_id == org_id, feature_settings.c.event_type == event_type)
        .values(enabled=enabled, updated_at=now)
    ).rowcount
    if not updated:
        conn.execute(
            sa.insert(feature_settings).values(
                org_id=org_id, event_type=event_type, enabled=enabled, updated_at=now
            )
        )


def features(conn: sa.Connection, org_id: str) -> dict[str, bool]:
    """Explicit switches for an org; event types not listed are enabled."""
    return {r.event_type: bool(r.enabled) for r in conn.execute(_FEATURES, {"org_id": org_id})}


def set_budget(conn: sa.Connection, org_id: str, period: str, limit_micros: int, now: datetime) -> None:
    """Upsert an org's AI budget for a period kind (day, week or month)."""
    updated = conn.execute(
        sa.update(budgets)
        .where(budgets.c.org_id == org_id, budgets.c.period == period)
        .values(limit_micros=limit_micros, updated_at=now)
    ).rowcount
    if not updated:
        conn.execute(
            sa.insert(budgets).values(org_id=org_id, period=period, limit_micros=limit_micros, updated_at=now)
        )


def org_budgets(conn: sa.Connection, org_id: str) -> dict[str, int]:
    q = sa.select(budgets.c.period, budgets.c.limit_micros).where(budgets.c.org_id == org_id)
    return {r.period: int(r.limit_micros) for r in conn.execute(q)}
