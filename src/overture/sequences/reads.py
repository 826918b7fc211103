"""What a ``with``, ``when`` or title expression reads from ``outputs``, found in its syntax tree.

``outputs.draft.body`` and ``outputs['draft-email'].body`` both read step ``draft`` (or
``draft-email``) and its field ``body``. The loader uses this to refuse a read of a step that does
not run before the reader, and ``packs validate`` to check the field against a typed skill's
output model. Keys computed at run time (``outputs[name]``) are not followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from overture.sequences.expressions import has_template_syntax

_ENV = ImmutableSandboxedEnvironment()


@dataclass(frozen=True, slots=True)
class OutputRead:
    """One read: the step whose output is read, and the first field read from it (if any)."""

    step: str
    field: str | None


def reads_in_condition(source: str) -> list[OutputRead]:
    """The reads of a ``when`` expression."""
    return _reads("{{ " + source + " }}")


def reads_in_template(value: object) -> list[OutputRead]:
    """The reads of every template string inside a ``with`` value or a title."""
    if isinstance(value, str):
        return _reads(value) if has_template_syntax(value) else []
    if isinstance(value, Mapping):
        return [read for item in value.values() for read in reads_in_template(item)]
    if isinstance(value, list | tuple):
        return [read for item in value for read in reads_in_template(item)]
    return []


def _reads(source: str) -> list[OutputRead]:
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError:
        return []  # reported as a syntax error by the expression checks
    found: dict[tuple[str, str | None], None] = {}
    _walk(tree, found, called=False)
    steps_with_fields = {step for step, field in found if field is not None}
    return [
        OutputRead(step, field) for step, field in found if field is not None or step not in steps_with_fields
    ]


def _walk(node: nodes.Node, found: dict[tuple[str, str | None], None], called: bool) -> None:
    chain = _chain(node)
    if chain is not None:
        if called:  # outputs.a.items(): the last name is a method, not data
            chain = chain[:-1]
        if chain:
            found[(chain[0], chain[1] if len(chain) > 1 else None)] = None
        while isinstance(node, nodes.Getattr | nodes.Getitem):  # keys that are reads themselves
            if isinstance(node, nodes.Getitem):
                _walk(node.arg, found, called=False)
            node = node.node
        return
    for child in node.iter_child_nodes():
        _walk(child, found, called=isinstance(node, nodes.Call) and child is node.node)


def _chain(node: nodes.Node) -> list[str] | None:
    """For ``outputs.a['b'].c``: ["a", "b", "c"]; None when ``node`` is no such access."""
    keys: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            keys.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str | int):
            keys.append(str(node.arg.value))
        else:
            keys.clear()  # a computed key: only what precedes it can be named
        node = node.node
    if isinstance(node, nodes.Name) and node.name == "outputs" and keys:
        return list(reversed(keys))
    return None
