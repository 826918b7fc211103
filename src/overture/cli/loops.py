"""The loops ``overture serve`` runs beside the API: the worker, the scheduler and the webhook
resume round, each in a daemon thread that is started again when it stops on an error.

A worker that dies must not leave the API answering "ready" while events pile up unrun: the
loop is restarted (a fresh worker, after tenacity's jittered backoff) and, until it runs and
reaches the database, ``problem`` says why for /readyz.
"""

from __future__ import annotations

import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from tenacity import RetryCallState, Retrying, wait_random_exponential

from overture.engine.intake.scheduler import Scheduler
from overture.engine.run.worker import Worker
from overture.storage.outage import is_unavailable

log = logging.getLogger("overture.serve")

#: The signals that stop a service cleanly.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def once(action: Callable[[], None]) -> Callable[[], None]:
    """``action``, run by the first call only; later calls return at once. A stop signal's
    handler can be interrupted by the next signal (``timeout`` and a supervisor both sending
    SIGTERM): a second run inside the first would wait forever on the locks the first holds.
    ``next`` on a counter is one step the interpreter does not interrupt, unlike a test-and-set."""
    calls = itertools.count()

    def first() -> None:
        if next(calls) == 0:
            action()

    return first


#: How often webhook work left undone (a crash after the answer) is tried again.
RESUME_EVERY_S = 60.0


class Every:
    """Call ``fn`` every ``interval_s`` seconds until stopped (for webhook work left undone by a
    crash after the answer: receipts still ``accepted``, or ``failed`` ones worth another try)."""

    def __init__(self, label: str, interval_s: float, fn: Callable[[], Any]) -> None:
        self.label = label
        self.interval_s = interval_s
        self.fn = fn
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval_s):
            try:
                self.fn()
            except Exception as exc:
                if is_unavailable(exc):  # an outage is one line, not a traceback each round
                    log.warning(
                        "%s: the database is unreachable; trying again in %ss", self.label, self.interval_s
                    )
                else:
                    log.exception("%s failed; trying again in %ss", self.label, self.interval_s)

    def background(self) -> Background:
        return Background(self.label, lambda: (self.run, self.stopping.set))


#: The longest wait before a loop that stopped on an error is started again.
MAX_RESTART_DELAY_S = 30.0
Loop = tuple[Callable[[], Any], Callable[[], None]]


class Background:
    """A worker or scheduler loop in a daemon thread, stopped on request, and started again
    (a fresh one, after a jittered backoff) when it stops on an error: the API never keeps
    serving beside a dead worker. ``problem`` says why the loop cannot work now, for /readyz."""

    def __init__(
        self, label: str, make: Callable[[], Loop], health: Callable[[], str | None] | None = None
    ) -> None:
        self.label = label
        self._make = make
        self._run_loop, self._stop = make()
        self._health = health
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.restarts = 0
        self.down_since: float | None = None
        self.thread = threading.Thread(target=self._run, name=label, daemon=True)

    @classmethod
    def for_worker(cls, make_worker: Callable[[], Worker]) -> Background:
        current: list[Worker] = []

        def make() -> Loop:
            worker = make_worker()
            current[:] = [worker]
            return worker.run, worker.stop

        def health() -> str | None:
            if current and current[0].outage.since is not None:
                return "the worker cannot reach the database"
            return None

        loop = cls("worker", make, health)
        loop.label = f"worker {current[0].name}"
        return loop

    @classmethod
    def for_scheduler(cls, make_scheduler: Callable[[], Scheduler]) -> Background:
        def make() -> Loop:
            scheduler = make_scheduler()
            return scheduler.run, scheduler.stop

        return cls("scheduler", make)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._run_loop()
                return  # a loop returns when it was stopped
            except Exception as exc:
                self.restarts += 1
                self.down_since = time.monotonic()
                delay = restart_delay(self.restarts)
                log.error(
                    "%s stopped on an error (%s); starting it again in %.1fs",
                    self.label,
                    type(exc).__name__,
                    delay,
                    exc_info=self.restarts == 1 and not is_unavailable(exc),
                )
            if self._stopped.wait(delay):
                return
            with self._lock:
                if self._stopped.is_set():
                    return
                try:
                    self._run_loop, self._stop = self._make()
                except Exception as exc:
                    log.warning("%s could not be started again (%s)", self.label, type(exc).__name__)
                    self._run_loop = _raise(exc)
            self.down_since = None

    def problem(self) -> str | None:
        """Why this loop is not working now, or None."""
        if self._stopped.is_set():
            return None
        if self.down_since is not None:
            return f"the {self.label.split()[0]} stopped on an error and is being restarted"
        if not self.thread.is_alive():
            return f"the {self.label.split()[0]} is not running"
        return self._health() if self._health is not None else None

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stop taking work; a job in hand is handed back after its current step is recorded."""
        with self._lock:
            self._stopped.set()
            self._stop()

    def join(self, timeout: float) -> bool:
        """Wait for the loop to end; False when it is still busy after ``timeout``."""
        self.thread.join(timeout)
        return not self.thread.is_alive()


_BACKOFF = wait_random_exponential(multiplier=0.5, max=MAX_RESTART_DELAY_S)


def restart_delay(restarts: int) -> float:
    """Jittered exponential backoff (tenacity's) before the ``restarts``-th start again."""
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = restarts
    return float(_BACKOFF(state))


def _raise(exc: Exception) -> Callable[[], Any]:
    def fail() -> Any:
        raise exc

    return fail
