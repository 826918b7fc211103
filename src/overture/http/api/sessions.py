"""A person's console sessions over /v1: list them, revoke one; and one-time sign-in links.

Allowed to an admin token, to the person's own token, and to a token of an admin of their org;
another org's person is not found. Org-wide tokens (systems, not people) are refused. Issuing a
sign-in link over the API is for admin tokens only (it signs someone in), and answers the link
once, like ``overture tokens create`` answers a token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from overture.engine.admin.console_sessions import session_state
from overture.engine.admin.tokens import Principal
from overture.errors import Forbidden, NotFound
from overture.http.api.models import ID_PATTERN
from overture.http.auth import AppDep, Auth
from overture.http.console.urls import link_url
from overture.http.problem import problems
from overture.storage.queries import tenancy
from overture.storage.queries.console_sessions import SessionRow

router = APIRouter(prefix="/v1", tags=["sessions"])

OrgId = Annotated[str, Path(pattern=ID_PATTERN, description="An org id.")]
UserId = Annotated[str, Path(pattern=ID_PATTERN, description="A user id.")]
SessionId = Annotated[str, Path(pattern=ID_PATTERN, description="A console session id.")]


class ConsoleSession(BaseModel):
    """One browser signed in to the console (never its cookie: only a hash of it is kept)."""

    id: str
    org_id: str
    user_id: str
    via: str = Field(description="How the person signed in: `token` or `link`.")
    user_agent: str | None
    state: str = Field(
        description="`active`, `expired`, or how it ended: `signed_out`, `revoked`, `replaced`."
    )
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime = Field(description="Its absolute end; unused, it ends sooner (the idle lifetime).")
    ended_at: datetime | None
    ended_reason: str | None
    ended_by: str | None


class SessionList(BaseModel):
    items: list[ConsoleSession]


class SigninLink(BaseModel):
    """A one-time sign-in link, shown now and never again."""

    link_id: str
    user_id: str
    org_id: str
    code: str = Field(description="The link's secret; the link is `{console_url}/signin/link?code=...`.")
    url: str | None = Field(description="The whole link, when `console_url` is set.")
    expires_at: datetime


def _session(row: SessionRow, state: str) -> dict[str, Any]:
    return {**row.__dict__, "state": state}


def _check(principal: Principal, app: AppDep, org_id: str, user_id: str) -> None:
    """Refuse anyone but an admin token, the person's own token or an admin of their org."""
    if principal.is_admin:
        return
    if principal.org_id != org_id:
        raise NotFound(f"no user {user_id!r} in org {org_id!r}")
    if principal.user_id == user_id:
        return
    if principal.user_id is not None:
        with app.store.read() as conn:
            asker = tenancy.get_user(conn, principal.user_id, org_id)
        if asker is not None and asker.role == "admin":
            return
    raise Forbidden("only the person themselves, an admin of their org or an admin token may do this")


def _actor(principal: Principal) -> str:
    return principal.user_id or f"token:{principal.token_id}"


@router.get(
    "/orgs/{org_id}/users/{user_id}/sessions",
    response_model=SessionList,
    summary="A person's console sessions",
    responses=problems(401, 403, 404, 422),
)
def list_sessions(
    org_id: OrgId,
    user_id: UserId,
    principal: Auth,
    app: AppDep,
    include_ended: Annotated[bool, Query(description="Also those ended or expired.")] = False,
) -> dict[str, Any]:
    """Newest first; by default only the active ones."""
    _check(principal, app, org_id, user_id)
    rows = app.sessions.of_person(org_id, user_id, include_ended=include_ended)
    return {"items": [_session(r, s) for r, s in rows]}


@router.post(
    "/orgs/{org_id}/users/{user_id}/sessions/{session_id}/revoke",
    response_model=ConsoleSession,
    summary="Revoke a console session",
    responses=problems(401, 403, 404, 422),
)
def revoke_session(
    org_id: OrgId, user_id: UserId, session_id: SessionId, principal: Auth, app: AppDep
) -> dict[str, Any]:
    """The browser holding it is signed out at once; revoking it again changes nothing."""
    _check(principal, app, org_id, user_id)
    row = app.sessions.get(session_id)
    if (row.org_id, row.user_id) != (org_id, user_id):
        raise NotFound(f"no session {session_id!r} of user {user_id!r}")
    if session_state(row, app.clock.now(), app.sessions.lifetimes.idle) == "active":
        row = app.sessions.revoke(session_id, _actor(principal))
    return _session(row, session_state(row, app.clock.now(), app.sessions.lifetimes.idle))


@router.post(
    "/orgs/{org_id}/users/{user_id}/signin-links",
    status_code=201,
    response_model=SigninLink,
    summary="Make a one-time sign-in link (admin tokens)",
    responses=problems(401, 403, 404, 422),
)
def issue_link(org_id: OrgId, user_id: UserId, principal: Auth, app: AppDep) -> dict[str, Any]:
    """For delivering a link by a channel of your own: it works once, within the configured
    minutes (``signin_link_ttl_s``)."""
    principal.require_admin()
    issued = app.sessions.issue_link(user_id, org_id, via="api", by=_actor(principal))
    base = app.settings.console_url
    return {
        "link_id": issued.link.id,
        "user_id": issued.link.user_id,
        "org_id": issued.link.org_id,
        "code": issued.code,
        "url": link_url(base, issued.code) if base else None,
        "expires_at": issued.link.expires_at,
    }
