"""Reading JSON a sender controls, within limits: size, nesting depth and number of keys.

Python's ``json`` recurses once per level, so a body nested a few thousand levels deep raises
``RecursionError`` wherever it is parsed, and a small body can hold a great many keys. Every
body that comes from outside (the /v1 API's bodies, each webhook's body, a Slack payload, a
Pub/Sub message's data, a fetched transcript) is read here: its shape is measured in one pass
that never recurses, before the parser sees it, and a body over a limit is refused with
``JsonRefused`` (a ``ValueError``) saying which limit. NaN and Infinity, which no backend
stores, are refused too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any


@dataclass(frozen=True)
class JsonLimits:
    """How much JSON one read may take."""

    max_bytes: int = 1_048_576
    max_depth: int = 128
    max_keys: int = 100_000


#: A request body's limits: depth above what an event payload may have (100), keys beyond any
#: real sender's body of the size limit.
REQUEST = JsonLimits()


class JsonRefused(ValueError):
    """The JSON is over one of the limits it is read with."""


# A JSON string, escapes included (unrolled so that a long string is one fast match).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# What each byte does to the depth: +1 for [ and {, -1 for ] and }, nothing otherwise.
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
_NOT_BRACKETS = bytes(b for b in range(256) if not _STEP[b])


def measure(raw: bytes) -> tuple[int, int]:
    """The deepest nesting and the number of object keys in ``raw``, counted outside strings
    (exact for valid JSON; for invalid JSON the parser's error follows anyway)."""
    bare = _STRING.sub(b'""', raw)
    brackets = bare.translate(None, _NOT_BRACKETS)
    depth = max(accumulate(_STEP[b] for b in brackets), default=0)
    return max(depth, 0), bare.count(b":")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check(raw: bytes | str, limits: JsonLimits = REQUEST, what: str = "the body") -> None:
    """Raise ``JsonRefused`` naming the first limit ``raw`` is over, without parsing it."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > limits.max_bytes:
        raise JsonRefused(f"{what} is {len(data)} bytes; at most {limits.max_bytes} are read")
    depth, keys = measure(data)
    if depth > limits.max_depth:
        raise JsonRefused(f"{what} is nested {depth} levels deep; at most {limits.max_depth} are read")
    if keys > limits.max_keys:
        raise JsonRefused(f"{what} has {keys} keys; at most {limits.max_keys} are read")


def loads(raw: bytes | str, limits: JsonLimits = REQUEST, what: str = "the body") -> Any:
    """``raw`` parsed, or ``JsonRefused`` naming the limit it is over; a ``ValueError`` (such
    as ``json.JSONDecodeError`` or ``UnicodeDecodeError``) when it is not JSON."""
    check(raw, limits, what)
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except RecursionError:  # measure() counts valid JSON exactly; this is for what it cannot
        raise JsonRefused(f"{what} is nested too deeply") from None


def refusal(exc: ValueError, what: str = "the body") -> str:
    """What to tell the sender about ``exc`` from ``loads``: the limit, or why it is not JSON."""
    if isinstance(exc, JsonRefused):
        return str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return f"{what} is not valid JSON: not UTF-8 text"
    return f"{what} is not valid JSON: {exc}"
