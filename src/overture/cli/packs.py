"""``overture packs validate``."""

from __future__ import annotations

import sys

import click

from overture.engine.packs import PackInvalid, load_packs


@click.group()
def packs() -> None:
    """Packs of sequences and skills."""


@packs.command("validate")
@click.argument("path")
def validate(path: str) -> None:
    """Check a pack (a folder, or a built-in pack's name): every file, line and field."""
    try:
        registry = load_packs([path])
    except PackInvalid as exc:
        for err in exc.errors:
            click.echo(f"error: {err}", err=True)
        click.echo(f"{len(exc.errors)} problem(s) in {path}", err=True)
        sys.exit(2)
    except Exception as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    n = sum(len(s.steps) for s in registry.sequences.values())
    click.echo(f"{path}: {len(registry.sequences)} sequence(s), {n} step(s), all valid")
    for name in sorted(registry.sequences):
        click.echo(f"  {name}: {len(registry.sequences[name].steps)} step(s)")


def register(cli: click.Group) -> None:
    cli.add_command(packs)
