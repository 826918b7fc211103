"""The docs say what the code does: the generated reference is current, and it is the loader's."""

from __future__ import annotations

from pathlib import Path

import pytest

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
