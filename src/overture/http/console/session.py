"""Who is looking at the console: a server-side session named by an opaque cookie.

Signing in (a personal API token, or a one-time link) opens a session (see
``overture.engine.admin.console_sessions``); the cookie holds only its random value, which the
API does not accept as a token. The cookie is ``HttpOnly`` (scripts cannot read it),
``SameSite=Lax`` (a link from Slack or an email opens signed in; another site's form posts
without it) and ``Secure`` over HTTPS. Every form that changes something also carries a CSRF
token derived from the session's value, checked in constant time; the sign-in forms, which have
no session yet, carry a random value that must match a short-lived strict cookie.

The console's routers depend on :func:`signed_in`: a page asked for without a session is
redirected to sign-in with where it was going (``next``), so the person lands there after.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from overture.app import App
from overture.http.console.urls import signin_url
from overture.storage.queries import tenancy

SESSION_COOKIE = "overture_session"
SIGNIN_COOKIE = "overture_signin"
_CSRF_LABEL = b"overture-console-csrf"
_UNSEEN = object()


def csrf_for(secret: str) -> str:
    """The CSRF token of a session: an HMAC keyed by the session's secret value."""
    return hmac.new(secret.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: their user row, their session, and the CSRF token of their forms."""

    user: tenancy.UserRow
    csrf: str
    session_id: str

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


def _resolve(app: App, secret: str) -> Viewer | None:
    session = app.sessions.resolve(secret)
    if session is None:
        return None
    with app.store.read() as conn:
        user = tenancy.get_user(conn, session.user_id, session.org_id)
    return Viewer(user, csrf_for(secret), session.id) if user is not None else None


def viewer_of(request: Request) -> Viewer | None:
    """The signed-in viewer, or None (no cookie; a session ended, expired or unknown). Looked up
    once per request."""
    seen = getattr(request.state, "console_viewer", _UNSEEN)
    if seen is not _UNSEEN:
        return seen  # type: ignore[return-value]
    secret = request.cookies.get(SESSION_COOKIE)
    viewer = _resolve(request.app.state.overture, secret) if secret else None
    request.state.console_viewer = viewer
    return viewer


class SignInRequired(Exception):
    """A page was asked for without a session: answered by a redirect to sign-in."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def _is_page(request: Request) -> bool:
    """A navigation worth sending to sign-in: a GET that is not an asset or an event stream."""
    if request.method not in ("GET", "HEAD") or request.url.path.startswith("/static/"):
        return False
    return "text/event-stream" not in request.headers.get("accept", "")


def signed_in(request: Request) -> None:
    """Router dependency of the console's pages: resolve the viewer, and send a page view
    without one to sign-in, remembering the page. Forms and streams decide for themselves."""
    if viewer_of(request) is None and _is_page(request):
        query = request.url.query
        raise SignInRequired(request.url.path + (f"?{query}" if query else ""))


def _to_signin(request: Request, exc: Exception) -> Response:
    target = exc.target if isinstance(exc, SignInRequired) else "/"
    return RedirectResponse(signin_url(target), status_code=303)


def install(api: FastAPI) -> None:
    """Answer SignInRequired with the redirect to sign-in."""
    api.add_exception_handler(SignInRequired, _to_signin)


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, secret: str, max_age_s: float) -> None:
    """Set the session cookie (kept by the browser until the session's absolute end)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(max_age_s),
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/")


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure(request))


def signin_nonce(request: Request) -> str:
    """The value the sign-in forms must send back: the cookie's, or a new one."""
    return request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)


def keep_nonce(request: Request, response: Response, nonce: str) -> None:
    """Keep the sign-in forms' value in a cookie for ten minutes."""
    response.set_cookie(
        SIGNIN_COOKIE, nonce, max_age=600, httponly=True, samesite="strict", secure=secure(request), path="/"
    )
