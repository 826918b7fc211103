"""Approval gates in a running job: the first arrival commits a pending action (or records
the user's auto-approve preference), and the job comes back to the gate after a decision to
run the approved or edited draft, skip the step, or end cancelled or expired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from overture.core import policies
from overture.core.records import ActionStatus, Job, JobStatus, PendingAction, StepRecord, StepStatus
from overture.core.state import JobState
from overture.engine.registry import Registry
from overture.engine.run.checkpoint import Checkpointer, Commit
from overture.ids import new_id
from overture.sequences import Step
from overture.sequences.expressions import Expressions
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store


class ApprovalGates:
    """Decides what a step behind an ``approval`` does when the runner reaches it."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        expressions: Expressions,
        checkpoint: Checkpointer,
        record: Callable[..., StepRecord],
    ) -> None:
        self.store = store
        self.registry = registry
        self.expressions = expressions
        self.checkpoint = checkpoint
        self._record = record

    def at(
        self,
        job: Job,
        step: Step,
        state: JobState,
        scope: dict[str, Any],
        now: datetime,
        fail: Callable[[Exception], Commit],
    ) -> Commit | dict[str, Any]:
        """Pause at a gate, or return the inputs a human approved (with their edits).
        ``fail`` turns a draft that cannot be rendered into the step's failure."""
        assert step.approval is not None
        writer = self.checkpoint.writer
        known = self.checkpoint.gate_action
        # On the hot path a gate reached from an earlier step of this run assumes it has no
        # action yet (one is there only when a job is run again from an earlier step): its
        # pause goes in only if that is so, else the gate comes back here and reads it.
        auto = self._auto_approves(step, scope)
        # (Not for an auto-approving user: a second decision would be recorded.)
        first_ask = writer is not None and known is None and not self.checkpoint.look_first and not auto
        if known is not None and known[:2] == (job.id, step.index):
            self.checkpoint.gate_action = None
            action = known[2]
        elif first_ask:
            action = None
        elif writer is not None:
            action = writer.action_for_step(job.id, step.index)
        else:
            with self.store.read() as conn:
                action = actionq.action_for_step(conn, job.id, step.index)
        if action is None:
            try:
                draft = self.expressions.render(dict(step.inputs), scope)
                title = self.expressions.render(step.approval.title or step.name, scope)
            except Exception as exc:
                return fail(exc)
            state.bump("approval_gates_hit")
            if auto:
                return self._auto_approve(job, step, state, draft, str(title), now)
            pending = _action(job, step, str(title), draft, now, ActionStatus.PENDING)
            return Commit(
                next_step=step.index,
                status=JobStatus.AWAITING_APPROVAL,
                action=pending,
                first_ask=first_ask,
                step=self._record(
                    step,
                    1,
                    StepStatus.AWAITING_APPROVAL,
                    now,
                    output={"pending_action_id": pending.id},
                ),
                reason=f"waiting for a decision on {step.name}",
                notifications=[policies.approval_notice(pending, now)],
                audits=[
                    self.checkpoint.audit(
                        job,
                        "approval_requested",
                        step.approval.pattern,
                        step=step.name,
                        pending_action_id=pending.id,
                    )
                ],
            )
        if action.status in (ActionStatus.APPROVED, ActionStatus.EDITED):
            return action.effective_draft()
        if action.status == ActionStatus.SKIPPED:
            state.bump("steps_skipped")
            return Commit(
                next_step=step.index + 1,
                step=self._record(step, 1, StepStatus.SKIPPED, now, error="skipped by a human"),
                audits=[
                    self.checkpoint.audit(
                        job,
                        "step_skipped",
                        "approval_skipped",
                        step=step.name,
                        decided_by=action.decided_by,
                    )
                ],
            )
        final = {
            ActionStatus.CANCELLED: JobStatus.CANCELLED,
            ActionStatus.EXPIRED: JobStatus.EXPIRED,
        }
        status = final.get(action.status, JobStatus.AWAITING_APPROVAL)
        return Commit(next_step=step.index, status=status, reason=f"approval {action.status.value}")

    def _auto_approves(self, step: Step, scope: dict[str, Any]) -> bool:
        """A user's auto-approve preference covers ordinary gates, never the policy-gated ones."""
        if (step.kind, step.target) in self.registry.gated:
            return False
        prefs = scope["context"].get("tier1", {}).get("user", {}).get("preferences", {}) or {}
        return bool(prefs.get("auto_approve"))

    def _auto_approve(
        self, job: Job, step: Step, state: JobState, draft: dict[str, Any], title: str, now: datetime
    ) -> dict[str, Any]:
        """Record the preference's decision durably before the step runs, then run it."""
        self.checkpoint.flush_held(job, state)  # the step before the gate goes in first
        action = _action(
            job,
            step,
            title,
            draft,
            now,
            ActionStatus.APPROVED,
            decided_by=job.user_id,
            decided_via="auto_approve_preference",
            decided_at=now,
        )
        with self.store.write() as conn:
            actionq.insert_action(conn, action)
            jobq.insert_audit(
                conn, [self.checkpoint.audit(job, "approval_auto", "user_preference", step=step.name)]
            )
        return draft


def _action(
    job: Job,
    step: Step,
    title: str,
    draft: dict[str, Any],
    now: datetime,
    status: ActionStatus,
    **decision: Any,
) -> PendingAction:
    """The gate's action for this job and step: pending, or already decided (``decision``)."""
    assert step.approval is not None
    return PendingAction(
        id=new_id(),
        org_id=job.org_id,
        user_id=job.user_id,
        job_id=job.id,
        step_index=step.index,
        step_name=step.name,
        pattern=step.approval.pattern,
        title=title,
        draft=draft,
        status=status,
        expires_at=now + step.approval.expires,
        created_at=now,
        **decision,
    )
