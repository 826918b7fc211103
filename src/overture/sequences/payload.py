"""A sequence's declared payload: the fields its steps need, read from the sequence file's
``payload:`` block and checked at ingest, so an event that cannot run is refused at the door
instead of failing at step 1 and being retried for nothing.

The block maps a field (a dotted path such as ``thread.id``) to its type. The short form
``meeting_id: string`` makes the field required; the long form
``participants: {type: list, required: false}`` declares an optional one, whose type is checked
only when it is present and not null.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from overture.sequences.model import Loc, PayloadField, PayloadSchema
from overture.sequences.source import _kind, _suggest

#: The types a payload field may declare, with what each accepts.
TYPES: Mapping[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "mapping": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}
_FIELD_KEYS = ("type", "required")
_PATH = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def payload_problems(
    schema: PayloadSchema, payload: Mapping[str, Any], needed_by: str = "this sequence"
) -> list[tuple[str, str]]:
    """Every declared field that is missing or of the wrong type, as (``payload.FIELD``, message)."""
    found: list[tuple[str, str]] = []
    for f in schema.fields:
        value = _lookup(payload, f.path)
        where = f"payload.{f.path}"
        if value is _ABSENT or value is None:
            if f.required:
                what = "missing" if value is _ABSENT else "null"
                found.append((where, f"{what}; {needed_by} needs it ({_a(f.type)})"))
            continue
        if not TYPES[f.type](value):
            found.append((where, f"expected {_a(f.type)}, got {_kind(value)}"))
    return found


def read_schema(value: Any, fail: Callable[[Loc, str], None]) -> PayloadSchema | None:
    """The ``payload:`` block as a schema; each problem is reported through ``fail`` at its
    location (the sequence checker adds file and line)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        fail(("payload",), f"expected a mapping of field: type, got {_kind(value)}")
        return None
    fields: list[PayloadField] = []
    for name, spec in value.items():
        loc: Loc = ("payload", str(name))
        if not isinstance(name, str) or not _PATH.fullmatch(name):
            fail(loc, f"{name!r} is not a valid field path such as thread.id")
            continue
        field = _field(name, spec, loc, fail)
        if field is not None:
            fields.append(field)
    if not value:
        fail(("payload",), "declare at least one field, or leave payload out")
    return PayloadSchema(tuple(fields))


def _field(name: str, spec: Any, loc: Loc, fail: Callable[[Loc, str], None]) -> PayloadField | None:
    required: Any = True
    if isinstance(spec, dict):
        for key in spec:
            if key not in _FIELD_KEYS:
                hint = _suggest(str(key), _FIELD_KEYS)
                fail((*loc, str(key)), f"unknown key {key!r}{hint}; valid keys: {', '.join(_FIELD_KEYS)}")
        if "type" not in spec:
            fail((*loc, "type"), "required key is missing")
            return None
        required = spec.get("required", True)
        if not isinstance(required, bool):
            fail((*loc, "required"), f"expected true or false, got {_kind(required)}")
            return None
        spec, loc = spec["type"], (*loc, "type")
    if not isinstance(spec, str) or spec not in TYPES:
        got = repr(spec) if isinstance(spec, str) else _kind(spec)
        hint = _suggest(spec, list(TYPES)) if isinstance(spec, str) else ""
        fail(loc, f"expected a type ({', '.join(TYPES)}), got {got}{hint}")
        return None
    return PayloadField(name, spec, required)


_ABSENT: Any = object()


def _lookup(payload: Mapping[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _a(type_name: str) -> str:
    return (
        "any value"
        if type_name == "any"
        else f"an {type_name}"
        if type_name[0] in "aeiou"
        else f"a {type_name}"
    )
