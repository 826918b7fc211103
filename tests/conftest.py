"""Shared fixtures: a real database per backend (SQLite file, PostgreSQL on 127.0.0.1), a fake
clock, and an App wired to the mechanics test pack."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.settings import Settings
from overture.storage.store import Store
from overture.storage.tables import metadata

MECHANICS = str(Path(__file__).parent / "packs" / "mechanics")
PG_ADMIN_URL = os.environ.get("OVERTURE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run these tests")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1")
    name = f"overture_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    store = Store(url)
    store.migrate()
    store.close()
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy (migrating costs ~0.1 s)."""
    path = tmp_path_factory.mktemp("template") / "overture.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.close()
    with closing(sqlite3.connect(path)) as conn:  # everything in the main file, nothing in the WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL for one backend: a new, migrated SQLite file, or the session's
    PostgreSQL, emptied."""
    if request.param == "sqlite":
        path = tmp_path / "overture.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def effect_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "effects"
    monkeypatch.setenv("MECHANICS_EFFECT_DIR", str(folder))
    return folder


def make_app(db_url: str, clock: FakeClock | None = None, **overrides: Any) -> App:
    settings = Settings(database_url=db_url, packs=[MECHANICS], **overrides)
    app = App(settings, clock=clock)
    app.migrate()
    return app


@pytest.fixture
def app(db_url: str, clock: FakeClock, effect_dir: Path) -> Iterator[App]:
    """An App on the backend under test, with org ``acme`` and users ``ana`` (always active),
    ``boss`` (an admin) and ``eve`` (another member)."""
    application = make_app(db_url, clock)
    application.admin.add_org("acme", "Acme")
    application.admin.add_user("acme", "ana", "Ana", active_hours=None, email="ana@acme.test")
    application.admin.add_user("acme", "boss", "Boss", active_hours=None, role="admin")
    application.admin.add_user("acme", "eve", "Eve", active_hours=None)
    yield application
    application.close()


def event(
    type_: str, payload: dict[str, Any] | None = None, user: str = "ana", **extra: Any
) -> dict[str, Any]:
    return {"type": type_, "org_id": "acme", "user_id": user, "payload": payload or {}, **extra}


def settings_folder(path: Path, monkeypatch: pytest.MonkeyPatch, toml: str | None) -> None:
    """Work in ``path``, with this overture.toml (None: none) and no database URL in the
    environment, as a command run there finds its settings."""
    monkeypatch.chdir(path)
    monkeypatch.delenv("OVERTURE_DATABASE_URL", raising=False)
    if toml is not None:
        (path / "overture.toml").write_text(toml)
