"""What both databases can store: no NUL characters, valid Unicode, finite numbers, bounded depth.

Checked where data enters (events, decision modifications), so a bad value is a precise
validation error instead of a database error halfway through a transaction.
"""

from __future__ import annotations

import math
from typing import Any

from overture.errors import ValidationFailed

MAX_DEPTH = 100


def check_storable(value: Any, root: str = "body") -> None:
    """Raise ValidationFailed naming a value (and where it is) that the databases cannot store."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        where = path or root
        if depth > MAX_DEPTH:
            raise ValidationFailed(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValidationFailed(f"{where}: number out of range")
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(str(key), f"{where}: key {str(key)[:40]!r}")
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise ValidationFailed(f"{path}: NUL characters (\\u0000) are not allowed")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed(f"{path}: not valid Unicode (a lone surrogate)") from None
