"""The package layout keeps dependencies pointing inward (docs/architecture.md states the rules).

Imports are read with ``ast`` from the source, ``TYPE_CHECKING`` blocks and function-local imports
included: a circle hidden behind a lazy import is still a circle for the reader.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "overture"

# Shared leaves every layer may use: they import nothing of Overture's but each other.
LEAVES = ("overture.errors", "overture.ids", "overture.clock", "overture.durations", "overture.settings")

# What each part may import of Overture, innermost first (docs/architecture.md, "Import rules").
# A part always may import itself and the leaves.
ALLOWED: dict[str, tuple[str, ...]] = {
    "overture.sequences": (),
    "overture.core": ("overture.sequences",),
    "overture.storage": ("overture.core",),
    "overture.engine": ("overture.core", "overture.sequences", "overture.storage", "overture.observability"),
    "overture.observability": ("overture.core", "overture.sequences", "overture.storage"),
    "overture.llm": ("overture.core", "overture.integrations.apis"),
    "overture.integrations": (
        "overture.core",
        "overture.storage",
        "overture.engine.humans",
        "overture.integrations",
    ),
    "overture.skills": ("overture.core", "overture.engine", "overture.storage", "overture.llm"),
    "overture.app": (
        "overture.core",
        "overture.engine",
        "overture.storage",
        "overture.integrations",
        "overture.llm",
    ),
    # The Python client of the HTTP API: the server's wire models, nothing else of the service.
    "overture.client": ("overture.core", "overture.http.api.models"),
}
# The engine's stages, in the order an event meets them; a stage may import the ones before it
# and the engine's shared modules (registry, packs, audit), never a later stage.
ENGINE_ORDER = (
    "overture.engine.admin",
    "overture.engine.intake",
    "overture.engine.humans",
    "overture.engine.run",
)

# The core does no I/O: besides Overture's core it imports only these outside the standard library,
# and none of the standard library's network, database or process modules.
CORE = ("overture.core", "overture.sequences", *LEAVES)
CORE_THIRD_PARTY = {"pydantic", "pydantic_settings", "jinja2", "markupsafe", "yaml", "croniter"}
IO_STDLIB = (
    "socket",
    "ssl",
    "sqlite3",
    "http",
    "urllib.request",
    "subprocess",
    "smtplib",
    "asyncio",
    "multiprocessing",
    "select",
    "selectors",
    "shutil",
    "tempfile",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def _is_module(name: str) -> bool:
    return name in modules()


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module this module names in an import: ``from pkg import sub`` counts as ``pkg.sub``."""
    path = modules()[module]
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            hits = [f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}")]
            names.update(hits or [base])
            if hits and len(hits) < len(node.names):
                names.add(base)
    return frozenset(names)


def internal_imports(module: str) -> set[str]:
    """The Overture modules ``module`` imports, each resolved to the nearest existing module."""
    found = set()
    for imported in imports_of(module):
        name = imported
        while name and not _is_module(name):
            name = name.rpartition(".")[0]
        if name.startswith("overture") and name not in (module, "overture"):
            found.add(name)
    return found


def _within(module: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _part(module: str) -> str | None:
    for part in sorted(ALLOWED, key=len, reverse=True):
        if _within(module, (part,)):
            return part
    return None


def test_no_import_circles() -> None:
    """No module reaches itself again by following imports (Tarjan's strongly connected components)."""
    graph = {m: internal_imports(m) for m in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


@pytest.mark.parametrize("module", sorted(m for m in modules() if _within(m, CORE)))
def test_core_does_no_io(module: str) -> None:
    """The core (records, decisions, the sequence language, the shared leaves) imports no I/O layer,
    no network, database or process module, and no third-party library beyond pure ones."""
    bad = []
    for name in imports_of(module):
        top = name.split(".")[0]
        if top == "overture":
            if not _within(name, CORE):
                bad.append(name)
        elif _within(name, IO_STDLIB) or (top not in sys.stdlib_module_names and top not in CORE_THIRD_PARTY):
            bad.append(name)
    assert bad == []


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_parts_import_only_inward(part: str) -> None:
    """Each part imports only the parts docs/architecture.md says it may."""
    allowed = (part, *LEAVES, *ALLOWED[part])
    bad = sorted(
        f"{m} -> {d}"
        for m in modules()
        if _part(m) == part
        for d in internal_imports(m)
        if not _within(d, allowed)
    )
    assert bad == []


def test_engine_stages_import_only_earlier_stages() -> None:
    """An engine stage never imports a later stage, and the engine's shared modules import no stage."""
    bad = []
    for m in modules():
        if not _within(m, ("overture.engine",)):
            continue
        stage = next((i for i, s in enumerate(ENGINE_ORDER) if _within(m, (s,))), -1)
        for d in internal_imports(m):
            target = next((i for i, s in enumerate(ENGINE_ORDER) if _within(d, (s,))), None)
            if target is not None and target > stage and not (stage >= 0 and target == stage):
                bad.append(f"{m} -> {d}")
    assert bad == []


def test_nothing_inside_imports_the_interfaces() -> None:
    """Only the interfaces import the interfaces: nothing but http, cli, the bench, the
    evaluation (which drives the HTTP service) and the client (which shares the API's wire models,
    see ALLOWED) imports them, and no built-in pack imports another."""
    outer = ("overture.http", "overture.cli")
    for m in modules():
        if _within(m, (*outer, "overture.bench", "overture.evaluation", "overture.client")):
            continue
        assert not [d for d in internal_imports(m) if _within(d, outer)], m
        if _within(m, ("overture.packs",)):
            own = ".".join(m.split(".")[:3])
            packs = [d for d in internal_imports(m) if _within(d, ("overture.packs",))]
            assert [d for d in packs if not _within(d, (own,))] == [], m


def test_modules_stay_small() -> None:
    """No module is over 400 lines: a longer one has two reasons to change."""
    long = {m: n for m, p in modules().items() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
