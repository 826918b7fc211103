"""Deciding and expiring pending actions: idempotent, authorised, recorded, and resumable."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from overture.clock import Clock
from overture.core import drafts
from overture.core.records import ActionStatus, Decision, JobStatus, PendingAction, ResumeReads
from overture.core.state import closing_values
from overture.core.storable import check_storable
from overture.engine.audit import audit_row
from overture.errors import Forbidden, NotFound, ValidationFailed
from overture.ids import new_id
from overture.storage.driver import Driver
from overture.storage.held import HeldWriter
from overture.storage.idle import Slot
from overture.storage.queries import approvals as actionq
from overture.storage.queries import decisions
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store

#: Where a decision came from, named as the seed names event sources: a Slack button click is
#: ``slack:button_approve`` whichever button it was.
DECISION_SOURCES = {"slack": "slack:button_approve", "web": "web:console", "api": "api", "cli": "cli"}


@dataclass(frozen=True)
class DecisionResult:
    """The outcome of a decision; ``applied`` is False when someone had already decided."""

    action: PendingAction
    applied: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        a = self.action
        return {
            "pending_action_id": a.id,
            "applied": self.applied,
            "status": a.status.value,
            "decided_by": a.decided_by,
            "decided_via": a.decided_via,
            "decided_at": a.decided_at.isoformat() if a.decided_at else None,
            "job_id": a.job_id,
            "message": self.message,
        }


def _check_modifications(action: PendingAction, modifications: Any) -> dict[str, Any]:
    """The edit, refused (422, naming the field) unless it leaves a draft that can go out.

    Every channel (API, CLI, console, Slack) decides through here, so the rules Slack's modal
    and the console's form show next to each field (``core.drafts``) hold for all of them: an
    email edited into one that cannot be sent is refused while the action is still pending,
    rather than accepted and then failing in the outbox."""
    if not isinstance(modifications, dict) or not modifications:
        raise ValidationFailed("modifications: edit needs a non-empty JSON object of draft fields")
    check_storable(modifications, "modifications")
    unknown = sorted(set(modifications) - set(action.draft))
    if unknown:
        raise ValidationFailed(
            f"modifications: unknown draft field(s) {', '.join(unknown)}; "
            f"the draft has {', '.join(sorted(action.draft)) or 'no fields'}"
        )
    texts = {k: v for k, v in modifications.items() if k in drafts.LABELS}
    errors = drafts.check_edits(action.draft, texts)
    for name, value in texts.items():
        if name not in errors and isinstance(value, str) and name in _ONE_LINE and _LINE_BREAK.search(value):
            errors[name] = f"{drafts.label(name)} must be one line (no line breaks)."
    if errors:
        raise ValidationFailed(
            "; ".join(f"modifications.{name}: {message}" for name, message in sorted(errors.items()))
        )
    return modifications


#: Header fields of an email: a line break in one would start another header.
_ONE_LINE = ("to", "subject")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]")


@dataclass
class Approvals:
    """The one way a human decision reaches a paused job, whatever the channel.

    Decisions are group-committed on a connection held for them (several arriving together
    share a transaction), and a decision that makes a job runnable hands it to a lane of this
    process that waits for work, in the same commit."""

    store: Store
    clock: Clock

    def __post_init__(self) -> None:
        self._writer: HeldWriter | None = None
        self._lock = threading.Lock()

    def decide(
        self,
        action_id: str,
        decision: Decision,
        by: str,
        via: str = "api",
        modifications: Any = None,
        org_id: str | None = None,
    ) -> DecisionResult:
        """Record a decision and make the job runnable again (or end it, for cancel).

        A second decision changes nothing and says who decided first and when.
        """
        now = self.clock.now()
        with self._lock:
            if self._writer is None:
                self._writer = self.store.held_writer(isolated=(NotFound, Forbidden, ValidationFailed))
        # A lane of this process waiting for work takes the job in the decision's commit.
        slot = self.store.idle.take() if decision != Decision.CANCEL else None
        try:
            result = self._writer.run(
                lambda conn: self._decide(
                    conn, action_id, decision, by, via, modifications, org_id, now, slot
                )
            )
        except BaseException:
            if slot is not None:
                self.store.idle.give(slot, None)
            raise
        if slot is not None:
            self.store.idle.give(slot, slot.job)
        if result.applied and decision != Decision.CANCEL and (slot is None or slot.job is None):
            self.store.notify_work()
        return result

    def _decide(
        self,
        conn: sa.Connection,
        action_id: str,
        decision: Decision,
        by: str,
        via: str,
        modifications: Any,
        org_id: str | None,
        now: datetime,
        slot: Slot | None,
    ) -> DecisionResult:
        """The decision's transaction: the decision, the job runnable again (or taken by
        ``slot``'s lane, left in ``slot.job``), the audit."""
        if slot is not None:
            slot.job = slot.reads = None  # this attempt's (a batch retried alone writes again)
        drv = Driver.under(conn)
        facts = decisions.facts(drv, action_id, org_id, by, outputs=slot is not None)
        if facts is None:
            raise NotFound(f"no pending action {action_id!r}")
        action, job = facts.action, facts.job
        if action.status != ActionStatus.PENDING:
            return DecisionResult(action, False, self._already(action))
        decider = facts.decider
        if decider is None or (decider[0] != action.user_id and decider[1] != "admin"):
            raise Forbidden(f"user {by!r} may not decide this action: only its owner or an org admin can")
        mods = _check_modifications(action, modifications) if decision == Decision.EDIT else None
        status = decision.resulting_status
        if decision == Decision.CANCEL:
            job_values: dict[str, Any] = {
                "status": JobStatus.CANCELLED.value,
                "status_reason": f"cancelled by {by} at {action.step_name}",
                **closing_values(job, now),
            }
        elif slot is not None:
            job_values = {
                "status": JobStatus.IN_PROGRESS.value,
                "run_after": now,
                "status_reason": None,
                "lease_owner": slot.owner,
                "lease_token": new_id(),
                "lease_expires_at": now + timedelta(seconds=slot.lease_s),
                "claims": job.claims + 1,
            }
        else:
            job_values = {
                "status": JobStatus.PENDING.value,
                "run_after": now,
                "status_reason": None,
            }
        audits = [
            audit_row(
                now,
                f"approval_{status.value}",
                via,
                org_id=action.org_id,
                job_id=action.job_id,
                actor=by,
                pending_action_id=action.id,
                step=action.step_name,
                source=DECISION_SOURCES.get(via, via),
            )
        ]
        if decision == Decision.CANCEL:
            audits.append(
                audit_row(
                    now,
                    "job_cancelled",
                    "approval_cancelled",
                    org_id=action.org_id,
                    job_id=action.job_id,
                    actor=by,
                )
            )
        outcome = (status, by, via, now, mods)
        if not decisions.write(drv, action.id, outcome, action.job_id, job_values, audits):
            fresh = actionq.get_action(conn, action.id)
            assert fresh is not None
            return DecisionResult(fresh, False, self._already(fresh))
        decided = replace(
            action,
            status=status,
            decided_by=by,
            decided_via=via,
            decided_at=now,
            modifications=mods,
        )
        if slot is not None:
            slot.job = replace(
                job,
                status=JobStatus.IN_PROGRESS,
                lease_token=job_values["lease_token"],
                claims=job_values["claims"],
                run_after=now,
                status_reason=None,
            )
            assert facts.outputs is not None
            slot.reads = ResumeReads(facts.outputs, decided)
        elif decision != Decision.CANCEL:
            self.store.notify_work(conn)
        return DecisionResult(decided, True, f"{status.value} by {by} via {via}")

    @staticmethod
    def _already(action: PendingAction) -> str:
        when = action.decided_at.isoformat() if action.decided_at else "earlier"
        if action.status == ActionStatus.EXPIRED:
            return f"this action expired at {action.expires_at.isoformat()}; nothing changed"
        who = f"{action.decided_by} via {action.decided_via}"
        return f"already {action.status.value} by {who} at {when}; nothing changed"

    def expire_due(self, limit: int = 200) -> int:
        """End every pending action past its expiry, and its job as ``expired``."""
        now = self.clock.now()
        done = 0
        with self.store.read() as conn:
            due = actionq.due_for_expiry(conn, now, limit)
        for action in due:
            with self.store.write() as conn:
                if not actionq.record_decision(
                    conn, action.id, ActionStatus.EXPIRED, None, "expiry", now, None
                ):
                    continue
                job = jobq.get_job(conn, action.job_id)
                assert job is not None
                jobq.update_job(
                    conn,
                    action.job_id,
                    None,
                    now,
                    **closing_values(job, now),
                    status=JobStatus.EXPIRED.value,
                    status_reason=f"approval for {action.step_name} expired unanswered",
                )
                jobq.insert_audit(
                    conn,
                    [
                        audit_row(
                            now,
                            "approval_expired",
                            "expired",
                            org_id=action.org_id,
                            job_id=action.job_id,
                            pending_action_id=action.id,
                            step=action.step_name,
                        ),
                        audit_row(
                            now,
                            "job_expired",
                            "approval_expired",
                            org_id=action.org_id,
                            job_id=action.job_id,
                        ),
                    ],
                )
                done += 1
        return done
