"""Human durations such as ``150s``, ``5m``, ``48h``, ``2d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | int | float) -> timedelta:
    """Parse a duration; a bare number is seconds. Raises ValueError naming the input."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"duration must not be negative: {text!r}")
        return timedelta(seconds=text)
    s = text.strip().replace(" ", "")
    if not s:
        raise ValueError("empty duration")
    pos = 0
    total = 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        try:
            total, pos = float(s), len(s)
        except ValueError:
            raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 48h, 2d or 1h30m)") from None
        if total < 0:
            raise ValueError(f"duration must not be negative: {text!r}")
    return timedelta(seconds=total)
