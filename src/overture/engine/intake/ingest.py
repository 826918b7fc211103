"""Ingest: validate an event, pass it through the five gates, record the outcome, queue its job."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from overture.core import budget as budgets
from overture.core.dedupe import dedupe_key, dedupe_window
from overture.core.gates import GateDecision, GateFacts, Outcome, Reason, UserFacts, decide
from overture.core.hours import ActiveHours
from overture.core.ingest_rate import IngestRate
from overture.core.ingest_rate import throttle as rate_throttle
from overture.core.records import Event, IngestResult, JobStatus
from overture.engine.audit import audit_row
from overture.engine.registry import Registry
from overture.errors import Forbidden, InvalidToken, PayloadInvalid, ValidationFailed
from overture.ids import new_id
from overture.observability import tracing
from overture.sequences.payload import payload_problems
from overture.storage import intake
from overture.storage.driver import Driver
from overture.storage.held import HeldWriter
from overture.storage.idle import Slot
from overture.storage.queries import jobs as jobq
from overture.storage.queries.budgets import budget_state
from overture.storage.store import Store

log = logging.getLogger("overture.ingest")

ROOT_DEPTH = 1


def budget_notice(org_id: str, user_id: str, period: str, now: datetime) -> dict[str, Any]:
    """The once-per-period message that the AI budget is spent."""
    start = budgets.period_start(period, now)
    return {
        "id": new_id(),
        "org_id": org_id,
        "user_id": user_id,
        "channel": "inbox",
        "kind": "budget_exceeded",
        "dedupe_key": f"budget_exceeded:{org_id}:{user_id}:{period}:{start.date().isoformat()}",
        "status": "pending",
        "body": {"text": "AI budget limit reached. Pausing proactive workflows until next billing period."},
        "job_id": None,
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }


def _user_facts(user: intake.UserHours) -> UserFacts:
    hours = ActiveHours.parse(user.active_hours, user.workdays) if user.active_hours else None
    return UserFacts(user_id=user.id, timezone=user.timezone, active_hours=hours)


@dataclass
class Ingestor:
    """Turns events into recorded outcomes and queued jobs."""

    store: Store
    registry: Registry
    max_chain_depth: int = 3
    #: The per-org ingest rate past which events are deferred (None: no limit).
    ingest_rate: IngestRate | None = None

    def __post_init__(self) -> None:
        self._writer: HeldWriter | None = None
        self._writer_lock = threading.Lock()

    def ingest(
        self, event: Event, now: datetime, authorise: Callable[[sa.Connection], None] | None = None
    ) -> IngestResult:
        """Gate and record one event, committed before this returns. Events ingested at the
        same moment from other threads (API requests) share the commit; an invalid one fails
        alone. ``authorise`` checks the sender in the same transaction first (its API token:
        no read of its own), raising to refuse the event."""
        write, slot = self._prepared(event, now, authorise)
        try:
            result = self._held().run(write)
        except BaseException:
            self._hand_back(slot)
            raise
        return self._settled(result, slot)

    async def ingest_async(
        self, event: Event, now: datetime, authorise: Callable[[sa.Connection], None] | None = None
    ) -> IngestResult:
        """``ingest`` for an event loop: the write joins the same group commit without a thread
        parked on it (the group's own thread leads), and this awaits its commit. The waiting
        lane is settled when the write is, even if this caller is cancelled meanwhile."""
        write, slot = self._prepared(event, now, authorise)
        future = self._held().submit(write)
        future.add_done_callback(lambda done: self._after(done, slot))
        return await asyncio.wrap_future(future)

    def _after(self, done: Future[IngestResult], slot: Slot | None) -> None:
        if done.cancelled() or done.exception() is not None:
            self._hand_back(slot)
        else:
            self._settled(done.result(), slot)

    def _held(self) -> HeldWriter:
        with self._writer_lock:
            if self._writer is None:
                self._writer = self.store.held_writer(isolated=(ValidationFailed, InvalidToken, Forbidden))
            return self._writer

    def _prepared(
        self, event: Event, now: datetime, authorise: Callable[[sa.Connection], None] | None
    ) -> tuple[Callable[[sa.Connection], IngestResult], Slot | None]:
        """The ingest's write, and the slot of a lane of this process waiting for work: it
        gets the job in this commit (see ``idle``)."""
        slot = self.store.idle.take()

        def write(conn: sa.Connection) -> IngestResult:
            if authorise is not None:
                authorise(conn)
            return self.ingest_in(conn, event, now, slot=slot)

        return write, slot

    def _hand_back(self, slot: Slot | None) -> None:
        if slot is not None:
            self.store.idle.give(slot, None)

    def _settled(self, result: IngestResult, slot: Slot | None) -> IngestResult:
        """After the commit: the waiting lane gets its job, or the workers are woken."""
        handed = slot is not None and slot.job is not None
        if slot is not None:
            self.store.idle.give(slot, slot.job)
        if result.status == Outcome.ACCEPTED and not handed:
            self.store.notify_work()
        return result

    def ingest_in(
        self,
        conn: sa.Connection,
        event: Event,
        now: datetime,
        depth: int | None = None,
        replay_of: str | None = None,
        slot: Slot | None = None,
    ) -> IngestResult:
        """Gate and record one event inside the caller's transaction (one trace span). A replay
        (``replay_of`` names the event it repeats, see ``replay.py``) passes every gate but dedupe.
        With ``slot`` (a waiting lane's), a job runnable now is written leased to that lane and
        left in ``slot.job`` for the caller to hand over after its commit."""
        if slot is not None:
            slot.job = None  # this attempt's (a batch retried alone writes again)
        with tracing.ingest_span(event) as span:
            result = self._gate_and_record(conn, event, now, depth, replay_of, slot)
            span.set_attributes(
                {
                    tracing.OUTCOME: result.status,
                    tracing.EVENT_ID: result.event_id,
                    tracing.JOB_ID: result.job_id or "",
                }
            )
            return result

    def _gate_and_record(
        self,
        conn: sa.Connection,
        event: Event,
        now: datetime,
        depth: int | None,
        replay_of: str | None,
        slot: Slot | None = None,
    ) -> IngestResult:
        sequence = self.registry.sequences.get(event.type)
        if sequence is None:
            known = ", ".join(sorted(self.registry.sequences)) or "none"
            raise ValidationFailed(f"type: unknown event type {event.type!r} (known: {known})")
        if sequence.payload is not None:
            problems = payload_problems(sequence.payload, event.payload, f"the {event.type} sequence")
            if problems:
                raise PayloadInvalid(problems)
        if depth is None:
            depth = self._depth_of(conn, event)
        key = dedupe_key(event, sequence.dedupe)
        self.store.lock_key(conn, f"dedupe:{event.org_id}:{key}")

        since = now - dedupe_window(event, sequence.dedupe)
        found = intake.lookup(Driver.under(conn), event.org_id, event.user_id, event.type, key, since)
        state = budget_state(conn, event.org_id, now) if found.org_exists and sequence.uses_ai else None
        duplicate = None if replay_of else found.duplicate
        facts = GateFacts(
            org_exists=found.org_exists,
            user=_user_facts(found.user) if found.user else None,
            feature_enabled=found.feature_enabled,
            respects_active_hours=sequence.active_hours == "defer",
            sequence_uses_ai=sequence.uses_ai,
            budget_spent=bool(state and state.exceeded),
            duplicate_of=duplicate[0] if duplicate else None,
        )
        # A follow-up scheduled for later meets the active-hours gate at the time it will run.
        decision = decide(facts, max(now, event.not_before) if event.not_before else now)
        rate = self.ingest_rate
        if rate is not None and decision.outcome == Outcome.ACCEPTED:
            recent = intake.recent_jobs(conn, event.org_id, now - rate.window)
            decision = rate_throttle(decision, recent, rate, now)
        reason = decision.reason.value
        if replay_of:
            decision = replace(decision, detail=f"replay of event {replay_of}; {decision.detail}")
        if depth > self.max_chain_depth:
            reason = "chain_depth_exceeded"
            decision = GateDecision(
                Outcome.REJECTED,
                Reason.PASSED,
                f"chain depth {depth} exceeds the limit of {self.max_chain_depth}",
            )
        return self._record(conn, event, now, key, decision, reason, depth, duplicate, state, slot)

    def _depth_of(self, conn: sa.Connection, event: Event) -> int:
        if not event.parent_job_id:
            return ROOT_DEPTH
        parent = jobq.get_job(conn, event.parent_job_id, event.org_id)
        if parent is None:
            raise ValidationFailed(f"parent_job_id: no job {event.parent_job_id!r} in org {event.org_id!r}")
        return parent.chain_depth + 1

    def _record(
        self,
        conn: sa.Connection,
        event: Event,
        now: datetime,
        key: str,
        decision: GateDecision,
        reason: str,
        depth: int,
        duplicate: tuple[str, str | None] | None,
        state: budgets.BudgetState | None,
        slot: Slot | None = None,
    ) -> IngestResult:
        event_id = new_id()
        job_id: str | None = None
        if decision.outcome in (Outcome.ACCEPTED, Outcome.DEFERRED):
            job_id = new_id()
        elif decision.outcome == Outcome.DUPLICATE and duplicate:
            job_id = duplicate[1]
        event_row = {
            "id": event_id,
            "org_id": event.org_id,
            "user_id": event.user_id,
            "type": event.type,
            "source": event.source,
            "payload": event.payload,
            "parent_job_id": event.parent_job_id,
            "idempotency_key": event.idempotency_key,
            "dedupe_key": key,
            "occurred_at": event.occurred_at,
            "received_at": now,
            "outcome": decision.outcome.value,
            "reason": reason,
            "detail": decision.detail,
            "job_id": job_id,
        }
        job = None
        if job_id and decision.outcome != Outcome.DUPLICATE:
            deferred = decision.outcome == Outcome.DEFERRED
            job = self._job_row(job_id, event_id, event, now, depth, decision, deferred)
        audit = audit_row(
            now,
            f"event_{decision.outcome.value}",
            reason,
            org_id=event.org_id,
            job_id=job_id,
            event_id=event_id,
            detail=decision.detail,
            event_type=event.type,
            source=event.source,
        )
        accepted = decision.outcome == Outcome.ACCEPTED
        leased = slot is not None and accepted and job is not None and job["run_after"] <= now
        if leased:
            assert slot is not None and job is not None
            job.update(
                status=JobStatus.IN_PROGRESS.value,
                lease_owner=slot.owner,
                lease_token=new_id(),
                lease_expires_at=now + timedelta(seconds=slot.lease_s),
                claims=1,
            )
        intake.record(Driver.under(conn), event_row, job, [audit], wake=accepted and not leased)
        if decision.reason == Reason.BUDGET_EXCEEDED and state and state.exceeded_period:
            jobq.insert_notifications(
                conn, [budget_notice(event.org_id, event.user_id, state.exceeded_period, now)]
            )
        if leased:
            assert slot is not None and job is not None
            slot.job = jobq.job_from_row({"execution_metadata": None, "finished_at": None, **job})
        elif accepted:
            self.store.notify_work()  # this process's workers; others hear the record's NOTIFY
        return IngestResult(
            event_id=event_id,
            status=decision.outcome.value,
            job_id=job_id,
            reason=reason,
            detail=decision.detail,
            run_after=decision.run_after,
            duplicate_of=duplicate[0] if decision.outcome == Outcome.DUPLICATE and duplicate else None,
        )

    @staticmethod
    def _job_row(
        job_id: str,
        event_id: str,
        event: Event,
        now: datetime,
        depth: int,
        decision: GateDecision,
        deferred: bool,
    ) -> dict[str, Any]:
        return {
            "id": job_id,
            "org_id": event.org_id,
            "user_id": event.user_id,
            "event_id": event_id,
            "event_type": event.type,
            "event_source": event.source,
            "status": (JobStatus.DEFERRED if deferred else JobStatus.PENDING).value,
            "context": {"event": event.as_dict(), "counters": {}, "queued_followups": []},
            "event_chain": {"parent": event.parent_job_id, "children": []},
            "trigger_payload": event.payload,
            "current_step": 0,
            "chain_depth": depth,
            "parent_job_id": event.parent_job_id,
            "run_after": _run_after(event, now, decision, deferred),
            "continuations": 0,
            "claims": 0,
            "status_reason": _status_reason(event, now, decision, deferred),
            "created_at": now,
            "updated_at": now,
        }


def _run_after(event: Event, now: datetime, decision: GateDecision, deferred: bool) -> datetime:
    """When the job may first run: its window's start if deferred, else its not-before time, else now."""
    if deferred and decision.run_after:
        return max(decision.run_after, event.not_before) if event.not_before else decision.run_after
    return max(now, event.not_before) if event.not_before else now


def _status_reason(event: Event, now: datetime, decision: GateDecision, deferred: bool) -> str | None:
    if deferred:
        return decision.detail
    if event.not_before and event.not_before > now:
        return f"scheduled for {event.not_before.isoformat()}"
    return None
