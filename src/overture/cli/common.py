"""What every command shares: the App from global options, JSON output, and error exits.

Nothing heavy is imported here: ``overture --help`` imports this module, and the App (with its
packs, web framework and providers) is built only by a command that needs it.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from overture.errors import NotFound, OvertureError, ValidationFailed

if TYPE_CHECKING:
    from overture.app import App
    from overture.settings import Settings
    from overture.storage.store import Store

F = TypeVar("F", bound=Callable[..., Any])

#: Settings.database_url's default (a test holds the two together).
DEFAULT_DATABASE_URL = "sqlite:///overture.db"


@dataclass
class CliState:
    """Global options, and the App built from them on first use."""

    overrides: dict[str, Any] = field(default_factory=dict)
    _app: App | None = None
    _settings: Settings | None = None
    _store: Store | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            from overture.settings import load_settings

            self._settings = load_settings(**self.overrides)
        return self._settings

    def database_url_quickly(self) -> str | None:
        """The database URL as ``Settings`` finds it (``--db`` or OVERTURE_DATABASE_URL, then
        overture.toml, then the default), without importing pydantic: for the reads that answer
        at once. None when overture.toml cannot be read; ``settings()`` then says why."""
        if "database_url" in self.overrides:
            return str(self.overrides["database_url"])
        import tomllib
        from pathlib import Path

        try:
            found = tomllib.loads(Path("overture.toml").read_text(encoding="utf-8")).get("database_url")
        except FileNotFoundError:
            return DEFAULT_DATABASE_URL
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        if found is None:
            return DEFAULT_DATABASE_URL
        return found if isinstance(found, str) else None

    def app(self, migrate: bool = True, create: bool = False) -> App:
        """The whole App: packs loaded, services wired (commands that run or change work). A
        missing SQLite file is refused unless ``create`` (see ``database.py``)."""
        if self._app is None:
            from overture.app import App
            from overture.observability import setup

            setup(self.settings())  # the log format, and traces when a collector is configured
            self._app = App(self.settings())
            if self._store is not None:
                self._store.close()
                self._store = None
            if migrate:
                if not create:
                    from overture.cli.database import refuse_missing

                    refuse_missing(self._app.store.engine)
                ensure_schema(self._app.store)
        return self._app

    def store(self) -> Store:
        """Only the database, without loading packs (commands that read what is recorded)."""
        if self._app is not None:
            return self._app.store
        if self._store is None:
            from overture.storage.store import Store

            s = self.settings()
            self._store = Store(s.database_url, sqlite_synchronous=s.sqlite_synchronous)
            from overture.cli.database import refuse_missing

            refuse_missing(self._store.engine)
            ensure_schema(self._store)
        return self._store

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
        if self._store is not None:
            self._store.close()


def ensure_schema(store: Store) -> None:
    """Create the schema on a brand-new database; refuse to run on an outdated one."""
    from overture.storage import migrate

    current = migrate.current_revision(store.engine)
    if current is None:
        store.migrate()
    elif current != migrate.head_revision():
        raise OvertureError(f"the database is at schema revision {current}; run `overture migrate` first")


def state() -> CliState:
    return click.get_current_context().find_object(CliState)  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, sort_keys=False))


def parse_json_option(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{name}: not valid JSON ({exc.msg} at column {exc.colno})") from None


def handle_errors(fn: F) -> F:
    """Turn Overture errors into one clear line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValidationFailed, NotFound) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OvertureError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:
            if not _is_unreachable(exc):
                raise
            # The driver's own first line says which host or file; it never holds the password.
            orig = getattr(exc, "orig", None)
            reason = str(orig).splitlines()[0] if orig is not None else "unavailable"
            click.echo(f"error: the database cannot be reached: {reason}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _is_unreachable(exc: Exception) -> bool:
    """SQLAlchemy's OperationalError, without importing SQLAlchemy for commands that never used it."""
    exc_module = sys.modules.get("sqlalchemy.exc")
    return exc_module is not None and isinstance(exc, exc_module.OperationalError)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
