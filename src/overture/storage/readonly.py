"""Reading the jobs list with the database driver alone, for ``overture jobs list``.

A person at a terminal expects a list at once. SQLAlchemy and pydantic take about 0.3 s each
to import on a small machine, more than the whole answer should take, so this read uses
``sqlite3`` (or ``psycopg``) and one SELECT. It reads only what it is sure of: a plain
``sqlite:///file`` or ``postgresql://`` URL, a file that is there, a schema at this version's
revision. Anything else returns None and the command takes the full path, which says what is
wrong (a missing file, an outdated schema, an unreachable server) in its usual words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from overture.storage.migrate import head_revision

#: The columns a job summary shows (``engine.admin.views.job_summary``), and the effect failures.
SUMMARY_COLUMNS = (
    "id",
    "org_id",
    "user_id",
    "event_type",
    "event_source",
    "status",
    "status_reason",
    "current_step",
    "chain_depth",
    "parent_job_id",
    "run_after",
    "created_at",
    "finished_at",
    "execution_metadata",
)
_TIMES = ("run_after", "created_at", "finished_at")


@dataclass(frozen=True)
class _Dialect:
    """How one driver is spoken: its parameter marker and how its values come back."""

    placeholder: str
    decode_time: Callable[[Any], datetime | None]
    decode_json: Callable[[Any], Any]


def _sqlite_time(value: str | None) -> datetime | None:
    # Stored as UTC without an offset ("2026-12-04 15:23:35.123456"), as UTCDateTime writes it.
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _pg_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


_SQLITE = _Dialect("?", _sqlite_time, _sqlite_json)
_POSTGRES = _Dialect("%s", _pg_time, lambda value: value)


def _sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for memory, query strings, or URIs."""
    if not url.startswith("sqlite:///") or any(c in url for c in "?#"):
        return None
    name = url.removeprefix("sqlite:///")
    return Path(name) if name and name != ":memory:" else None


@contextmanager
def _connect(url: str) -> Iterator[tuple[Any, _Dialect] | None]:
    path = _sqlite_path(url)
    if path is not None:
        if not path.is_file():
            yield None
            return
        import sqlite3

        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            yield None
            return
        with closing(conn):
            yield conn, _SQLITE
        return
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        import psycopg

        try:
            pg = psycopg.connect(url.replace("+psycopg", "", 1), connect_timeout=5, autocommit=True)
        except psycopg.Error:
            yield None
            return
        with pg:
            yield pg, _POSTGRES
        return
    yield None


def _at_head(conn: Any) -> bool:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception:  # no such table: never migrated; the full path creates the schema
        return False
    return row is not None and row[0] == head_revision()


def list_job_summaries(
    url: str, *, org_id: str | None, status: str | None, limit: int
) -> list[dict[str, Any]] | None:
    """Jobs newest first as ``job_summary`` shapes them (times in ISO 8601) with their
    ``execution_metadata``; None when this read cannot be sure (see above)."""
    with _connect(url) as opened:
        if opened is None:
            return None
        conn, dialect = opened
        if not _at_head(conn):
            return None
        where, params = [], []
        for column, value in (("org_id", org_id), ("status", status)):
            if value is not None:
                where.append(f"{column} = {dialect.placeholder}")
                params.append(value)
        sql = f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM sequence_jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY created_at DESC, id DESC LIMIT {int(limit)}"
        rows = conn.execute(sql, params).fetchall()
    jobs = []
    for row in rows:
        job = dict(zip(SUMMARY_COLUMNS, row, strict=True))
        for name in _TIMES:
            when = dialect.decode_time(job[name])
            job[name] = when.isoformat() if when else None
        job["execution_metadata"] = dialect.decode_json(job["execution_metadata"])
        jobs.append(job)
    return jobs
