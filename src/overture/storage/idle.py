"""Worker lanes of this process that wait for work, so the commit that makes a job runnable
(an ingested event, a human decision) can take the job for one of them in that same
transaction and hand it over: no claim transaction of its own and no polling delay.

A waiting lane parks a slot. A committer takes a slot before its transaction, writes the job
as leased to the slot's owner, and after the commit gives the slot the job (or nothing, when
the transaction failed or made no runnable job, which puts the slot back for the next one).
A lane that stops waiting while its slot is taken waits for that outcome, so a handed-over job
is never left unrun: at worst its lease runs out, as after any claim by a worker that died.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Slot:
    """One waiting lane's offer: who takes a job handed to it, under what lease."""

    __slots__ = ("_done", "_state", "job", "lease_s", "leaving", "owner", "reads")

    def __init__(self, owner: str, lease_s: float) -> None:
        self.owner = owner
        self.lease_s = lease_s
        self.job: Any = None
        self.reads: Any = None  # what the committer read for the job's run (the lane need not)
        self.leaving = False
        self._done = threading.Event()
        self._state = "parked"

    @property
    def handed(self) -> bool:
        """A committer has given this slot its outcome."""
        return self._done.is_set()


class IdleLanes:
    """The slots of the lanes waiting now; ``wake`` wakes waiting lanes to look at theirs."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._slots: list[Slot] = []

    @property
    def waiting(self) -> int:
        """How many lanes wait with a slot parked now."""
        with self._lock:
            return len(self._slots)

    def park(self, slot: Slot) -> None:
        with self._lock:
            slot._state = "parked"
            self._slots.append(slot)

    def take(self) -> Slot | None:
        """The lane that went idle last (its connection and caches are warm), if any waits."""
        with self._lock:
            if not self._slots:
                return None
            slot = self._slots.pop()
            slot._state = "taken"
            return slot

    def give(self, slot: Slot, job: Any) -> None:
        """After the commit: hand ``job`` over, or (None) put the slot back for the next commit."""
        with self._lock:
            if job is None and not slot.leaving:
                slot._state = "parked"
                self._slots.append(slot)
                return
            slot.job = job
            slot._state = "given"
        slot._done.set()
        self._wake()

    def leave(self, slot: Slot) -> Any:
        """Stop waiting; returns the job handed over, if any (waits for a committer that took
        the slot to say how its commit went)."""
        with self._lock:
            if slot._state == "parked":
                self._slots.remove(slot)
                slot._state = "left"
                return None
            slot.leaving = True
        slot._done.wait()
        return slot.job
