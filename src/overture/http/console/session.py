"""Who is looking at the console: sign-in with a per-user API token, kept in a cookie.

The token a person signs in with is their own (``overture tokens create --org O --user U``);
org and admin tokens are refused, because the inbox is one person's. It is kept in an
``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` over HTTPS), so scripts cannot read it and
other sites cannot send it. Every form that changes something also carries a CSRF token
derived from the session's secret, checked in constant time; the sign-in form, which has no
session yet, is protected by a random value in a short-lived cookie that must match the form's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from overture.app import App
from overture.engine.admin.tokens import InvalidToken, Principal
from overture.storage.queries import tenancy

SESSION_COOKIE = "overture_session"
SIGNIN_COOKIE = "overture_signin"
_CSRF_LABEL = b"overture-console-csrf"


def csrf_for(secret: str) -> str:
    """The CSRF token of a session: an HMAC keyed by the session's secret token."""
    return hmac.new(secret.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: their token's scope and their user row."""

    principal: Principal
    user: tenancy.UserRow
    csrf: str

    @property
    def org_id(self) -> str:
        return self.user.org_id

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"

    def may_decide(self, owner_id: str) -> bool:
        return self.user_id == owner_id or self.is_admin


def _viewer(app: App, secret: str) -> Viewer:
    """The viewer a token proves, or InvalidToken saying why it cannot sign in."""
    principal = app.tokens.authenticate(secret.strip())
    if principal.user_id is None or principal.org_id is None:
        raise InvalidToken("this token is not a person's: sign in with a token made with --user")
    with app.store.read() as conn:
        user = tenancy.get_user(conn, principal.user_id, principal.org_id)
    if user is None:
        raise InvalidToken("this token's user no longer exists")
    return Viewer(principal, user, csrf_for(secret.strip()))


def viewer_of(request: Request) -> Viewer | None:
    """The signed-in viewer, or None (no cookie, or a token revoked since)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    try:
        return _viewer(request.app.state.overture, secret)
    except InvalidToken:
        return None


def sign_in(app: App, secret: str) -> Viewer:
    """Check a token typed into the sign-in form; raises InvalidToken with the reason."""
    return _viewer(app, secret)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret.strip(),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/")


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request)
    )


def signin_nonce(request: Request) -> str:
    """The value the sign-in form must send back: the cookie's, or a new one."""
    return request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)


def keep_nonce(request: Request, response: Response, nonce: str) -> None:
    """Keep the sign-in form's value in a cookie for ten minutes."""
    response.set_cookie(
        SIGNIN_COOKIE, nonce, max_age=600, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )
