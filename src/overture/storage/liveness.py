"""Ping a pooled PostgreSQL connection before use only when it sat unused for a while.

SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip for every read
and write, paid on the hot path too, where a connection is back in use within milliseconds.
A connection idle longer than ``IDLE_PING_S`` is pinged as before, so one the server dropped
while it sat (a restart, an idle timeout, a proxy) is replaced instead of failing the request.
One that breaks while in steady use fails that one statement: SQLAlchemy then invalidates the
pool, and the caller's outage handling (``outage.py``) retries on a fresh connection.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

#: How long a connection may sit in the pool before it is pinged on its next checkout.
IDLE_PING_S = 1.0
_CHECKED_IN = "overture_checked_in_at"


def ping_when_idle(engine: sa.Engine, idle_s: float = IDLE_PING_S) -> None:
    """Install the checkout ping on ``engine`` (made without ``pool_pre_ping``)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < idle_s:
            return  # just connected, or in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool throws this connection away and checks out another (a fresh one).
            raise sa.exc.DisconnectionError("a pooled connection no longer answers") from exc
