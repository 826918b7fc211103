"""Signing in and out of the console, one-time links, and a person's list of their sessions.

``/signin`` takes a personal API token (admins, testing) or sends a one-time link by email;
``/signin/link?code=...`` shows whose link it is and signs in with one click (a GET never spends
a link, so mail scanners and link previews that open it change nothing). Either way the person
lands on ``next``, the page they were sent to sign in from, when it is a path on this site.
``/signout`` ends the session on the server, not only in the browser. ``/sessions`` lists the
person's open sessions and revokes any of them.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from overture.app import App
from overture.engine.admin.console_sessions import LinkRefused, session_state
from overture.engine.admin.tenancy import EMAIL_PATTERN
from overture.errors import InvalidToken, NotFound
from overture.http.console import agents, signin_mail
from overture.http.console.pages import render
from overture.http.console.session import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    end_session,
    keep_nonce,
    same,
    signed_in,
    signin_nonce,
    start_session,
    viewer_of,
)
from overture.http.console.urls import safe_next
from overture.http.throttle import Throttle, client_address
from overture.storage.queries import tenancy

router = APIRouter(include_in_schema=False)
Field = Annotated[str | None, Form()]
_EMAIL = re.compile(EMAIL_PATTERN)
_EXPIRED_FORM = "The sign-in form expired; please try again."
_STALE = "This form is out of date (signed out, or signed in again since). Go back, reload and retry."


def _app(request: Request) -> App:
    app: App = request.app.state.overture
    return app


def _page(
    request: Request,
    status: int = 200,
    *,
    next_path: str | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    app = _app(request)
    nonce = signin_nonce(request)
    response = render(
        request,
        "signin.html",
        status,
        viewer=None,
        error=error,
        notice=notice,
        nonce=nonce,
        next=safe_next(next_path) or "",
        can_email=signin_mail.server(app) is not None,
        slack=app.settings.slack_signing_secret is not None,
        minutes=round(app.settings.signin_link_ttl_s / 60),
    )
    keep_nonce(request, response, nonce)
    return response


def _signed_in(request: Request, opened_secret: str, next_path: str | None) -> Response:
    """Land where the person was going, with the new session's cookie; a session this browser
    had before is ended (it is replaced)."""
    app = _app(request)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous and previous != opened_secret:
        app.sessions.sign_out(previous, reason="replaced")
    response = RedirectResponse(safe_next(next_path) or "/", status_code=303)
    start_session(request, response, opened_secret, app.settings.console_session_max_s)
    return response


def _form_ok(request: Request, nonce: str | None) -> bool:
    return same(nonce, request.cookies.get(SIGNIN_COOKIE) or "")


def _throttled(
    request: Request, secret: str | None, next_path: str | None
) -> tuple[Throttle, str, Response | None]:
    """The service's throttle, the client's address, and the 429 page when it is locked out
    (failed tokens and link codes count together, per address and per secret's prefix)."""
    throttle: Throttle = request.app.state.throttle
    address = client_address(request.client)
    wait = throttle.retry_after("console", address, secret)
    if wait is None:
        return throttle, address, None
    error = f"Too many failed sign-ins from here; try again in {wait} s."
    page = _page(request, 429, next_path=next_path, error=error)
    page.headers["Retry-After"] = str(wait)
    return throttle, address, page


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    """The sign-in page; someone already signed in goes straight on."""
    if viewer_of(request) is not None:
        return RedirectResponse(safe_next(next) or "/", status_code=303)
    return _page(request, next_path=next)


@router.post("/signin")
def signin(request: Request, token: Field = None, nonce: Field = None, next: Field = None) -> Response:
    """Check a personal token and open a session; a token that cannot sign in is said why."""
    if not _form_ok(request, nonce):
        return _page(request, 400, next_path=next, error=_EXPIRED_FORM)
    throttle, address, refused = _throttled(request, token, next)
    if refused is not None:
        return refused
    app = _app(request)
    secret = (token or "").strip()
    try:
        principal = app.tokens.authenticate(secret)
        if principal.user_id is None or principal.org_id is None:
            raise InvalidToken("this token is not a person's: sign in with a token made with --user")
        opened = app.sessions.open(
            principal.org_id, principal.user_id, "token", request.headers.get("user-agent")
        )
    except (InvalidToken, NotFound) as exc:
        throttle.failed("console", address, token)
        return _page(request, 401, next_path=next, error=f"Cannot sign in: {exc}")
    return _signed_in(request, opened.secret, next)


@router.post("/signin/email")
def email_link(
    request: Request,
    background: BackgroundTasks,
    email: Field = None,
    nonce: Field = None,
    next: Field = None,
) -> Response:
    """Email a one-time link to the person with this address. The answer is the same whether
    or not there is one; the sending happens after answering."""
    if not _form_ok(request, nonce):
        return _page(request, 400, next_path=next, error=_EXPIRED_FORM)
    app = _app(request)
    if signin_mail.server(app) is None:
        return _page(request, 404, next_path=next, error="Sign-in links are not sent by email here.")
    address = (email or "").strip()
    if len(address) > 320 or not _EMAIL.fullmatch(address):
        return _page(request, 422, next_path=next, error="Enter your email address, like ana@example.com.")
    requests: signin_mail.Requests = request.app.state.signin_requests
    wait = requests.wait(client_address(request.client), address)
    if wait is not None:
        page = _page(request, 429, next_path=next, error=f"Too many links asked for; try again in {wait} s.")
        page.headers["Retry-After"] = str(wait)
        return page
    background.add_task(signin_mail.send_links, app, address, safe_next(next))
    minutes = round(app.settings.signin_link_ttl_s / 60)
    notice = (
        f"If {address} is the address of someone here, a sign-in link is on its way to it. "
        f"It works once, within {minutes} minutes."
    )
    return _page(request, next_path=next, notice=notice)


def _link_page(request: Request, code: str, next_path: str | None, status: int = 200) -> Response:
    app = _app(request)
    nonce = signin_nonce(request)
    try:
        link = app.sessions.check_link(code)
    except LinkRefused as exc:
        status = 404 if exc.reason == "unknown" else 410
        response = render(request, "link.html", status, viewer=None, error=str(exc), who=None, org=None)
    else:
        with app.store.read() as conn:
            user = tenancy.get_user(conn, link.user_id, link.org_id)
            org = tenancy.get_org(conn, link.org_id)
        response = render(
            request,
            "link.html",
            status,
            viewer=None,
            error=None,
            who=user.name if user else link.user_id,
            org=org.name if org else link.org_id,
            code=code,
            nonce=nonce,
            next=safe_next(next_path) or "",
        )
    keep_nonce(request, response, nonce)
    return response


@router.get("/signin/link")
def link_page(request: Request, code: str = "", next: str | None = None) -> Response:
    """Whose link this is, and a button to sign in (opening the link spends nothing)."""
    return _link_page(request, code, next)


@router.post("/signin/link")
def use_link(request: Request, code: Field = None, nonce: Field = None, next: Field = None) -> Response:
    """Spend the link and open a session; a used, expired or unknown link is said so."""
    if not _form_ok(request, nonce):
        return _link_page(request, code or "", next, 400)
    throttle, address, refused = _throttled(request, code, next)
    if refused is not None:
        return refused
    try:
        opened = _app(request).sessions.redeem(code or "", request.headers.get("user-agent"))
    except LinkRefused as exc:
        if exc.reason == "unknown":
            throttle.failed("console", address, code)
        status = 404 if exc.reason == "unknown" else 410
        return render(request, "link.html", status, viewer=None, error=str(exc), who=None, org=None)
    return _signed_in(request, opened.secret, next)


@router.post("/signout")
def signout(request: Request, csrf: Field = None) -> Response:
    """End the session on the server and in the browser; a form without its CSRF token is
    refused and ends nothing."""
    viewer = viewer_of(request)
    if viewer is None:
        response = RedirectResponse("/signin", status_code=303)
        end_session(request, response)
        return response
    if not same(csrf, viewer.csrf):
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=_STALE)
    _app(request).sessions.sign_out(request.cookies.get(SESSION_COOKIE) or "")
    response = RedirectResponse("/signin", status_code=303)
    end_session(request, response)
    return response


# -- a person's own sessions ------------------------------------------------------------------


@router.get("/sessions", dependencies=[Depends(signed_in)])
def sessions_page(request: Request) -> Response:
    """The viewer's open sessions, this one marked, each with a Revoke button."""
    viewer = viewer_of(request)
    assert viewer is not None  # signed_in sent everyone else to sign in
    app = _app(request)
    rows = app.sessions.of_person(viewer.org_id, viewer.user_id)
    return render(
        request,
        "sessions.html",
        viewer=viewer,
        sessions=[r for r, _state in rows],
        current=viewer.session_id,
        devices={r.id: agents.describe(r.user_agent) for r, _state in rows},
        idle_end={r.id: r.last_seen_at + app.sessions.lifetimes.idle for r, _state in rows},
    )


@router.post("/sessions/{session_id}/revoke")
def revoke(request: Request, session_id: str, csrf: Field = None) -> Response:
    """Revoke one of the viewer's own sessions (this one too: that signs out here)."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/signin", status_code=303)
    if not same(csrf, viewer.csrf):
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=_STALE)
    app = _app(request)
    try:
        row = app.sessions.get(session_id)
        if (row.org_id, row.user_id) != (viewer.org_id, viewer.user_id):
            raise NotFound(session_id)
    except NotFound:
        message = "There is no such session of yours."
        return render(request, "error.html", 404, viewer=viewer, title="Not found", message=message)
    if session_state(row, app.clock.now(), app.sessions.lifetimes.idle) == "active":
        app.sessions.revoke(session_id, viewer.user_id)
    if session_id == viewer.session_id:
        response = RedirectResponse("/signin", status_code=303)
        end_session(request, response)
        return response
    return RedirectResponse("/sessions", status_code=303)
