"""Console sessions and one-time sign-in links: opaque, hashed, expiring, revocable, audited.

A session is what a signed-in browser holds: a random value (``ovs_...``) in its cookie, of
which the database keeps only the SHA-256 hash. It ends on sign-out, on revocation, after
``console_session_idle_s`` unused and in any case ``console_session_max_s`` after sign-in; it
proves nothing once its org or user is removed. It is not an API token: ``/v1`` refuses it.

A sign-in link carries a code (``ovl_...``, hashed too), bound to one user; it works once,
within ``signin_link_ttl_s`` of being made. Spending it and opening the session it leads to
happen in one transaction, so two clicks on one link open one session.

Signing in and out, issuing and using links and revoking sessions are recorded in the audit log
with who did it; never a secret.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from overture.clock import Clock
from overture.engine.audit import audit_row
from overture.errors import NotFound, OvertureError, ValidationFailed
from overture.ids import new_id
from overture.storage.queries import console_sessions as sessionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import tenancy
from overture.storage.queries.console_sessions import LinkRow, SessionRow
from overture.storage.store import Store

SESSION_PREFIX = "ovs_"
LINK_PREFIX = "ovl_"
#: How often a session's last use is written down: enough for an idle lifetime in hours or days.
TOUCH_EVERY = timedelta(seconds=60)
VIAS = ("token", "link")
LINK_VIAS = ("cli", "email", "slack", "api")
_UA_CHARS = 200


def digest(secret: str) -> str:
    """What the database keeps of a session's value or a link's code (256 random bits: a fast
    hash is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Lifetimes:
    """How long sessions and links last (from the settings)."""

    idle: timedelta
    absolute: timedelta
    link: timedelta

    @classmethod
    def of(cls, idle_s: float, absolute_s: float, link_s: float) -> Lifetimes:
        return cls(timedelta(seconds=idle_s), timedelta(seconds=absolute_s), timedelta(seconds=link_s))


def session_state(row: SessionRow, now: datetime, idle: timedelta) -> str:
    """``active``, ``expired`` (idle too long, or past its absolute end), or how it ended
    (``signed_out``, ``revoked``, ``replaced``)."""
    if row.ended_at is not None:
        return row.ended_reason or "ended"
    if now >= row.expires_at or now >= row.last_seen_at + idle:
        return "expired"
    return "active"


class LinkRefused(OvertureError):
    """A sign-in link that cannot sign anyone in; ``reason`` is unknown, used, expired or gone."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Opened:
    """A session just opened: ``secret`` goes into the cookie and is never stored."""

    session: SessionRow
    secret: str


@dataclass(frozen=True)
class IssuedLink:
    """A link just made: ``code`` goes into the URL and is never stored."""

    link: LinkRow
    code: str


@dataclass
class ConsoleSessions:
    """Open, find, end, revoke and list console sessions; issue and spend sign-in links."""

    store: Store
    clock: Clock
    lifetimes: Lifetimes

    # -- sessions -----------------------------------------------------------------------------

    def open(self, org_id: str, user_id: str, via: str, user_agent: str | None = None) -> Opened:
        """Open a session for a person who just proved who they are (a token, or a link)."""
        if via not in VIAS:
            raise ValidationFailed(f"via: one of {', '.join(VIAS)}")
        now = self.clock.now()
        with self.store.write() as conn:
            if tenancy.get_user(conn, user_id, org_id) is None:
                raise NotFound(f"no user {user_id!r} in org {org_id!r}")
            return self._open(conn, org_id, user_id, via, user_agent, now)

    def _open(
        self, conn: sa.Connection, org_id: str, user_id: str, via: str, user_agent: str | None, now: datetime
    ) -> Opened:
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        row = SessionRow(
            id=new_id(),
            org_id=org_id,
            user_id=user_id,
            via=via,
            user_agent=(user_agent or "").strip()[:_UA_CHARS] or None,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.lifetimes.absolute,
        )
        sessionq.insert_session(conn, row, digest(secret))
        audit = audit_row(
            now, "console_signed_in", via, org_id=org_id, actor=user_id, user_id=user_id, session_id=row.id
        )
        jobq.insert_audit(conn, [audit])
        return Opened(row, secret)

    def resolve(self, secret: str) -> SessionRow | None:
        """The live session a cookie's value names, or None (unknown, ended, expired, or its
        person removed). Its last use is written down at most once a minute."""
        if not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
            return None
        now = self.clock.now()
        with self.store.read() as conn:
            found = sessionq.session_by_hash(conn, digest(secret))
        if found is None or found[1]:
            return None
        row = found[0]
        if session_state(row, now, self.lifetimes.idle) != "active":
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            with self.store.write() as conn:
                sessionq.touch_session(conn, row.id, now)
            row = replace(row, last_seen_at=now)
        return row

    def sign_out(self, secret: str, reason: str = "signed_out") -> SessionRow | None:
        """End the session this cookie value names (sign-out, or a new sign-in replacing it)."""
        if not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
            return None
        now = self.clock.now()
        with self.store.write() as conn:
            found = sessionq.session_by_hash(conn, digest(secret))
            if found is None:
                return None
            row = found[0]
            if not sessionq.end_session(conn, row.id, now, reason, row.user_id):
                return None
            audit = audit_row(
                now,
                "console_signed_out",
                reason,
                org_id=row.org_id,
                actor=row.user_id,
                user_id=row.user_id,
                session_id=row.id,
            )
            jobq.insert_audit(conn, [audit])
            return sessionq.get_session(conn, row.id)

    def revoke(self, session_id: str, by: str, *, org_id: str | None = None) -> SessionRow:
        """Revoke a session (its person, an admin, or the CLI); again changes nothing. With
        ``org_id``, a session of another org is not found."""
        now = self.clock.now()
        with self.store.write() as conn:
            row = sessionq.get_session(conn, session_id)
            if row is None or org_id not in (None, row.org_id):
                raise NotFound(f"no session {session_id!r}")
            if sessionq.end_session(conn, row.id, now, "revoked", by):
                audit = audit_row(
                    now,
                    "console_session_revoked",
                    "revoked",
                    org_id=row.org_id,
                    actor=by,
                    user_id=row.user_id,
                    session_id=row.id,
                )
                jobq.insert_audit(conn, [audit])
            fresh = sessionq.get_session(conn, row.id)
        assert fresh is not None
        return fresh

    def of_person(
        self, org_id: str, user_id: str, *, include_ended: bool = False
    ) -> list[tuple[SessionRow, str]]:
        """A person's sessions, newest first, each with its state; by default the active ones."""
        now = self.clock.now()
        with self.store.read() as conn:
            if tenancy.get_user(conn, user_id, org_id, include_removed=True) is None:
                raise NotFound(f"no user {user_id!r} in org {org_id!r}")
            rows = sessionq.sessions_of(conn, org_id, user_id, open_only=not include_ended)
        shown = [(r, session_state(r, now, self.lifetimes.idle)) for r in rows]
        return shown if include_ended else [(r, s) for r, s in shown if s == "active"]

    def get(self, session_id: str) -> SessionRow:
        with self.store.read() as conn:
            row = sessionq.get_session(conn, session_id)
        if row is None:
            raise NotFound(f"no session {session_id!r}")
        return row

    # -- one-time links -----------------------------------------------------------------------

    def issue_link(self, user_id: str, org_id: str | None, *, via: str, by: str) -> IssuedLink:
        """Make a one-time link for a person (who must still be there)."""
        if via not in LINK_VIAS:
            raise ValidationFailed(f"via: one of {', '.join(LINK_VIAS)}")
        now = self.clock.now()
        code = LINK_PREFIX + secrets.token_urlsafe(32)
        with self.store.write() as conn:
            user = tenancy.get_user(conn, user_id, org_id)
            if user is None or tenancy.get_org(conn, user.org_id) is None:
                where = f" in org {org_id!r}" if org_id else ""
                raise NotFound(f"no user {user_id!r}{where}")
            row = LinkRow(
                id=new_id(),
                org_id=user.org_id,
                user_id=user.id,
                issued_via=via,
                issued_by=by,
                created_at=now,
                expires_at=now + self.lifetimes.link,
            )
            sessionq.insert_link(conn, row, digest(code))
            audit = audit_row(
                now, "signin_link_issued", via, org_id=row.org_id, actor=by, user_id=user.id, link_id=row.id
            )
            jobq.insert_audit(conn, [audit])
        return IssuedLink(row, code)

    def check_link(self, code: str) -> LinkRow:
        """The link this code names while it can still sign in, or LinkRefused saying why not."""
        now = self.clock.now()
        with self.store.read() as conn:
            return self._usable(conn, code, now)

    def _usable(self, conn: sa.Connection, code: str, now: datetime) -> LinkRow:
        found = None
        if code.startswith(LINK_PREFIX) and len(code) <= 100:
            found = sessionq.link_by_hash(conn, digest(code))
        if found is None:
            raise LinkRefused("unknown", "This sign-in link is not valid. Ask for a new one.")
        row, gone = found
        if row.used_at is not None:
            raise LinkRefused(
                "used", "This sign-in link was already used: each link works once. Ask for a new one."
            )
        if now >= row.expires_at:
            raise LinkRefused("expired", "This sign-in link has expired. Ask for a new one.")
        if gone:
            raise LinkRefused("gone", "This sign-in link's account no longer exists.")
        return row

    def redeem(self, code: str, user_agent: str | None = None) -> Opened:
        """Spend a link and open a session for its person, or LinkRefused saying why not."""
        now = self.clock.now()
        with self.store.write() as conn:
            row = self._usable(conn, code, now)
            opened = self._open(conn, row.org_id, row.user_id, "link", user_agent, now)
            if not sessionq.use_link(conn, row.id, now, opened.session.id):
                # Spent by a simultaneous click: this transaction (and its session) is undone.
                raise LinkRefused(
                    "used", "This sign-in link was already used: each link works once. Ask for a new one."
                )
            audit = audit_row(
                now,
                "signin_link_used",
                row.issued_via,
                org_id=row.org_id,
                actor=row.user_id,
                user_id=row.user_id,
                link_id=row.id,
                session_id=opened.session.id,
            )
            jobq.insert_audit(conn, [audit])
        return opened

    def people_with_email(self, email: str) -> list[tuple[str, str]]:
        """The (org, user) ids of people still there with this address (at most five)."""
        with self.store.read() as conn:
            return sessionq.users_by_email(conn, email)
