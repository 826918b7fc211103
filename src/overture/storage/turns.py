"""Whose turn it is to write a SQLite database: threads of a process, and processes.

SQLite lets one writer in at a time and makes the others wait in its busy handler, which
sleeps in growing steps (up to 100 ms) between tries: under contention a write waits far
longer than the writer before it took. Writers here queue on locks that wake the next one as
soon as the lock is free instead: a thread lock within the process, and an advisory ``flock``
on a file beside the database (``overture.db-turn``) between processes (``serve
--http-workers``, a separate worker, the CLI). SQLite's own lock stays the authority: a writer
that does not queue here (no such file can be made, another program) still waits correctly,
only in the busy handler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # not on POSIX: processes take turns in SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


class WriterTurns:
    """Take turns to write; ``database`` is the SQLite file (None: one process only)."""

    def __init__(self, database: Path | None) -> None:
        self._threads = threading.Lock()
        self._file: IO[bytes] | None = None
        # Made at the first write, not before: a command that only reads, or one refused for a
        # mistyped database path, leaves no file behind.
        self._path = f"{database}-turn" if database is not None and fcntl is not None else None

    def _opened(self) -> IO[bytes] | None:
        if self._file is None and self._path is not None:
            try:
                self._file = open(self._path, "ab")  # noqa: SIM115 (held until close)
            except OSError as exc:
                log.warning("no writer queue between processes (%s); SQLite's busy handler it is", exc)
            self._path = None  # tried once
        return self._file

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._threads:
            held = self._opened()
            if held is None:
                yield
                return
            fcntl.flock(held, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(held, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._threads:
            if self._file is not None:
                self._file.close()
                self._file = None
