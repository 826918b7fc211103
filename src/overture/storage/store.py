"""The database seam: one engine, short transactions, and the few things each backend does its own way.

SQLite: WAL, ``BEGIN IMMEDIATE`` for writes, ``busy_timeout``, foreign keys on, wake-ups by
polling, and one connection for all of a process's writes (``write_connection``).
PostgreSQL (psycopg 3): ``FOR UPDATE SKIP LOCKED`` claims, advisory locks, LISTEN/NOTIFY wake-ups.
Wake-ups from this process are in process on both (and ``idle`` lets a commit hand a job
straight to a waiting lane).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from overture.errors import ValidationFailed
from overture.storage import migrate, sqlite_functions
from overture.storage.driver import Driver, encode_json
from overture.storage.held import HeldWriter
from overture.storage.idle import IdleLanes
from overture.storage.liveness import ping_when_idle
from overture.storage.turns import WriterTurns

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
        self._turns: WriterTurns | None = None
        self._wake_seq = 0
        self._held: list[HeldWriter] = []
        self._writer: sa.Connection | None = None  # SQLite: the connection every write uses
        self.idle = IdleLanes(self._wake_waiters)
        try:
            if not (self.is_sqlite or self.url.startswith("postgresql+psycopg://")):
                raise sa.exc.ArgumentError("unsupported backend")
            if self.is_sqlite:
                self.engine = sa.create_engine(
                    self.url,
                    connect_args={"check_same_thread": False, "timeout": 30},
                    json_serializer=encode_json,
                )
            else:
                # A server that does not answer is an outage within seconds, not a hang.
                self.engine = sa.create_engine(
                    self.url,
                    pool_size=10,
                    pool_timeout=10,
                    connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
                    json_serializer=encode_json,  # as the hot path's statements write JSON
                )
                ping_when_idle(self.engine)
        except sa.exc.ArgumentError:
            # The URL is not repeated: it may hold a password.
            raise ValidationFailed(
                "database_url: not a database URL we can use "
                "(expected sqlite:///PATH or postgresql://USER@HOST/DB)"
            ) from None
        if self.is_sqlite:
            self._setup_sqlite(sqlite_synchronous)
            self._turns = WriterTurns(_sqlite_file(self.engine))

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
            sqlite_functions.register(dbapi_conn)

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
        if not self.is_sqlite:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self.writer_turn():
            conn = self.write_connection()
            with conn.begin():
                yield conn

    def write_connection(self) -> sa.Connection:
        """SQLite: the one connection all of this process's writes use, in its writer turn only.

        A SQLite connection throws its whole page cache away when it finds that another
        connection wrote since its last transaction. With a connection per kind of write
        (ingest, decisions, steps), each write of an event's path started cold, and read its
        pages again from the file. One writer keeps them: about 5% less time for each event
        paused and decided, in alternating runs. Reads keep connections of their own."""
        assert self.is_sqlite
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            self._writer = self.engine.connect()
        return self._writer

    def drop_write_connection(self) -> None:
        """After a failed write: the next write connects again (the file may have been replaced)."""
        with self.writer_turn():
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()

    def write_driver_connection(self) -> Any:
        """The DBAPI connection beneath ``write_connection`` (the hot path writes on it)."""
        return self.write_connection().connection.driver_connection

    @contextmanager
    def writer_turn(self) -> Iterator[None]:
        """On SQLite, writers of this process and of others take turns here instead of in
        SQLite's busy handler, whose growing sleeps turn contention into long tails (``turns``)."""
        if self._turns is None:
            yield
            return
        with self._turns.turn():
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
        """A group-committed writer, closed with the store: on a connection of its own on
        PostgreSQL, on the process's one writer (``write_connection``) on SQLite."""
        shared = (self.write_connection, self.drop_write_connection) if self.is_sqlite else None
        writer = HeldWriter(self.engine, self.writer_turn, isolated, shared)
        self._held.append(writer)
        return writer

    # -- wake-ups -----------------------------------------------------------------------

    def notify_work(self, conn: sa.Connection | None = None) -> None:
        """Tell waiting workers that a job became runnable (sent at commit on PostgreSQL)."""
        if conn is not None and not self.is_sqlite:
            Driver.under(conn).first("SELECT pg_notify({p}, '')", (WAKE_CHANNEL,))
        self._wake()

    def _wake(self) -> None:
        with self._local_wake:
            self._wake_seq += 1
            self._local_wake.notify_all()

    def _wake_waiters(self) -> None:
        """Wake waiting lanes to look at their own slots (``idle``), without news for the rest."""
        with self._local_wake:
            self._local_wake.notify_all()

    @property
    def wake_seq(self) -> int:
        """Counts wake-ups: a wait ``since`` a count read earlier misses none in between."""
        with self._local_wake:
            return self._wake_seq

    def wait_for_work(
        self, timeout: float, since: int | None = None, until: Callable[[], bool] | None = None
    ) -> None:
        """Sleep until work may be there: a wake-up from this process or another (after
        ``since``, by default now), ``until()`` turning true, or the timeout."""
        with self._local_wake:
            seen = self._wake_seq if since is None else since
            self._local_wake.wait_for(
                lambda: self._wake_seq != seen or (until is not None and until()), timeout=timeout
            )

    _listener: _PgListener | None = None

    def start_listening(self) -> None:
        """On PostgreSQL, LISTEN for wake-ups from other processes on a connection of its own."""
        if not self.is_sqlite and self._listener is None:
            self._listener = _PgListener(self.engine.url.render_as_string(hide_password=False), self._wake)

    @property
    def hears_all_work(self) -> bool:
        """Every job made runnable, by any process, moves ``wake_seq`` here (PostgreSQL, while
        listening: other processes notify, and a listener that connects again wakes once)."""
        return self._listener is not None and self._listener.listening

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
        if self._writer is not None:
            self.drop_write_connection()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.engine.dispose()
        if self._turns is not None:
            self._turns.close()


def _sqlite_file(engine: sa.Engine) -> Path | None:
    """The file a SQLite engine writes, or None for an in-memory or URI-named database."""
    name = engine.url.database or ""
    if name in ("", ":memory:") or name.startswith("file:") or engine.url.query.get("uri"):
        return None
    return Path(name)


def _hash64(key: str) -> int:
    """A stable signed 63-bit hash for advisory locks."""
    return (zlib.crc32(key.encode()) << 31) ^ zlib.adler32(key.encode())


_LISTEN_SLICE_S = 0.2
_RECONNECT_S = 1.0


class _PgListener:
    """A thread on a psycopg connection in autocommit mode that LISTENs for job wake-ups and
    passes each on to the store's waiting lanes (so all waits are in process).

    It connects again after the server dropped it (a restart): meanwhile lanes wait their
    timeouts, so workers poll until the server is back."""

    def __init__(self, sqlalchemy_url: str, on_wake: Callable[[], None]) -> None:
        self._dsn = sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._on_wake = on_wake
        self._closed = threading.Event()
        self.listening = False  # LISTENing now (as far as the last answer from the server says)
        self._thread = threading.Thread(target=self._run, name="overture-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        conn: Any = None
        while not self._closed.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
                    conn.execute(f"LISTEN {WAKE_CHANNEL}")
                    self.listening = True
                    self._on_wake()  # anything queued while not listening is looked for now
                for _ in conn.notifies(timeout=_LISTEN_SLICE_S):
                    self._on_wake()
                    if self._closed.is_set():
                        break
            except (psycopg.Error, OSError):
                self.listening = False
                if conn is not None:
                    conn.close()
                conn = None
                self._closed.wait(_RECONNECT_S)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(_LISTEN_SLICE_S * 5)
