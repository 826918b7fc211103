"""``overture init NAME``: a new pack folder that validates, runs and has a passing test."""

from __future__ import annotations

import re
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import click

from overture.cli.common import handle_errors
from overture.errors import ValidationFailed

TEMPLATE = "overture.cli.init_template"
#: Replaced by the new pack's name in every file copied.
PLACEHOLDER = "template_pack"
_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_SKIP = ("__init__.py", "__pycache__")


def scaffold(folder: Path) -> list[Path]:
    """Copy the template into ``folder`` (new, or empty); returns the files written."""
    name = folder.name
    if not _NAME.fullmatch(name):
        raise ValidationFailed(
            f"NAME: {name!r} is not a usable pack name (lowercase letters, digits, - and _, "
            "starting with a letter)"
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValidationFailed(f"NAME: {folder} already exists and is not empty; choose a new folder")
    written: list[Path] = []
    _copy(resources.files(TEMPLATE), folder, name, written)
    return written


def _copy(source: Traversable, target: Path, name: str, written: list[Path]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in sorted(source.iterdir(), key=lambda t: t.name):
        if item.name in _SKIP or item.name.endswith(".pyc"):
            continue
        if item.is_dir():
            _copy(item, target / item.name, name, written)
            continue
        path = target / item.name
        path.write_text(item.read_text(encoding="utf-8").replace(PLACEHOLDER, name), encoding="utf-8")
        written.append(path)


@click.command("init")
@click.argument("name", type=click.Path(path_type=Path))
@handle_errors
def init(name: Path) -> None:
    """Start a pack in a new folder NAME: a sequence with an approval step, a typed skill, an
    effect and a passing test."""
    written = scaffold(name)
    click.echo(f"created pack {name.name} in {name}:")
    for path in written:
        click.echo(f"  {path.relative_to(name)}")
    shown = str(name) if name.is_absolute() or str(name).startswith(".") else f"./{name}"
    click.echo(
        "\nnext:\n"
        f"  overture packs validate {name}      # every file, line and field checked\n"
        f"  python -m pytest {name}            # its tests, on a throwaway database\n"
        f'  then add "{shown}" to packs in overture.toml (or OVERTURE_PACKS) and emit contact_request'
    )


def register(cli: click.Group) -> None:
    cli.add_command(init)
