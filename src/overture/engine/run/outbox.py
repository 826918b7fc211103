"""Carries out committed side effects after commit, under fenced, renewable claims.

A dispatcher claims a few rows at a time under a token of its own and renews the claim from a
side thread while it works, so a slow effect is never taken over by another worker while its
dispatcher lives; every write about a row afterwards is conditional on the token (see
``storage.queries.outbox``), so one whose claim did run out changes nothing.

Each attempt is recorded before the handler acts (``started_at``) and its outcome after. A row
reclaimed with an attempt started but no outcome belonged to a worker that died in between:
- a handler whose receiver recognises a repeat by the key (a file named by it, a CRM upsert
  keyed on it) is simply called again: exactly once as seen from outside;
- a handler marked ``unrepeatable`` (SMTP: a server cannot be asked whether it has a message)
  is not called again: the row goes ``in_doubt``, the job is flagged and the rep told, and a
  person retries it if the message did not arrive.
Failures are retried with backoff; after ``MAX_ATTEMPTS`` the row is ``failed``, flagged on the
job and reported the same way (see ``effects``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from overture.clock import Clock
from overture.core.step_context import EffectRequest
from overture.engine.registry import Registry
from overture.engine.run.effects import report_failure
from overture.ids import new_id
from overture.storage.outage import is_unavailable
from overture.storage.queries import outbox as outq
from overture.storage.store import Store

log = logging.getLogger("overture.outbox")
MAX_ATTEMPTS = 5
CLAIM_S = 30.0  # a claim's life; renewed every RENEW_S while its dispatcher works
RENEW_S = 10.0
BATCH = 5
MAX_BACKOFF_S = 60.0
IN_DOUBT = (
    "an earlier attempt was interrupted (its worker stopped) before its outcome was recorded, "
    "so it may have been delivered; not repeated blindly: check with the recipient and retry it "
    "if it did not arrive"
)
F = TypeVar("F", bound=Callable[..., Any])
_UNREPEATABLE = "overture_unrepeatable"


def unrepeatable(handler: F) -> F:
    """Mark an effect handler whose receiver cannot recognise a repeat of the same key (SMTP):
    an attempt interrupted by a dying worker is reported in doubt instead of made again."""
    setattr(handler, _UNREPEATABLE, True)
    return handler


def is_unrepeatable(handler: Callable[..., Any]) -> bool:
    return bool(getattr(handler, _UNREPEATABLE, False))


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 1 s, 2 s, 4 s ... at most a minute."""
    return timedelta(seconds=min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Mark:
    """An outcome not yet recorded because the database was away; recorded when it is back."""

    row: dict[str, Any]
    token: str
    status: str
    error: str | None
    retry_at: datetime | None


class _Renewal:
    """Keeps a claim alive from a side thread while its dispatcher works through the rows."""

    def __init__(self, store: Store, clock: Clock, token: str, claim_s: float, every_s: float) -> None:
        self._store, self._clock, self._token = store, clock, token
        self._claim_s, self._every_s = claim_s, every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"outbox-renew-{token[-6:]}", daemon=True)

    def __enter__(self) -> _Renewal:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._every_s):
            try:
                with self._store.write() as conn:
                    until = self._clock.now() + timedelta(seconds=self._claim_s)
                    outq.renew(conn, self._token, until)
            except Exception as exc:  # the database is away: try again at the next tick
                log.warning("outbox claim renewal failed (%s); trying again", type(exc).__name__)


@dataclass
class OutboxDispatcher:
    store: Store
    registry: Registry
    clock: Clock
    claim_s: float = CLAIM_S
    renew_s: float = RENEW_S
    batch: int = BATCH
    actor: str = "outbox"
    _unmarked: list[_Mark] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def dispatch(self, stopping: threading.Event | None = None) -> int:
        """Carry out everything due, a few rows per claim; returns how many succeeded. Stops
        between effects when ``stopping`` is set, giving back the rows not started."""
        self._record_late_marks()
        total = 0
        while stopping is None or not stopping.is_set():
            token = new_id()
            now = self.clock.now()
            with self.store.write() as conn:
                rows = outq.claim(conn, token, now, now + timedelta(seconds=self.claim_s), self.batch)
            if not rows:
                return total
            with _Renewal(self.store, self.clock, token, self.claim_s, self.renew_s):
                for row in rows:
                    if stopping is not None and stopping.is_set():
                        break
                    done = self._carry_out(row, token)
                    if done is None:  # the claim is lost: another dispatcher has these rows
                        break
                    total += done
            with self.store.write() as conn:
                outq.release(conn, token)
            if len(rows) < self.batch:
                return total
        return total

    def has_late_marks(self) -> bool:
        """Outcomes still to record from a time the database was away."""
        with self._lock:
            return bool(self._unmarked)

    def _carry_out(self, row: dict[str, Any], token: str) -> int | None:
        """One row: 1 when carried out, 0 when not (yet), None when the claim was lost."""
        handler = self.registry.effects.get(row["kind"])
        if handler is None:
            self._finish(row, token, "failed", f"no handler registered for effect kind {row['kind']!r}")
            return 0
        if row["started_at"] is not None and is_unrepeatable(handler):
            log.warning("effect %s (%s) is in doubt: its worker died mid-attempt", row["id"], row["kind"])
            self._finish(row, token, "in_doubt", IN_DOUBT)
            return 0
        now = self.clock.now()
        with self.store.write() as conn:
            if not outq.start(conn, row["id"], token, now, now + timedelta(seconds=self.claim_s)):
                return None
        effect = EffectRequest(
            row["idempotency_key"], row["kind"], row["payload"], row["org_id"], row["job_id"]
        )
        try:
            handler(effect)
        except Exception as exc:
            attempts = row["attempts"] + 1
            # The type only: messages from mail servers and APIs may carry addresses.
            log.warning(
                "effect %s (%s) attempt %d failed: %s", row["id"], row["kind"], attempts, type(exc).__name__
            )
            error = f"{type(exc).__name__}: {exc}"
            if attempts >= MAX_ATTEMPTS:
                self._finish(row, token, "failed", error)
            else:
                self._finish(row, token, "pending", error, self.clock.now() + backoff(attempts))
            return 0
        self._finish(row, token, "sent", None)
        return 1

    def _finish(
        self,
        row: dict[str, Any],
        token: str,
        status: str,
        error: str | None,
        retry_at: datetime | None = None,
    ) -> None:
        mark = _Mark(row, token, status, error, retry_at)
        try:
            self._record(mark)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            with self._lock:  # recorded when the database is back, if the claim still holds
                self._unmarked.append(mark)
            raise

    def _record(self, mark: _Mark) -> None:
        row, now = mark.row, self.clock.now()
        final = mark.status in outq.FAILED
        with self.store.write() as conn:
            if final and row["job_id"]:
                outq.lock_job(conn, row["job_id"])
            if not outq.finish(conn, row["id"], mark.token, mark.status, now, mark.error, mark.retry_at):
                log.warning("effect %s: claim lost before its outcome was recorded", row["id"])
                return
            if final:
                report_failure(conn, row, mark.status, mark.error or "", now, self.actor)

    def _record_late_marks(self) -> None:
        with self._lock:
            marks, self._unmarked = self._unmarked, []
        for i, mark in enumerate(marks):
            try:
                self._record(mark)
            except Exception:
                with self._lock:
                    self._unmarked.extend(marks[i:])
                raise
