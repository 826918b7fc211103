"""Bearer-token authentication and the request's view of the App.

``Authorization: Bearer ov_...`` is hashed and looked up; the token's scope becomes the
request's :class:`~overture.engine.admin.tokens.Principal`. Every /v1 route depends on it.
A client that presented too many bad tokens is answered 429 first (see ``overture.http.throttle``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from overture.app import App
from overture.engine.admin.tokens import InvalidToken, Principal, Tokens
from overture.http.throttle import Throttle, client_address

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
    header = request.headers.get("authorization")
    if header is None:
        raise InvalidToken("missing bearer token: send Authorization: Bearer ov_...")
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidToken(f"unsupported authorization scheme {scheme[:32]!r}: use Bearer")
    secret = secret.strip()
    throttle: Throttle = request.app.state.throttle
    address = client_address(request.client)
    throttle.check("bearer", address, secret, what="token checks")
    tokens: Tokens = request.app.state.tokens
    try:
        return tokens.authenticate(secret)
    except InvalidToken:
        throttle.failed("bearer", address, secret)
        raise


AppDep = Annotated[App, Depends(overture_app)]
Auth = Annotated[Principal, Depends(authenticated)]
