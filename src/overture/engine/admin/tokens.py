"""API tokens: made at random, shown once, stored only as a SHA-256 hash.

A token is scoped to one org (and optionally one user of it), or is an admin token that
sees every org. The scope rules are pure methods of :class:`Principal`, the identity a
token proves; :class:`Tokens` makes, revokes and checks tokens against the store.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from overture.clock import Clock
from overture.errors import Forbidden, InvalidToken, NotFound, ValidationFailed
from overture.ids import new_id
from overture.storage.queries import tenancy
from overture.storage.queries import tokens as tokenq
from overture.storage.queries.tokens import TokenRow
from overture.storage.store import Store

PREFIX = "ov_"
_SECRET_BYTES = 32
_SHAPE = re.compile(r"^ov_[A-Za-z0-9_-]{43}$")


def check_shape(secret: str) -> None:
    """Refuse a token that cannot be one, before any lookup."""
    if not _SHAPE.match(secret):
        raise InvalidToken("malformed token: expected ov_ followed by 43 URL-safe characters")


def new_secret() -> str:
    """A fresh token: ``ov_`` and 32 random bytes, URL-safe base64 (43 characters)."""
    return PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a token: what the database keeps instead of the token.

    A token carries 256 random bits, so a fast hash is enough: there is nothing to guess.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the token's scope, checked by the pure methods below."""

    token_id: str
    org_id: str | None
    user_id: str | None = None
    is_admin: bool = False

    @classmethod
    def of(cls, token: TokenRow) -> Principal:
        return cls(token.id, token.org_id, token.user_id, token.is_admin)

    def org_filter(self, requested: str | None) -> str | None:
        """The org a listing is limited to: the token's own, or for an admin the one asked for."""
        if self.is_admin:
            return requested
        if requested is not None and requested != self.org_id:
            raise Forbidden(f"org_id: this token is scoped to org {self.org_id!r}")
        return self.org_id

    def check_emit(self, org_id: str, user_id: str) -> None:
        """Refuse an event this token may not send (another org, or another user of its org)."""
        if self.is_admin:
            return
        if org_id != self.org_id:
            raise Forbidden(f"org_id: this token may only send events for org {self.org_id!r}")
        if self.user_id is not None and user_id != self.user_id:
            raise Forbidden(f"user_id: this token may only send events for user {self.user_id!r}")

    def decider(self, decided_by: str | None) -> str:
        """Who a decision is recorded as: the token's user, or the user the request names."""
        if self.user_id is not None:
            if decided_by is not None and decided_by != self.user_id:
                raise Forbidden(f"decided_by: this token decides as user {self.user_id!r} only")
            return self.user_id
        if decided_by is None:
            raise ValidationFailed(
                "decided_by: required, because this token is not tied to a user; name the deciding user"
            )
        return decided_by

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this needs an admin token")


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: ``secret`` is shown now and never again."""

    token: TokenRow
    secret: str


@dataclass
class Tokens:
    """Make, list, revoke and check API tokens."""

    store: Store
    clock: Clock

    def create(
        self,
        org_id: str | None,
        user_id: str | None = None,
        *,
        admin: bool = False,
        name: str | None = None,
    ) -> IssuedToken:
        """Make a token for an org (optionally one of its users), or an admin token for all orgs."""
        if admin and (org_id or user_id):
            raise ValidationFailed("admin: an admin token sees every org; do not give an org or a user")
        if not admin and not org_id:
            raise ValidationFailed("org: a token needs an org (or must be an admin token)")
        label = (name or "").strip() or ("admin" if admin else "/".join(x for x in (org_id, user_id) if x))
        if len(label) > 200:
            raise ValidationFailed("name: at most 200 characters")
        row = TokenRow(
            id=new_id(),
            org_id=org_id,
            user_id=user_id,
            name=label,
            is_admin=admin,
            created_at=self.clock.now(),
        )
        secret = new_secret()
        with self.store.write() as conn:
            if org_id is not None and tenancy.get_org(conn, org_id) is None:
                raise NotFound(f"no org {org_id!r}")
            if user_id is not None and tenancy.get_user(conn, user_id, org_id) is None:
                raise NotFound(f"no user {user_id!r} in org {org_id!r}")
            tokenq.insert_token(conn, row, hash_secret(secret))
        return IssuedToken(row, secret)

    def revoke(self, token_id: str) -> TokenRow:
        """Revoke a token; revoking it again changes nothing and returns when it was revoked."""
        with self.store.write() as conn:
            tokenq.revoke_token(conn, token_id, self.clock.now())
            row = tokenq.get_token(conn, token_id)
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        return row

    def list(self, org_id: str | None = None) -> list[TokenRow]:
        with self.store.read() as conn:
            return tokenq.list_tokens(conn, org_id)

    def authenticate(self, secret: str) -> Principal:
        """The principal a presented token proves, or InvalidToken saying precisely why not."""
        check_shape(secret)
        with self.store.read() as conn:
            return self.authenticate_in(conn, secret)

    @staticmethod
    def authenticate_in(conn: sa.Connection, secret: str) -> Principal:
        """``authenticate`` inside the caller's transaction (an ingest's: one transaction for
        the token and the event it sends)."""
        found = tokenq.find_for_auth(conn, hash_secret(secret))
        if found is None:
            raise InvalidToken("unknown token")
        row, gone = found
        if row.revoked_at is not None:
            raise InvalidToken(f"token {row.id} was revoked at {row.revoked_at.isoformat()}")
        if gone is not None:
            raise InvalidToken(f"token {row.id} no longer proves anything: its {gone}")
        return Principal.of(row)
