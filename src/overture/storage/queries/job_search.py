"""Finding jobs by what a person remembers of them, a page at a time.

Filters are ANDed; paging is by keyset on ``(created_at, id)``, newest first, so a page never
shifts or repeats rows when new jobs arrive while someone reads, and page 50 costs what page 1
does. A cursor is the id of the job at the edge of the page it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from overture.core.records import Job
from overture.storage.queries.jobs import job_from_row
from overture.storage.sqlite_functions import JSON_TEXT
from overture.storage.tables.orchestrator import sequence_jobs

_JOBS = sequence_jobs.c


@dataclass(frozen=True)
class JobFilter:
    """What to look for; ``None`` (or empty text) means any."""

    org_id: str
    event_type: str | None = None
    status: str | None = None
    user_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


@dataclass(frozen=True)
class JobPage:
    """One page of jobs, newest first, with the cursors of the pages either side (None: none)."""

    jobs: list[Job]
    older: str | None
    newer: str | None


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(f: JobFilter, sqlite: bool) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = [_JOBS.org_id == f.org_id]
    if f.event_type:
        clauses.append(_JOBS.event_type == f.event_type)
    if f.status:
        clauses.append(_JOBS.status == f.status)
    if f.user_id:
        clauses.append(_JOBS.user_id == f.user_id)
    if f.since is not None:
        clauses.append(_JOBS.created_at >= f.since)
    if f.until is not None:
        clauses.append(_JOBS.created_at < f.until)
    if f.text and f.text.strip():
        clauses.append(_payload_has(f.text.strip(), sqlite))
    return clauses


#: Characters that JSON encoders write differently around a term (escapes, separators' spaces).
_WRITTEN_DIFFERENTLY = frozenset('"\\:,')


def _payload_has(text: str, sqlite: bool) -> sa.ColumnElement[bool]:
    pattern = _like(text)
    if not sqlite:  # jsonb's text is one canonical form
        return sa.func.lower(sa.cast(_JOBS.trigger_payload, sa.Text)).like(pattern, escape="\\")
    # SQLite stores the text it was given: "Müller" may be "M\u00fcller", "a": 1 may be "a":1,
    # and its lower() folds only ASCII. Read as JSON (a Python function, ~9 µs a row); printable
    # ASCII without quotes, backslashes or the separators' colons and commas is written alike by
    # every encoder, so plain LIKE rules rows out first.
    found: sa.ColumnElement[bool] = getattr(sa.func, JSON_TEXT)(_JOBS.trigger_payload).like(
        pattern, escape="\\"
    )
    if text.isascii() and text.isprintable() and not _WRITTEN_DIFFERENTLY & set(text):
        return sa.and_(sa.func.lower(_JOBS.trigger_payload).like(pattern, escape="\\"), found)
    return found


def _edge(conn: sa.Connection, org_id: str, job_id: str) -> tuple[datetime, str] | None:
    row = conn.execute(
        sa.select(_JOBS.created_at, _JOBS.id).where(_JOBS.id == job_id, _JOBS.org_id == org_id)
    ).first()
    return (row[0], row[1]) if row else None


def _older_than(edge: tuple[datetime, str]) -> sa.ColumnElement[bool]:
    at, job_id = edge
    return sa.or_(_JOBS.created_at < at, sa.and_(_JOBS.created_at == at, _JOBS.id < job_id))


def _newer_than(edge: tuple[datetime, str]) -> sa.ColumnElement[bool]:
    at, job_id = edge
    return sa.or_(_JOBS.created_at > at, sa.and_(_JOBS.created_at == at, _JOBS.id > job_id))


class UnknownCursor(LookupError):
    """The page cursor names no job of the org (edited by hand, or the job was removed)."""


def search(
    conn: sa.Connection,
    f: JobFilter,
    *,
    limit: int = 50,
    before: str | None = None,
    after: str | None = None,
) -> JobPage:
    """The page of jobs matching ``f`` older than job ``before``, or newer than job ``after``
    (the first page when neither); raises UnknownCursor for a cursor naming no job of the org."""
    where = _where(f, conn.dialect.name == "sqlite")
    newest_first = (_JOBS.created_at.desc(), _JOBS.id.desc())
    if after is not None:
        edge = _edge(conn, f.org_id, after)
        if edge is None:
            raise UnknownCursor(after)
        q = sa.select(sequence_jobs).where(*where, _newer_than(edge))
        rows = list(conn.execute(q.order_by(_JOBS.created_at, _JOBS.id).limit(limit + 1)).mappings())
        more_newer = len(rows) > limit
        jobs = [job_from_row(r) for r in reversed(rows[:limit])]
        return JobPage(jobs, older=jobs[-1].id if jobs else after, newer=jobs[0].id if more_newer else None)
    q = sa.select(sequence_jobs).where(*where)
    if before is not None:
        edge = _edge(conn, f.org_id, before)
        if edge is None:
            raise UnknownCursor(before)
        q = q.where(_older_than(edge))
    rows = list(conn.execute(q.order_by(*newest_first).limit(limit + 1)).mappings())
    jobs = [job_from_row(r) for r in rows[:limit]]
    older = jobs[-1].id if len(rows) > limit else None
    newer = None
    if before is not None:
        newer = jobs[0].id if jobs else before
    return JobPage(jobs, older=older, newer=newer)
