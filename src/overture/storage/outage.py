"""Telling a database that went away from a bug, and waiting for it to come back.

A PostgreSQL restart or a network cut surfaces as driver errors anywhere: in a claim, a step
commit, a read, the wake-up listener. Workers and ``serve`` treat those as an outage — one log
line, no traceback, then reconnect attempts with jittered exponential backoff until the server
answers again — and everything else as the bug it is. The backoff is tenacity's (random
exponential, capped), so many workers coming back after a restart do not knock in step.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from tenacity import Retrying, retry_if_exception, wait_random_exponential

log = logging.getLogger("overture.storage")

#: Errors that mean "the database cannot be reached now", not "this statement is wrong".
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # connection lost, server shutting down or starting, deadlock
    psycopg.InterfaceError,  # the connection is closed
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,  # no pooled connection came free in time
    ConnectionError,
)
#: SQLite's OperationalError also says "no such table"; only these mean the file is away.
_SQLITE_AWAY = ("locked", "unable to open", "disk i/o", "busy", "readonly database")
#: Seconds a client is told to wait before trying again during an outage (``Retry-After``).
RETRY_AFTER_S = 5
#: The longest pause between two reconnect attempts.
MAX_BACKOFF_S = 5.0


def _judge(exc: BaseException) -> bool | None:
    """True or False when ``exc`` decides it; None to look at what caused it."""
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if exc.orig is None:
            return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
        return _judge(exc.orig)
    if isinstance(exc, sqlite3.OperationalError):
        return any(word in str(exc).lower() for word in _SQLITE_AWAY)
    if isinstance(exc, _UNAVAILABLE):
        return True
    return None


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        verdict = _judge(current)
        if verdict is not None:
            return verdict
        current = current.__cause__ or current.__context__
    return False


def probe(engine: sa.Engine) -> None:
    """One round trip on a pooled connection; raises when the database does not answer."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def wait_until_reachable(
    engine: sa.Engine,
    stopping: threading.Event,
    label: str,
    max_backoff_s: float = MAX_BACKOFF_S,
    check: Callable[[sa.Engine], None] = probe,
) -> bool:
    """Block until the database answers (True) or ``stopping`` is set (False).

    Attempts are spaced by tenacity's jittered exponential backoff, capped at ``max_backoff_s``;
    the wait between them ends early when ``stopping`` is set. One line is logged per outage
    and one when it ends, never a traceback.
    """
    attempts = 0

    def not_stopping(exc: BaseException) -> bool:
        return is_unavailable(exc) and not stopping.is_set()

    def pause(seconds: float) -> None:
        stopping.wait(seconds)

    retrying = Retrying(
        wait=wait_random_exponential(multiplier=0.2, max=max_backoff_s),
        retry=retry_if_exception(not_stopping),
        sleep=pause,
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                attempts += 1
                if stopping.is_set():
                    return False
                check(engine)
    except Exception as exc:
        if stopping.is_set() and is_unavailable(exc):
            return False
        raise
    if attempts > 1:
        log.info("%s: the database answers again after %d attempt(s)", label, attempts)
    return True
