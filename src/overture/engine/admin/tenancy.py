"""Tenancy admin: orgs, users, feature switches and budgets, validated before anything is written.
The CLI uses it now; the HTTP layer reuses it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from overture.clock import Clock
from overture.core.budget import PERIODS, usd_to_micros
from overture.core.hours import ActiveHours, format_workdays, parse_workdays
from overture.errors import Conflict, NotFound, ValidationFailed
from overture.ids import new_id
from overture.storage.queries import tenancy
from overture.storage.store import Store

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
# Python's whitespace, spelled out so that the OpenAPI document can state the same pattern.
WHITESPACE = "\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
EMAIL_PATTERN = f"^[^@{WHITESPACE}]+@[^@{WHITESPACE}]+\\.[^@{WHITESPACE}]+$"
_EMAIL = re.compile(EMAIL_PATTERN)
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _slug(value: str, field: str) -> str:
    if not _SLUG.match(value):
        raise ValidationFailed(
            f"{field}: {value!r} is not a valid id (letters, digits, _ . : @ -; at most 64)"
        )
    return value


def _normal_hours(active_hours: str | None, workdays: str) -> tuple[str | None, str]:
    """Validated active hours and workdays in their canonical spelling."""
    if not active_hours:
        try:
            parse_workdays(workdays)  # kept for when hours are set: refused now if unreadable
        except ValueError as exc:
            raise ValidationFailed(f"workdays: {exc}") from None
        return None, workdays
    try:
        hours = ActiveHours.parse(active_hours, workdays)
    except ValueError as exc:
        raise ValidationFailed(f"active_hours: {exc}") from None
    return str(hours), format_workdays(hours.workdays)


@dataclass
class Admin:
    store: Store
    clock: Clock

    def add_org(self, org_id: str | None, name: str, profile: dict[str, Any] | None = None) -> tenancy.OrgRow:
        org_id = _slug(org_id, "org id") if org_id else new_id()
        if not name.strip():
            raise ValidationFailed("name: must not be empty")
        row = tenancy.OrgRow(id=org_id, name=name.strip(), profile=profile or {}, created_at=self.clock.now())
        with self.store.write() as conn:
            existing = tenancy.get_org(conn, org_id, include_removed=True)
            if existing is not None:
                removed = existing.removed_at is not None
                raise Conflict(
                    f"org {org_id!r} " + ("was removed; choose another id" if removed else "already exists")
                )
            tenancy.insert_org(conn, row)
        return row

    def add_user(
        self,
        org_id: str,
        user_id: str | None,
        name: str,
        *,
        timezone: str = "UTC",
        active_hours: str | None = "08:00-18:00",
        workdays: str = "mon-fri",
        max_notifications_per_hour: int = 10,
        email: str | None = None,
        slack_user_id: str | None = None,
        role: str = "member",
        preferences: dict[str, Any] | None = None,
    ) -> tenancy.UserRow:
        user_id = _slug(user_id, "user id") if user_id else new_id()
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(
                f"timezone: unknown time zone {timezone!r} (use an IANA name such as Europe/Paris)"
            ) from None
        active_hours, workdays = _normal_hours(active_hours, workdays)
        if max_notifications_per_hour < 0:
            raise ValidationFailed("max_notifications_per_hour: must be 0 or more")
        if email is not None and not _EMAIL.fullmatch(email):
            raise ValidationFailed("email: not a valid email address")
        if role not in ("member", "admin"):
            raise ValidationFailed(f"role: {role!r} is not member or admin")
        row = tenancy.UserRow(
            id=user_id,
            org_id=org_id,
            name=name.strip() or user_id,
            email=email,
            slack_user_id=slack_user_id,
            timezone=timezone,
            active_hours=active_hours,
            workdays=workdays,
            max_notifications_per_hour=max_notifications_per_hour,
            role=role,
            preferences=preferences or {},
            created_at=self.clock.now(),
        )
        with self.store.write() as conn:
            self._org(conn, org_id)
            existing = tenancy.get_user(conn, user_id, include_removed=True)
            if existing is not None:
                removed = existing.removed_at is not None
                raise Conflict(
                    f"user {user_id!r} " + ("was removed; choose another id" if removed else "already exists")
                )
            tenancy.insert_user(conn, row)
        return row

    def set_active_hours(
        self, org_id: str, user_id: str, active_hours: str | None, workdays: str = "mon-fri"
    ) -> None:
        """Change when a person may be reached (None: any time)."""
        active_hours, workdays = _normal_hours(active_hours, workdays)
        with self.store.write() as conn:
            if not tenancy.update_user(conn, org_id, user_id, active_hours=active_hours, workdays=workdays):
                raise NotFound(f"no user {user_id!r} in org {org_id!r}")

    def set_feature(self, org_id: str, event_type: str, enabled: bool) -> None:
        if not _EVENT_TYPE.match(event_type):
            raise ValidationFailed(f"event type: {event_type!r} is not a valid event type")
        with self.store.write() as conn:
            self._org(conn, org_id)
            tenancy.set_feature(conn, org_id, event_type, enabled, self.clock.now())

    def set_budget(self, org_id: str, period: str, limit_usd: float) -> None:
        if period not in PERIODS:
            raise ValidationFailed(f"period: {period!r} is not one of {', '.join(PERIODS)}")
        if not limit_usd >= 0:
            raise ValidationFailed("limit: must be a number of dollars, 0 or more")
        with self.store.write() as conn:
            self._org(conn, org_id)
            tenancy.set_budget(conn, org_id, period, usd_to_micros(limit_usd), self.clock.now())

    @staticmethod
    def _org(conn: sa.Connection, org_id: str) -> tenancy.OrgRow:
        org = tenancy.get_org(conn, org_id)
        if org is None:
            raise NotFound(f"no org {org_id!r}")
        return org
