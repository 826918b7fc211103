"""What every command shares: the App from global options, JSON output, and error exits."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from overture.app import App
from overture.errors import NotFound, OvertureError, ValidationFailed
from overture.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    """Global options, and the App built from them on first use."""

    overrides: dict[str, Any] = field(default_factory=dict)
    _app: App | None = None

    def app(self, migrate: bool = True, create: bool = False) -> App:
        """The App; a missing SQLite file is refused unless ``create`` (see ``database.py``)."""
        if self._app is None:
            settings = Settings(**self.overrides)
            self._app = App(settings)
            if migrate:
                if not create:
                    from overture.cli.database import refuse_missing

                    refuse_missing(self._app.store.engine)
                ensure_schema(self._app)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def ensure_schema(app: App) -> None:
    """Create the schema on a brand-new database; refuse to run on an outdated one."""
    from overture.storage import migrate

    current = migrate.current_revision(app.store.engine)
    if current is None:
        app.migrate()
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
        except sa.exc.OperationalError as exc:
            # The driver's own first line says which host or file; it never holds the password.
            reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "unavailable"
            click.echo(f"error: the database cannot be reached: {reason}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
