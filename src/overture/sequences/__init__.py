"""Sequence files: one YAML file per event type, fully checked at load.

Every problem is reported with file, line and field, so a pack author fixes a typo before an
event ever arrives. Loading is pure apart from reading the files. The pieces: the model
(``model``), YAML with line numbers (``source``), the field checks (``checks``) and the expression
language of ``with`` and ``when`` (``expressions``).
"""

from __future__ import annotations

from pathlib import Path

from overture.errors import SequenceFileError, ValidationFailed
from overture.sequences.checks import _Checker
from overture.sequences.expressions import Expressions
from overture.sequences.model import (
    ApprovalSpec,
    DedupeSpec,
    FailurePolicy,
    Loc,
    RetryPolicy,
    Sequence,
    Step,
    StepKind,
)
from overture.sequences.source import _Composer

__all__ = [
    "ApprovalSpec",
    "DedupeSpec",
    "FailurePolicy",
    "Loc",
    "RetryPolicy",
    "Sequence",
    "SequencesInvalid",
    "Step",
    "StepKind",
    "load_sequence_dir",
    "load_sequence_file",
    "load_sequence_text",
]


class SequencesInvalid(ValidationFailed):
    """Some sequence files are invalid."""

    def __init__(self, errors: list[SequenceFileError]) -> None:
        self.errors = list(errors)
        listed = "\n".join(f"  {error}" for error in self.errors)
        super().__init__(f"{len(self.errors)} problem(s) in sequence files:\n{listed}")


def load_sequence_text(text: str, path: str, expressions: Expressions | None = None) -> Sequence:
    """Parse and check one sequence file's text; raises the first SequenceFileError by line."""
    sequence, errors = _load(text, path, expressions or Expressions())
    if errors:
        raise errors[0]
    assert sequence is not None
    return sequence


def load_sequence_file(path: Path, expressions: Expressions | None = None) -> Sequence:
    """Read and check one sequence file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SequenceFileError(str(path), None, "(file)", f"cannot read: {exc}") from None
    return load_sequence_text(text, str(path), expressions)


def load_sequence_dir(folder: Path, expressions: Expressions | None = None) -> dict[str, Sequence]:
    """Load every *.yaml/*.yml file by event type; SequencesInvalid lists every error found."""
    if not folder.is_dir():
        raise SequencesInvalid([SequenceFileError(str(folder), None, "(folder)", "not a folder")])
    shared = expressions or Expressions()
    found: dict[str, Sequence] = {}
    errors: list[SequenceFileError] = []
    files = sorted(
        p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
    )
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(SequenceFileError(str(file), None, "(file)", f"cannot read: {exc}"))
            continue
        sequence, problems = _load(text, str(file), shared)
        errors.extend(problems)
        if sequence is None:
            continue
        first = found.get(sequence.event_type)
        if first is not None:
            problem = f"event type {sequence.event_type!r} is already defined in {first.path}"
            errors.append(
                SequenceFileError(sequence.path, sequence.line_of("event_type"), "event_type", problem)
            )
        else:
            found[sequence.event_type] = sequence
    if errors:
        raise SequencesInvalid(errors)
    return found


def _load(text: str, path: str, expressions: Expressions) -> tuple[Sequence | None, list[SequenceFileError]]:
    """Compose, check and build; every problem found is returned, sorted by line."""
    composer = _Composer(text, path)
    try:
        data = composer.load()
    except SequenceFileError as exc:
        return None, [exc]
    checker = _Checker(path, composer.lines, expressions)
    checker.errors.extend(composer.errors)
    sequence = checker.sequence(data)
    errors = sorted(checker.errors, key=lambda error: error.line or 0)
    return (None, errors) if errors else (sequence, [])
