"""Named operations on API tokens. Only the SHA-256 hash of a token is ever stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from overture.storage.driver import Driver
from overture.storage.tables.orchestrator import api_tokens


@dataclass(frozen=True)
class TokenRow:
    """A token as stored, without its hash: safe to list and print."""

    id: str
    org_id: str | None
    user_id: str | None
    name: str
    is_admin: bool
    created_at: datetime
    revoked_at: datetime | None = None


_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.org_id,
    api_tokens.c.user_id,
    api_tokens.c.name,
    api_tokens.c.is_admin,
    api_tokens.c.created_at,
    api_tokens.c.revoked_at,
)
_BY_ID = sa.select(*_COLUMNS).where(api_tokens.c.id == sa.bindparam("token_id"))


# With the token, whether its org and user are still there: a token of a removed (or deleted)
# org or user proves nothing. Every API request runs it, so it is prepared SQL on the driver.
_NAMES = tuple(c.name for c in _COLUMNS)
_FOR_AUTH = (
    f"SELECT {', '.join('t.' + n for n in _NAMES)}, o.id, o.removed_at, u.id, u.removed_at "
    "FROM api_tokens t LEFT JOIN orgs o ON o.id = t.org_id LEFT JOIN users u ON u.id = t.user_id "
    "WHERE t.token_hash = {p}"
)


def _row(row: Mapping[Any, Any]) -> TokenRow:
    return TokenRow(
        id=row["id"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        name=row["name"],
        is_admin=bool(row["is_admin"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def insert_token(conn: sa.Connection, token: TokenRow, token_hash: str) -> None:
    conn.execute(sa.insert(api_tokens).values(**token.__dict__, token_hash=token_hash))


def find_for_auth(conn: sa.Connection, token_hash: str) -> tuple[TokenRow, str | None] | None:
    """The token whose secret hashes to ``token_hash``, and what of its owners is gone (None:
    its org and user, if it names them, are still there), in one read."""
    row = Driver.under(conn).first(_FOR_AUTH, (token_hash,))
    if row is None:
        return None
    token = _row(Driver.decode(api_tokens, _NAMES, row[: len(_NAMES)]))
    org_found, org_removed, user_found, user_removed = row[len(_NAMES) :]
    gone = None
    if token.org_id is not None and (org_found is None or org_removed is not None):
        gone = f"org {token.org_id} is gone"
    elif token.user_id is not None and (user_found is None or user_removed is not None):
        gone = f"user {token.user_id} is gone"
    return token, gone


def get_token(conn: sa.Connection, token_id: str) -> TokenRow | None:
    row = conn.execute(_BY_ID, {"token_id": token_id}).mappings().first()
    return _row(row) if row else None


def list_tokens(conn: sa.Connection, org_id: str | None = None) -> list[TokenRow]:
    """Tokens, oldest first; with ``org_id``, only that org's."""
    q = sa.select(*_COLUMNS).order_by(api_tokens.c.created_at, api_tokens.c.id)
    if org_id is not None:
        q = q.where(api_tokens.c.org_id == org_id)
    return [_row(r) for r in conn.execute(q).mappings()]


def revoke_token(conn: sa.Connection, token_id: str, at: datetime) -> bool:
    """Revoke a live token; False when there is no such token or it was already revoked."""
    result = conn.execute(
        sa.update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount == 1


def revoke_owned(conn: sa.Connection, org_id: str, user_id: str | None, at: datetime) -> int:
    """Revoke every live token of an org (or of one user of it); how many were revoked."""
    q = sa.update(api_tokens).where(api_tokens.c.org_id == org_id, api_tokens.c.revoked_at.is_(None))
    if user_id is not None:
        q = q.where(api_tokens.c.user_id == user_id)
    return int(conn.execute(q.values(revoked_at=at)).rowcount)
