"""Housekeeping beside the job runs: expire approvals past their deadline, carry out committed
effects, queue reminders and deliver messages.

It is kept off the path of a job run: a worker's housekeeping has a timer of its own (a thread
that also wakes when a commit queued an effect or a message, so those still go out at once),
and a run that stops when idle keeps house once when it runs out of work. Each round starts
with one read, its SQL written once per backend, that says which of the duties have anything
due; an idle round costs that one small query and nothing else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from overture.clock import Clock
from overture.core.records import ActionStatus
from overture.engine.humans.approvals import Approvals
from overture.engine.humans.delivery import Delivery
from overture.engine.humans.reminders import REMIND_AT
from overture.engine.run.outbox import OutboxDispatcher
from overture.storage.driver import Driver, decode_time
from overture.storage.queries import approval_messages as messageq
from overture.storage.store import Store

log = logging.getLogger("overture.housekeeping")

_PENDING = ActionStatus.PENDING.value
# Seconds since 1970 of a stored moment: SQLite keeps UTC text, PostgreSQL timestamptz.
_EPOCH = {True: "((julianday({c}) - 2440587.5) * 86400.0)", False: "extract(epoch from {c})"}


def _probe_sql(sqlite: bool) -> str:
    """The one read of a round: the earliest expiry, the earliest effect a dispatcher may claim,
    the earliest message due, and whether an undecided action is owed its reminder now."""
    created = _EPOCH[sqlite].format(c="a.created_at")
    expires = _EPOCH[sqlite].format(c="a.expires_at")
    return (
        "SELECT "
        f"(SELECT min(expires_at) FROM pending_actions WHERE status = '{_PENDING}'), "
        "(SELECT min(coalesce(claimed_until, created_at)) FROM outbox WHERE status = 'pending'), "
        "(SELECT min(claimed_until) FROM outbox WHERE status = 'sending'), "
        "(SELECT min(send_after) FROM notifications WHERE status = 'pending'), "
        f"(SELECT count(*) FROM pending_actions a WHERE a.status = '{_PENDING}' AND a.expires_at > {{p}} "
        f"AND {created} + ({expires} - {created}) * {REMIND_AT} <= {{p}} "
        f"AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = '{messageq.REMINDER}' || a.id))"
    )


_PROBE = {True: _probe_sql(True), False: _probe_sql(False)}


@dataclass(frozen=True)
class Due:
    """Which duties have work now."""

    expiry: bool
    effects: bool
    delivery: bool


@dataclass
class Housekeeper:
    """Runs the duties that are due, one round at a time (rounds never overlap)."""

    store: Store
    clock: Clock
    approvals: Approvals
    outbox: OutboxDispatcher
    delivery: Delivery | None = None
    interval_s: float = 1.0
    settle_s: float = 0.05
    rounds: int = 0
    _poked: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _settle: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def due(self, now: datetime) -> Due:
        """One read: what is due at ``now``."""
        sql = _PROBE[self.store.is_sqlite]
        with self.store.read() as conn:
            drv = Driver.under(conn)
            at = drv.time(now)
            row = drv.first(sql, (at, now.timestamp()))
        assert row is not None
        expiry, pending, held, message = (decode_time(v) for v in row[:4])
        reminders = bool(row[4])

        def by(moment: datetime | None) -> bool:
            return moment is not None and moment <= now

        effects = by(pending) or (held is not None and held < now) or self.outbox.has_late_marks()
        # Feeders besides the reminders (Slack's decision updates) look for their own work.
        feeds = self.delivery is not None and len(self.delivery.feeders) > 1
        delivery = self.delivery is not None and (by(message) or reminders or feeds)
        return Due(expiry=by(expiry), effects=effects, delivery=delivery)

    def run(self, stopping: threading.Event | None = None) -> None:
        """One round: expire, dispatch and deliver what is due."""
        with self._lock:
            self._poked.clear()
            due = self.due(self.clock.now())
            if due.expiry:
                self.approvals.expire_due()
            if due.effects:
                self.outbox.dispatch(stopping)
            if due.delivery and self.delivery is not None:
                self.delivery.deliver_due()
            self.rounds += 1

    def poke(self) -> None:
        """Something was queued for a duty (an effect, a message): keep house now."""
        self._poked.set()

    def loop(self, done: Callable[[], bool], round_: Callable[[], None]) -> None:
        """Call ``round_`` every ``interval_s`` until ``done()``; when poked, after ``settle_s``,
        so what several commits queued close together goes out in one round."""
        while not done():
            if self._poked.wait(self.interval_s) and not done():
                self._settle.wait(self.settle_s)
            if done():
                return
            round_()

    def restart(self) -> None:
        self._settle.clear()

    def stop(self) -> None:
        """End a wait (the loop's ``done`` says whether to go on)."""
        self._settle.set()
        self._poked.set()
