"""Bearer-token authentication and the request's view of the App.

``Authorization: Bearer ov_...`` is hashed and looked up; the token's scope becomes the
request's :class:`~overture.engine.admin.tokens.Principal`. Every /v1 route depends on it.
A client that presented too many bad tokens is answered 429 first (see ``overture.http.throttle``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from overture.app import App
from overture.engine.admin.tokens import Principal, Tokens, check_shape
from overture.errors import InvalidToken
from overture.http.throttle import Throttle, client_address

T = TypeVar("T")

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="ov_ token",
    description="An API token made with `overture tokens create`, sent as `Authorization: Bearer ov_...`.",
)


async def overture_app(request: Request) -> App:
    """The App this service was made for."""
    app: App = request.app.state.overture
    return app


def authenticated(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal the request's bearer token proves, or 401 saying precisely why not.

    A sync dependency: the token lookup is a database read, run in the thread pool.
    """
    return principal_of(request)


def principal_of(request: Request) -> Principal:
    """``authenticated`` for a handler that looks the token up itself, in the thread that does
    the rest of its work (one hand-off to a thread per request instead of two)."""
    secret = bearer_secret(request)
    tokens: Tokens = request.app.state.tokens
    return _counted(request, secret, lambda: tokens.authenticate(secret))


def principal_in(request: Request, conn: sa.Connection, secret: str) -> Principal:
    """The principal of ``bearer_secret(request)``, looked up in the caller's transaction."""
    return _counted(request, secret, lambda: Tokens.authenticate_in(conn, secret))


def bearer_secret(request: Request) -> str:
    """The presented token, refused (401, or 429 after too many bad ones) when it is missing or
    cannot be a token; not yet looked up."""
    header = request.headers.get("authorization")
    if header is None:
        raise InvalidToken("missing bearer token: send Authorization: Bearer ov_...")
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidToken(f"unsupported authorization scheme {scheme[:32]!r}: use Bearer")
    secret = secret.strip()
    throttle: Throttle = request.app.state.throttle
    throttle.check("bearer", client_address(request.client), secret, what="token checks")
    _counted(request, secret, lambda: check_shape(secret))
    return secret


def _counted(request: Request, secret: str, check: Callable[[], T]) -> T:
    """``check()``; an InvalidToken it raises counts against the client (``throttle``)."""
    try:
        return check()
    except InvalidToken:
        throttle: Throttle = request.app.state.throttle
        throttle.failed("bearer", client_address(request.client), secret)
        raise


AppDep = Annotated[App, Depends(overture_app)]
Auth = Annotated[Principal, Depends(authenticated)]
