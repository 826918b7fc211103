"""Checks across a pack's code and its sequences that the YAML alone cannot make.

A handler the runner cannot call as ``fn(ctx, inputs)`` is reported at its ``def`` line, before
any event arrives. For typed skills the models are known, so a step that leaves out a required
input, or a later step that reads a field the output model does not have, is reported at the
sequence line that says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from overture.engine.typed_skills import TypedHandler, signature_problem, source_of
from overture.errors import SequenceFileError
from overture.sequences import Sequence, Step, StepKind
from overture.sequences.reads import OutputRead, reads_in_condition, reads_in_template
from overture.sequences.source import _dotted

Key = tuple[StepKind, str]


def handler_problems(handlers: Mapping[Key, Callable[..., Any]]) -> list[SequenceFileError]:
    """Handlers whose signature does not take ``(ctx, inputs)``, at the line they are defined."""
    errors = []
    for (kind, key), fn in handlers.items():
        problem = signature_problem(fn)
        if problem is not None:
            path, line = source_of(fn)
            errors.append(SequenceFileError(path, line, f"{kind.value}:{key}", problem))
    return errors


def typed_problems(
    sequences: Mapping[str, Sequence], typed: Mapping[Key, TypedHandler]
) -> list[SequenceFileError]:
    """Inputs a typed skill requires but a step does not give, and output fields nobody returns."""
    errors = []
    for seq in sequences.values():
        by_name = {step.name: step for step in seq.steps}
        for step in seq.steps:
            spec = typed.get((step.kind, step.target))
            if spec is not None:
                errors += _missing_inputs(seq, step, spec)
            for loc, read in _reads(step):
                source = by_name.get(read.step)
                made = typed.get((source.kind, source.target)) if source is not None else None
                if made is None or read.field is None:
                    continue
                fields = made.output.model_fields
                if read.field not in fields:
                    problem = (
                        f"reads outputs.{read.step}.{read.field}, but {made.label} returns "
                        f"{made.output.__name__} with fields {', '.join(fields) or '(none)'}"
                    )
                    errors.append(SequenceFileError(seq.path, seq.line_of(*loc), _dotted(loc), problem))
    return errors


def _missing_inputs(seq: Sequence, step: Step, spec: TypedHandler) -> list[SequenceFileError]:
    missing = [name for name in _required(spec.inputs) if name not in step.inputs]
    if not missing:
        return []
    loc = ("steps", step.index, "with")
    problem = (
        f"{spec.label} takes {spec.inputs.__name__}, which requires "
        f"{', '.join(missing)}; add {'it' if len(missing) == 1 else 'them'} to with"
    )
    return [SequenceFileError(seq.path, seq.line_of(*loc) or step.line, _dotted(loc), problem)]


def _required(model: type[BaseModel]) -> list[str]:
    return [(info.alias or name) for name, info in model.model_fields.items() if info.is_required()]


def _reads(step: Step) -> list[tuple[tuple[str | int, ...], OutputRead]]:
    here: tuple[str | int, ...] = ("steps", step.index)
    found = [
        ((*here, "with", key), read)
        for key, value in step.inputs.items()
        for read in reads_in_template(value)
    ]
    if step.when:
        found += [((*here, "when"), read) for read in reads_in_condition(step.when)]
    if step.approval is not None and step.approval.title:
        found += [((*here, "approval", "title"), read) for read in reads_in_template(step.approval.title)]
    return found
