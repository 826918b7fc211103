"""Identifiers that sort by creation time, so newest-first listings use the primary key."""

from __future__ import annotations

import os
import threading
import time

_RANDOM_BITS = 80


class _Newest:
    """The newest id made in this process: its milliseconds and its random part."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms = 0
        self.random = 0


_newest = _Newest()


def new_id() -> str:
    """A 32-hex-digit id: 48 bits of milliseconds, then 80 random bits.

    Ids made by this process sort in the order they were made, also within one millisecond
    (several events, receipts or steps often are): the random part of the next id in the
    same millisecond is the last one's plus a random step, as monotonic ULIDs do, and a part
    that would overflow moves the id on to the next millisecond."""
    now = int(time.time() * 1000)
    step = int.from_bytes(os.urandom(4)) + 1
    last = _newest
    with last.lock:
        if now > last.ms:
            last.ms, last.random = now, int.from_bytes(os.urandom(10))
        elif last.random + step < 1 << _RANDOM_BITS:
            last.random += step
        else:
            last.ms, last.random = last.ms + 1, int.from_bytes(os.urandom(10)) >> 1
        return f"{last.ms:012x}{last.random:020x}"
