"""The database seam: one engine, short transactions, and the few things each backend does its own way.

SQLite: WAL, ``BEGIN IMMEDIATE`` for writes, ``busy_timeout``, foreign keys on, wake-ups by polling.
PostgreSQL (psycopg 3): ``FOR UPDATE SKIP LOCKED`` claims, advisory locks, LISTEN/NOTIFY wake-ups.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from overture.errors import ValidationFailed
from overture.storage import migrate
from overture.storage.driver import Driver
from overture.storage.held import HeldWriter

WAKE_CHANNEL = "overture_jobs"
#: Seconds to wait for PostgreSQL to accept a connection before calling it unreachable.
CONNECT_TIMEOUT_S = 5


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Store:
    """Holds the engine; hands out write and read transactions as SQLAlchemy connections."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._local_wake = threading.Condition()
        self._writer_lock = threading.Lock()
        self._wake_seq = 0
        self._held: list[HeldWriter] = []
        try:
            if not (self.is_sqlite or self.url.startswith("postgresql+psycopg://")):
                raise sa.exc.ArgumentError("unsupported backend")
            if self.is_sqlite:
                self.engine = sa.create_engine(
                    self.url, connect_args={"check_same_thread": False, "timeout": 30}
                )
            else:
                # A server that does not answer is an outage within seconds, not a hang.
                self.engine = sa.create_engine(
                    self.url,
                    pool_pre_ping=True,
                    pool_size=10,
                    pool_timeout=10,
                    connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
                )
        except sa.exc.ArgumentError:
            # The URL is not repeated: it may hold a password.
            raise ValidationFailed(
                "database_url: not a database URL we can use "
                "(expected sqlite:///PATH or postgresql://USER@HOST/DB)"
            ) from None
        if self.is_sqlite:
            self._setup_sqlite(sqlite_synchronous)

    def _setup_sqlite(self, synchronous: str) -> None:
        @sa_event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa_event.listens_for(self.engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            mode = "DEFERRED" if conn.get_execution_options().get("readonly") else "IMMEDIATE"
            # Straight to the driver: this runs for every transaction, and the statement has
            # no parameters or result for SQLAlchemy to handle.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(f"BEGIN {mode}")

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction; commits on success, rolls back on error."""
        with self.writer_turn(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def writer_turn(self) -> Iterator[None]:
        """On SQLite, writers of this process take turns here instead of in SQLite's busy handler,
        whose growing sleeps turn lock contention into long tail latencies."""
        if not self.is_sqlite:
            yield
            return
        with self._writer_lock:
            yield

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction that never blocks writers on SQLite."""
        with self.engine.connect().execution_options(readonly=True) as conn, conn.begin():
            yield conn

    def lock_key(self, conn: sa.Connection, key: str) -> None:
        """Serialise writers that touch the same key until the transaction ends.

        SQLite's ``BEGIN IMMEDIATE`` already serialises all writers; PostgreSQL takes a
        transaction-scoped advisory lock on the key's hash.
        """
        if not self.is_sqlite:
            Driver.under(conn).first("SELECT pg_advisory_xact_lock({p})", (_hash64(key),))

    def held_writer(self, isolated: tuple[type[BaseException], ...] = ()) -> HeldWriter:
        """A group-committed writer on a connection of its own, closed with the store."""
        writer = HeldWriter(self.engine, self.writer_turn, isolated)
        self._held.append(writer)
        return writer

    # -- wake-ups -----------------------------------------------------------------------

    def notify_work(self, conn: sa.Connection | None = None) -> None:
        """Tell waiting workers that a job became runnable (sent at commit on PostgreSQL)."""
        if conn is not None and not self.is_sqlite:
            Driver.under(conn).first("SELECT pg_notify({p}, '')", (WAKE_CHANNEL,))
        with self._local_wake:
            self._wake_seq += 1
            self._local_wake.notify_all()

    def wait_for_work(self, timeout: float) -> None:
        """Sleep until work may be there: a wake-up from this process or another, or the timeout.

        On PostgreSQL the listener's socket is watched in short slices so a wake-up from this
        process (a worker being stopped) ends the wait at once too."""
        deadline = time.monotonic() + timeout
        with self._local_wake:
            seen = self._wake_seq
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if not self.is_sqlite and self._listener is not None:
                if self._listener.wait(min(left, _LISTEN_SLICE_S)):
                    return
                with self._local_wake:
                    if self._wake_seq != seen:
                        return
                continue
            with self._local_wake:
                self._local_wake.wait_for(lambda: self._wake_seq != seen, timeout=left)
            return

    _listener: _PgListener | None = None

    def start_listening(self) -> None:
        """On PostgreSQL, LISTEN for wake-ups on a dedicated connection."""
        if not self.is_sqlite and self._listener is None:
            self._listener = _PgListener(self.engine.url.render_as_string(hide_password=False))

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest revision."""
        migrate.upgrade(self.engine)

    def schema_current(self) -> bool:
        return migrate.is_current(self.engine)

    def close(self) -> None:
        for writer in self._held:
            writer.close()
        self._held.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.engine.dispose()


def _hash64(key: str) -> int:
    """A stable signed 63-bit hash for advisory locks."""
    return (zlib.crc32(key.encode()) << 31) ^ zlib.adler32(key.encode())


_LISTEN_SLICE_S = 0.1


class _PgListener:
    """A psycopg connection in autocommit mode that LISTENs for job wake-ups.

    It connects lazily and again after the server dropped it (a restart): while it cannot, a
    wait just sleeps its timeout, so workers poll until the server is back."""

    def __init__(self, sqlalchemy_url: str) -> None:
        self._dsn = sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._conn: Any = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def _connected(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
            conn.execute(f"LISTEN {WAKE_CHANNEL}")
            self._conn = conn
        return self._conn

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for a wake-up; True when one came."""
        import psycopg

        with self._lock:
            if self._closed.is_set():
                return False
            try:
                for _ in self._connected().notifies(timeout=timeout, stop_after=1):
                    return True
                return False
            except psycopg.Error:
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
        self._closed.wait(timeout)  # the server is away: poll at the caller's pace
        return False

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
