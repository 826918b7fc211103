"""Writing what a step did: one transaction per commit, fenced by the worker's lease.

Plain advances take the hot path (a prepared UPDATE + INSERT on the claim's connection);
everything else (pauses, failures, effects, follow-ups, completion with side work) goes through
the named storage operations in a single transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from overture.clock import Clock
from overture.core import policies
from overture.core.records import Job, JobStatus, PendingAction, ResumeReads, StepRecord
from overture.core.state import JobState, execution_metadata
from overture.core.step_context import StepContext
from overture.engine.audit import audit_row
from overture.engine.intake.followups import FollowupFlusher
from overture.sequences import Sequence
from overture.storage.claims import ClaimRequest
from overture.storage.hotpath import HotPath, Taken
from overture.storage.hotpath_sql import Row
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import outbox as outq
from overture.storage.store import Store
from overture.storage.tables.orchestrator import audit_log, notifications, pending_actions


@dataclass
class Commit:
    """Everything one step (or one pause) writes, applied in a single transaction."""

    next_step: int
    status: JobStatus = JobStatus.IN_PROGRESS
    step: StepRecord | None = None
    ctx: StepContext | None = None
    run_after: datetime | None = None
    reason: str | None = None
    action: PendingAction | None = None
    audits: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    continuation: bool = False
    first_ask: bool = False  # a gate's pause made without reading for an earlier action
    spent: StepContext | None = None  # a failed step's AI spend: recorded, its effects are not


class Checkpointer:
    """Applies a runner's commits; holds the claim's hot-path writer and start time."""

    def __init__(self, store: Store, followups: FollowupFlusher, clock: Clock, worker_id: str) -> None:
        self.store = store
        self.followups = followups
        self.clock = clock
        self.worker_id = worker_id
        self.writer: HotPath | None = None
        self.claim_perf = 0.0
        # Set by the worker for one run: take the next job in the completing commit.
        self.then_claim: ClaimRequest | None = None
        self.handoff: Job | None = None
        # The completion's claim ran and found no job to take.
        self.found_nothing = False
        # A resuming job's gate action (job id, step index, action), read with its outputs.
        self.gate_action: tuple[str, int, PendingAction | None] | None = None
        # Told when a commit queued an effect or a message (the worker's housekeeping timer).
        self.queued: Callable[[], None] | None = None
        # A pause at a gate found an action there (``GateAnswered``): this run reads first.
        self.look_first = False
        # A plain advance into an approval gate, held to go in with the gate's pause (``hold``).
        self.held: tuple[StepRecord, int] | None = None

    def resume_reads(self, job: Job, sequence: Sequence, known: ResumeReads | None = None) -> dict[str, Any]:
        """The outputs of the steps before the one a job resumes at, and, when that step is an
        approval gate, its action (kept in ``gate_action``): ``known`` when whoever handed the
        job over read them for this step, else read in one batch of ``writer``."""
        assert self.writer is not None
        at = job.current_step
        gate_at = at if at < len(sequence.steps) and sequence.steps[at].approval else None
        if known is not None and known.action.step_index == at:
            recorded, action = known.outputs, known.action if gate_at is not None else None
        else:
            recorded, action = self.writer.resume_reads(job.id, gate_at)
        if gate_at is not None:
            self.gate_action = (job.id, gate_at, action)
        # Only the steps before this one: a retry from an earlier step must not see the outputs
        # the steps after it recorded in the run it repeats.
        before = {s.name for s in sequence.steps[:at]}
        return {name: out for name, out in recorded.items() if name in before}

    def _took(self, taken: Taken) -> None:
        """What the completing commit's claim took: the next job (``handoff``); nothing, the
        queue being empty (``found_nothing``); or nothing while a job whose lease ran out waits
        for a plain claim (the lane claims next instead of waiting)."""
        self.handoff = taken if isinstance(taken, Job) else None
        self.found_nothing = self.then_claim is not None and taken is None

    def audit(self, job: Job, action: str, reason: str, **detail: Any) -> dict[str, Any]:
        return audit_row(
            self.clock.now(),
            action,
            reason,
            org_id=job.org_id,
            job_id=job.id,
            actor=self.worker_id,
            **detail,
        )

    def _plain(self, commit: Commit, status: JobStatus, state: JobState) -> bool:
        """A step that only advances (or completes) the job: the hot path, one small transaction."""
        ctx = commit.ctx
        return (
            status in (JobStatus.IN_PROGRESS, JobStatus.COMPLETED)
            and not state.queued_followups
            and not commit.continuation
            and self.writer is not None
            and commit.step is not None
            and commit.action is None
            and not commit.audits
            and not commit.notifications
            and (ctx is None or not (ctx.effects or ctx.costs or ctx.notes))
            and (commit.spent is None or not commit.spent.costs)
        )

    def _holds(self, commit: Commit, status: JobStatus, sequence: Sequence | None) -> bool:
        """A plain advance into an approval gate waits to go in with the gate's pause: one
        commit instead of two. Nothing runs in between (the gate only renders its draft), so a
        crash before that commit repeats the step as a crash during it would."""
        return (
            status == JobStatus.IN_PROGRESS
            and sequence is not None
            and commit.next_step < len(sequence.steps)
            and sequence.steps[commit.next_step].approval is not None
        )

    def flush_held(self, job: Job, state: JobState) -> None:
        """Write the held advance on its own: the gate does something other than pause."""
        held, self.held = self.held, None
        if held is None:
            return
        assert self.writer is not None and job.lease_token
        step, next_step = held
        now, status = self.clock.now(), JobStatus.IN_PROGRESS.value
        self.writer.advance(job.id, job.lease_token, now, next_step, status, state.to_context(), step)

    def _pausing(self, commit: Commit, status: JobStatus, state: JobState) -> bool:
        """A pause at an approval gate writes only rows of its own: the hot path too."""
        return (
            status == JobStatus.AWAITING_APPROVAL
            and commit.action is not None
            and commit.step is not None
            and self.writer is not None
            and not state.queued_followups
            and not commit.continuation
            and commit.ctx is None
            and commit.spent is None
        )

    def _pause(
        self, job: Job, state: JobState, commit: Commit, status: JobStatus, now: datetime
    ) -> JobStatus:
        """The pause commit: step record, pending action, its message, audit and the job's
        release, one transaction group-committed with the other lanes' writes."""
        assert self.writer is not None and commit.action is not None and commit.step is not None
        assert job.lease_token is not None
        metadata = self._metadata(job, state, job.continuations, now)
        rows: list[Row] = [(pending_actions, actionq.action_row(commit.action), None)]
        for note in commit.notifications:  # a message queued before under its key is kept
            rows.append((notifications, note, "dedupe_key" if note.get("dedupe_key") else None))
        rows.extend((audit_log, a, None) for a in commit.audits)
        taken = self.writer.pause(
            job.id,
            job.lease_token,
            now,
            commit.next_step,
            status.value,
            state.to_context(metadata),
            metadata,
            commit.reason,
            [self.held[0], commit.step] if self.held is not None else [commit.step],
            rows,
            then=self.then_claim,
            first_ask=commit.first_ask,
        )
        self.held = None
        self._took(taken)
        job.current_step, job.status, job.lease_token = commit.next_step, status, None
        if commit.notifications and self.queued is not None:
            self.queued()
        return status

    @staticmethod
    def _metadata(job: Job, state: JobState, continuations: int, now: datetime) -> dict[str, Any]:
        return execution_metadata(
            job_id=job.id,
            event_type=job.event_type,
            event_source=job.event_source,
            chain_depth=job.chain_depth,
            state=state,
            continuations=continuations,
            created_at=job.created_at,
            now=now,
        )

    def apply(
        self,
        job: Job,
        state: JobState,
        commit: Commit,
        sequence: Sequence | None = None,
    ) -> JobStatus:
        """Write one commit atomically, fenced by this worker's lease."""
        now = self.clock.now()
        status = commit.status
        if (
            status == JobStatus.IN_PROGRESS
            and sequence is not None
            and commit.next_step >= len(sequence.steps)
        ):
            status = JobStatus.COMPLETED
        # Any commit is progress: the count of claims lost to dead workers starts again.
        values: dict[str, Any] = {"current_step": commit.next_step, "status": status.value, "lost_claims": 0}
        releasing = status != JobStatus.IN_PROGRESS
        if releasing:
            state.bump("active_ms", (time.perf_counter() - self.claim_perf) * 1000)
            values.update(
                lease_owner=None,
                lease_token=None,
                lease_expires_at=None,
                status_reason=commit.reason,
            )
            values["run_after"] = commit.run_after or now
        pausing = self._pausing(commit, status, state)
        if self.held is not None and not pausing:
            self.flush_held(job, state)
        if self._plain(commit, status, state):
            assert self.writer is not None and job.lease_token and commit.step
            if self._holds(commit, status, sequence):
                self.held = (commit.step, commit.next_step)
                job.current_step = commit.next_step
                return status
            if status == JobStatus.COMPLETED:
                final_meta = self._metadata(job, state, job.continuations, now)
                taken = self.writer.finish(
                    job.id,
                    job.org_id,
                    job.lease_token,
                    now,
                    commit.next_step,
                    state.to_context(final_meta),
                    final_meta,
                    commit.step,
                    self.worker_id,
                    then=self.then_claim,
                )
                self._took(taken)
                job.status, job.lease_token = status, None
            else:
                self.writer.advance(
                    job.id,
                    job.lease_token,
                    now,
                    commit.next_step,
                    status.value,
                    state.to_context(),
                    commit.step,
                )
            job.current_step = commit.next_step
            return status
        if pausing:
            return self._pause(job, state, commit, status, now)
        if commit.continuation:
            values["continuations"] = job.continuations + 1
            commit.audits.append(
                self.audit(
                    job,
                    "continuation",
                    "time_budget",
                    source="orchestrator:continuation",
                    step_index=commit.next_step,
                )
            )
        with self.store.write() as conn:
            if state.queued_followups:
                # Follow-ups become jobs in the commit of the step that queued them: a chain
                # never waits on an unrelated approval later in the sequence.
                self.followups.flush(conn, job, state, now)
            metadata = None
            if releasing:
                metadata = self._metadata(job, state, values.get("continuations", job.continuations), now)
            values["context"] = state.to_context(metadata)
            if metadata is not None:
                values["execution_metadata"] = metadata
                if status.final:
                    values["finished_at"] = now
            jobq.update_job(conn, job.id, job.lease_token, now, **values)
            if metadata is not None:  # keep the count of effects that failed meanwhile
                outq.flag_job(conn, job.id)
            if commit.step is not None:
                jobq.insert_step(conn, job.id, commit.step)
            if commit.action is not None:
                actionq.insert_action(conn, commit.action)
            if commit.ctx is not None:
                jobq.insert_outbox(conn, policies.outbox_rows(commit.ctx, now))
                jobq.insert_costs(conn, policies.cost_rows(commit.ctx, now))
                commit.notifications.extend(policies.notification_rows(commit.ctx, now))
            if commit.spent is not None:
                jobq.insert_costs(conn, policies.cost_rows(commit.spent, now))
            jobq.insert_notifications(conn, commit.notifications)
            final_action = f"job_{status.value}"
            if status.final and not any(a["action"] == final_action for a in commit.audits):
                commit.audits.append(self.audit(job, final_action, status.value, why=commit.reason))
            jobq.insert_audit(conn, commit.audits)
            if releasing and status in (JobStatus.PENDING, JobStatus.DEFERRED):
                self.store.notify_work(conn)
        queued = commit.notifications or (commit.ctx is not None and commit.ctx.effects)
        if queued and self.queued is not None:
            self.queued()
        job.current_step = commit.next_step
        job.status = status
        if releasing:
            job.lease_token = None
        return status
