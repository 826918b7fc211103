"""The ``overture`` command: thin commands over App, each imported when it runs (``lazy``)."""

from __future__ import annotations

import logging

import click

from overture import __version__
from overture.cli.common import CliState
from overture.cli.lazy import LazyGroup


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="overture")
@click.option(
    "--db",
    "database_url",
    envvar="OVERTURE_DATABASE_URL",
    help="Database URL (default sqlite:///overture.db; postgresql://... for PostgreSQL).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine decides.")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, verbose: bool) -> None:
    """Overture: events in, durable skill sequences out, humans asked before anything leaves."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides = {"database_url": database_url} if database_url else {}
    state = CliState(overrides=overrides)
    ctx.obj = state
    ctx.call_on_close(state.close)


def main() -> None:
    cli()
