"""``overture docs``: reference pages rendered from the code they describe."""

from __future__ import annotations

import click


@click.group()
def docs() -> None:
    """Generate the reference pages in docs/ from the code."""


@docs.command("sequences")
def sequences() -> None:
    """Print the sequence YAML reference (docs/reference/sequences.md) from the loader's schema."""
    from overture.sequences.reference import render

    click.echo(render(), nl=False)


def register(cli: click.Group) -> None:
    cli.add_command(docs)
