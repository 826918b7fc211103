"""In-process wake-ups when a worker has run a job to a stopping point.

Whoever waits for a job in the worker's process (``App.run_event``, a ``/v1`` long-poll under
``overture serve``) is told at once instead of polling storage. A signal is only a hint: the
waiter reads the job again to see where it stands, so a missed one costs latency, never
correctness (a worker in another process sends none; waiters there fall back to a slow poll).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from overture.core.records import JobStatus

log = logging.getLogger("overture.worker")

#: Called with the job's id and status after a run, or with None when the process is stopping.
Watcher = Callable[[str, JobStatus | None], None]


def settled(status: JobStatus) -> bool:
    """Ended, or paused for a person: waiting longer for the job changes nothing by itself."""
    return status.final or status == JobStatus.AWAITING_APPROVAL


def waited_enough(status: JobStatus, run_after: datetime | None, until: datetime) -> bool:
    """Settled, or deferred past ``until`` (a user's hours, a long back-off): a wait that ends
    then may as well end now."""
    deferred = status == JobStatus.DEFERRED and (run_after is None or run_after > until)
    return settled(status) or deferred


class JobSignals:
    """Watchers by job id, called from the worker thread after each run of that job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchers: dict[str, list[Watcher]] = {}
        self.closed = False

    def watch(self, job_id: str, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher(job_id, status)`` after each run of the job; returns the unsubscribe."""
        with self._lock:
            self._watchers.setdefault(job_id, []).append(watcher)

        def unwatch() -> None:
            with self._lock:
                left = [w for w in self._watchers.get(job_id, []) if w is not watcher]
                if left:
                    self._watchers[job_id] = left
                else:
                    self._watchers.pop(job_id, None)

        return unwatch

    def ran(self, job_id: str, status: JobStatus | str) -> None:
        """A worker ran the job (committed) and it now stands at ``status``."""
        with self._lock:
            watchers = list(self._watchers.get(job_id, ()))
        if watchers:
            self._call([(job_id, w) for w in watchers], JobStatus(status))

    def close(self) -> None:
        """The process is stopping: every waiter is woken (with None) to answer now, rather than
        hold the shutdown up until its wait runs out."""
        with self._lock:
            self.closed = True
            watchers = [(job_id, w) for job_id, ws in self._watchers.items() for w in ws]
        self._call(watchers, None)

    @staticmethod
    def _call(watchers: list[tuple[str, Watcher]], status: JobStatus | None) -> None:
        for job_id, watcher in watchers:
            try:
                watcher(job_id, status)
            except Exception:  # a waiter's failure must never stop the worker
                log.exception("a watcher of job %s failed", job_id)
