"""Refusing a SQLite file that is not there: a mistyped ``--db sqlite:///typo.db`` must not
quietly become a new, empty database that every command then reads as "nothing yet". Only
``overture migrate`` creates one, and so do ``serve --demo`` and ``seed``, which make their own
world."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from overture.errors import NotFound


def missing_sqlite_file(engine: sa.Engine) -> Path | None:
    """The file a SQLite URL names when it does not exist; None for PostgreSQL, memory, or a file there."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return None
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    path = Path(name)
    return None if path.exists() else path


def refuse_missing(engine: sa.Engine) -> None:
    """Raise NotFound naming the missing file and the command that creates it."""
    path = missing_sqlite_file(engine)
    if path is not None:
        raise NotFound(
            f"no database at {path} (from --db, OVERTURE_DATABASE_URL or overture.toml): check the path, "
            "or run `overture migrate` to create it"
        )
