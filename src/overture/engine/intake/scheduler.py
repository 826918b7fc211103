"""The scheduler: fires each due cron slot once as an event, records missed ones, and sleeps.

Every slot is claimed in the same transaction that ingests its event, keyed by (schedule,
target, instant), so a restart or a second scheduler never fires twice. On PostgreSQL one
scheduler leads at a time through a session advisory lock; the others wait their turn.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from overture.clock import Clock
from overture.core.hours import parse_workdays
from overture.core.records import Event
from overture.core.schedules import Per, ScheduleSpec, SlotFate, fate, next_slot, slots_between
from overture.engine.audit import audit_row
from overture.engine.intake.ingest import Ingestor
from overture.storage.queries import jobs as jobq
from overture.storage.queries import schedules as schedq
from overture.storage.queries import tenancy
from overture.storage.store import Store

log = logging.getLogger("overture.scheduler")
LEADER_LOCK = 0x0F3A_7E11


@dataclass(frozen=True)
class Target:
    """Who a slot fires for, and in which zone the cron is read."""

    key: str
    org_id: str
    user_id: str
    zone: ZoneInfo
    workdays: frozenset[int] | None


@dataclass
class TickReport:
    fired: list[tuple[str, str, datetime]] = field(default_factory=list)
    missed: list[tuple[str, str, datetime]] = field(default_factory=list)


@dataclass
class Scheduler:
    store: Store
    ingestor: Ingestor
    clock: Clock
    specs: list[ScheduleSpec]
    name: str = "scheduler"
    poll_s: float = 30.0
    stopping: threading.Event = field(default_factory=threading.Event)

    def targets(self, spec: ScheduleSpec) -> list[Target]:
        with self.store.read() as conn:
            orgs = tenancy.list_orgs(conn)
            users = {o.id: tenancy.list_users(conn, o.id) for o in orgs}
        out: list[Target] = []
        for org in orgs:
            people = users[org.id]
            if spec.per == Per.USER:
                out.extend(
                    Target(
                        f"{org.id}/{u.id}",
                        org.id,
                        u.id,
                        spec.zone_for(u.timezone),
                        parse_workdays(u.workdays),
                    )
                    for u in people
                )
            elif people:
                owner = next((u for u in people if u.role == "admin"), people[0])
                out.append(Target(org.id, org.id, owner.id, spec.zone_for(None), None))
        return out

    def tick(self) -> TickReport:
        """Fire every slot that fell due since the last tick (missed ones past grace are recorded)."""
        now = self.clock.now()
        report = TickReport()
        for spec in self.specs:
            with self.store.read() as conn:
                since = schedq.checked_until(conn, spec.name) or now - spec.grace
            for target in self.targets(spec):
                for slot in slots_between(spec, target.zone, since, now):
                    self._slot(spec, target, slot, now, report)
            with self.store.write() as conn:
                schedq.set_checked_until(conn, spec.name, now)
        return report

    def _slot(
        self, spec: ScheduleSpec, target: Target, slot: datetime, now: datetime, report: TickReport
    ) -> None:
        outcome = fate(spec, slot, now, target.workdays)
        if outcome == SlotFate.NOT_A_WORKDAY:
            return
        with self.store.write() as conn:
            if not schedq.claim_slot(conn, spec.name, target.key, slot, outcome.value, self.name, now):
                return
            if outcome == SlotFate.MISSED:
                jobq.insert_audit(
                    conn,
                    [
                        audit_row(
                            now,
                            "schedule_missed",
                            "outside_grace",
                            org_id=target.org_id,
                            actor=self.name,
                            schedule=spec.name,
                            target=target.key,
                            slot=slot.isoformat(),
                            late_s=(now - slot).total_seconds(),
                        )
                    ],
                )
                report.missed.append((spec.name, target.key, slot))
                return
            result = self.ingestor.ingest_in(conn, self._event(spec, target, slot, now), now)
            schedq.set_fire_event(conn, spec.name, target.key, slot, result.event_id)
        report.fired.append((spec.name, target.key, slot))
        if result.status == "accepted":
            self.store.notify_work()

    @staticmethod
    def _event(spec: ScheduleSpec, target: Target, slot: datetime, now: datetime) -> Event:
        payload: dict[str, Any] = {
            **spec.payload,
            "scheduled_for": slot.isoformat(),
            "local_date": slot.date().isoformat(),
        }
        return Event(
            type=spec.event_type,
            source=spec.source,
            org_id=target.org_id,
            user_id=target.user_id,
            payload=payload,
            occurred_at=now,
            idempotency_key=f"schedule:{spec.name}:{target.key}:{slot.isoformat()}",
        )

    def seconds_to_next(self) -> float:
        """How long the loop may sleep: until the next slot of any target, at most ``poll_s``."""
        now = self.clock.now()
        soonest = now + timedelta(seconds=self.poll_s)
        for spec in self.specs:
            for target in self.targets(spec):
                soonest = min(soonest, next_slot(spec, target.zone, now))
        return max(0.05, (soonest - now).total_seconds())

    def run(self) -> None:
        """Lead (on PostgreSQL, one scheduler at a time) and tick until stopped."""
        leader = _Leadership(self.store)
        try:
            while not self.stopping.is_set():
                if not leader.acquire():
                    self.stopping.wait(self.poll_s)
                    continue
                report = self.tick()
                if report.fired or report.missed:
                    log.info("scheduler fired %d slot(s), missed %d", len(report.fired), len(report.missed))
                self.stopping.wait(self.seconds_to_next())
        finally:
            leader.release()

    def stop(self) -> None:
        self.stopping.set()


class _Leadership:
    """A PostgreSQL session advisory lock held on a dedicated connection; always granted on SQLite."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._raw: Any = None
        self._held = False

    def acquire(self) -> bool:
        if self.store.is_sqlite or self._held:
            return True
        if self._raw is None:
            self._raw = self.store.engine.raw_connection()
            self._raw.driver_connection.autocommit = True
        row = self._raw.driver_connection.execute(
            "SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)
        ).fetchone()
        self._held = bool(row and row[0])
        if not self._held:
            self.release()
        return self._held

    def release(self) -> None:
        if self._raw is not None:
            try:
                self._raw.driver_connection.execute("SELECT pg_advisory_unlock_all()")
            finally:
                self._raw.driver_connection.autocommit = False
                self._raw.close()
                self._raw = None
                self._held = False
