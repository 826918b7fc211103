"""A stop signal's handler interrupted by the next signal (``timeout`` passing one on while a
supervisor sends its own) must not wait on the locks it holds itself: serve hung so."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

from overture.cli.loops import once


def _interrupted_stop(wrap: Callable[[Callable[[], None]], Callable[[], None]]) -> list[str]:
    """What a stop did when a second SIGTERM arrived while it held its lock."""
    lock = threading.Lock()
    happened: list[str] = []

    def stop() -> None:
        if not lock.acquire(timeout=1):
            happened.append("waited on itself")
            return
        try:
            happened.append("stopped")
            os.kill(os.getpid(), signal.SIGTERM)  # the next signal, mid-stop
            time.sleep(0.05)  # its handler runs here, in this same thread
        finally:
            lock.release()

    handler = wrap(stop)
    previous = signal.signal(signal.SIGTERM, lambda _sig, _frame: handler())
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return happened


def test_a_stop_run_once_does_not_wait_on_itself() -> None:
    assert _interrupted_stop(once) == ["stopped"]


def test_without_it_the_second_signal_waits_on_the_first() -> None:
    """The failure ``once`` prevents, shown: the nested stop waits for a lock its own thread holds."""
    assert _interrupted_stop(lambda stop: stop) == ["stopped", "waited on itself"]
