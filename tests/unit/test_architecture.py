"""The package layout keeps dependencies pointing inward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "overture"
PURE = [
    "engine/model.py",
    "engine/events.py",
    "engine/gates.py",
    "engine/hours.py",
    "engine/sequences.py",
    "engine/sequence_model.py",
    "engine/sequence_yaml.py",
    "engine/sequence_check.py",
    "engine/expressions.py",
    "engine/budget.py",
    "engine/policies.py",
    "engine/state.py",
    "engine/dedupe.py",
    "engine/step_context.py",
    "engine/drafts.py",
    "clock.py",
    "durations.py",
]
OUTER = ("overture.storage", "overture.http", "overture.cli", "overture.integrations", "overture.app")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE)
def test_pure_core_imports_no_io_layer(module: str) -> None:
    """Pure decision modules import nothing from storage, HTTP, CLI, integrations or the App."""
    bad = sorted(n for n in imports_of(SRC / module) if n.startswith(OUTER) or n in {"sqlalchemy", "click"})
    assert bad == []


def test_storage_never_imports_the_cli_or_http() -> None:
    """Storage is below the interfaces: it imports neither the CLI nor HTTP."""
    for path in (SRC / "storage").rglob("*.py"):
        assert not [n for n in imports_of(path) if n.startswith(("overture.cli", "overture.http"))], path
