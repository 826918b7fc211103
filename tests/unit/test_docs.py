"""The docs say what the code does: the generated reference is current, and it is the loader's."""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path

import click
import pytest

from overture.cli.main import cli
from overture.cli.serve import serve
from overture.errors import ValidationFailed
from overture.sequences import load_sequence_text, schema
from overture.sequences.reference import render

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference" / "sequences.md"


def test_the_sequence_reference_is_generated_from_the_current_schema() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/reference/sequences.md is stale: run `overture docs sequences > docs/reference/sequences.md`"
    )


@pytest.mark.parametrize("section", schema.SECTIONS, ids=lambda s: s.title)
def test_the_loader_accepts_exactly_the_keys_the_reference_lists(section: schema.Section) -> None:
    """An unknown key is refused and the error lists the keys the reference documents."""
    where = {
        "Sequence": "{extra}event_type: t\nsteps:\n  - {{name: a, uses: notify}}\n",
        "Step": "event_type: t\nsteps:\n  - {{name: a, uses: 'skill:x', {extra}}}\n",
        "Retry": "event_type: t\nsteps:\n  - {{name: a, uses: 'skill:x', on_failure: retry, "
        "retry: {{{extra}}}}}\n",
        "Approval": "event_type: t\nsteps:\n  - {{name: a, uses: 'skill:x', "
        "approval: {{pattern: draft, {extra}}}}}\n",
        "Dedupe": "event_type: t\ndedupe: {{fields: [a], {extra}}}\nsteps:\n  - {{name: a, uses: notify}}\n",
    }[section.title]
    extra = "bogus: 1\n" if section is schema.SEQUENCE else "bogus: 1"
    with pytest.raises(ValidationFailed) as err:
        load_sequence_text(where.format(extra=extra), "t.yaml")
    message = str(err.value)
    assert "bogus" in message
    for name in section.names:
        assert name in message, (name, message)


PAGES = [
    ROOT / "docs" / name for name in ("README.md", "getting-started.md", "concepts.md", "writing-a-pack.md")
]
PAGE_IDS = [p.name for p in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_link_between_pages_leads_to_a_page(page: Path) -> None:
    links = re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    assert links
    assert [link for link in links if not (page.parent / link).is_file()] == []


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_command_a_page_gives_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for name, sub in re.findall(r"\boverture ([a-z][a-z-]*)(?: ([a-z][a-z_-]*))?", text):
        command = cli.get_command(click.Context(cli), name)
        assert command is not None, f"`overture {name}` is no command"
        if isinstance(command, click.Group) and sub:
            assert command.get_command(click.Context(command), sub) is not None, f"`overture {name} {sub}`"
    for flag in re.findall(r"overture serve (--[a-z-]+)", text):
        assert flag in [o for p in serve.params for o in p.opts]


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_repository_file_a_page_names_exists(page: Path) -> None:
    named = re.findall(r"`((?:src|tests|scripts|deploy|docs)/[\w./@-]+)`", page.read_text(encoding="utf-8"))
    assert [n for n in named if not (ROOT / n.rstrip("/")).exists()] == []


def test_the_pack_page_shows_the_code_overture_init_writes() -> None:
    """The page's excerpts of the template are the template's own lines, so they cannot drift."""
    page = (ROOT / "docs" / "writing-a-pack.md").read_text(encoding="utf-8")
    template = resources.files("overture.cli.init_template")
    sequence = (template / "sequences" / "contact_request.yaml").read_text(encoding="utf-8")
    shown = sequence.split("\n", 1)[1].replace("template_pack", "helpdesk")
    assert shown.replace("event_type: contact_request\n", "") in page.replace(
        "event_type: contact_request          # must equal the file name\n", ""
    )
    code = (template / "pack.py").read_text(encoding="utf-8")
    for line in (
        "class ContactRequest(BaseModel):",
        '@skill("draft-reply")',
        '@function("send-reply", gate="draft")',
    ):
        assert line in code and line in page


SOURCES = sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])
#: A file or folder of the repository: ``docs/concepts.md``, ``docs/integrations/``.
_PATH = re.compile(r"(?<![\w.@/-])((?:src|tests|docs|scripts|deploy)/[\w./@-]*[\w/])")
#: A project document named by itself: ``DESIGN.md``, ``CHANGELOG.md``.
_DOCUMENT = re.compile(r"(?<![\w./-])([A-Z][A-Z_]+\.md)\b")


def _docstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [doc for node in ast.walk(tree) if isinstance(node, kinds) and (doc := ast.get_docstring(node))]


def test_docstrings_point_only_at_files_that_exist() -> None:
    documents = {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts}
    missing = []
    for source in SOURCES:
        for doc in _docstrings(source):
            pointers = _PATH.findall(doc)
            missing += [f"{source.relative_to(ROOT)}: {p}" for p in pointers if not (ROOT / p).exists()]
            missing += [
                f"{source.relative_to(ROOT)}: {d}" for d in _DOCUMENT.findall(doc) if d not in documents
            ]
    assert missing == []
