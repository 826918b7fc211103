"""Identifiers that sort by creation time, so newest-first listings use the primary key."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """A 32-hex-digit id: 48 bits of milliseconds, then 80 random bits."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"
