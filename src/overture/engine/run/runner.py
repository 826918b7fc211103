"""Runs a claimed job's steps: replay what is recorded, execute the rest, record each step and
advance in one transaction; pause at approval gates; apply failure policies; checkpoint and hand
the job back as a continuation when the time budget runs low."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from overture.clock import Clock
from overture.core import policies
from overture.core.records import Job, JobStatus, ResumeReads, StepRecord, StepStatus
from overture.core.state import JobState
from overture.core.step_context import StepContext
from overture.engine.intake.followups import FollowupFlusher
from overture.engine.intake.ingest import budget_notice
from overture.engine.registry import Registry
from overture.engine.run.approval_gates import ApprovalGates
from overture.engine.run.checkpoint import Checkpointer, Commit
from overture.engine.run.context import ContextLoader
from overture.engine.run.invoke import Invoker
from overture.errors import GateAnswered, PolicyViolation, RateLimited
from overture.observability import tracing
from overture.sequences import Sequence, Step, StepKind
from overture.sequences.expressions import Expressions
from overture.storage.claims import ClaimRequest
from overture.storage.driver import encode_json
from overture.storage.hotpath import HotPath
from overture.storage.queries.budgets import budget_state
from overture.storage.store import Store

log = logging.getLogger("overture.runner")


@dataclass(frozen=True)
class RunnerConfig:
    """Time budget, deferral and expiry settings (the seed's 150 s edge timeout, made ours)."""

    time_budget_s: float = 150.0
    time_buffer_s: float = 15.0
    rate_limit_delay_s: float = 300.0
    max_chain_depth: int = 3


class Runner:
    """Executes jobs durably; one Runner per worker thread."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock,
        contexts: ContextLoader,
        followups: FollowupFlusher,
        config: RunnerConfig,
        worker_id: str = "worker",
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.contexts = contexts
        self.followups = followups
        self.config = config
        self.worker_id = worker_id
        self.expressions = Expressions()
        self.invoker = Invoker()
        self.stopping = threading.Event()
        self.checkpoint = Checkpointer(store, followups, clock, worker_id)
        self.gates = ApprovalGates(store, registry, self.expressions, self.checkpoint, self._record)
        self.handoff: Job | None = None

    def close(self) -> None:
        """Release the event loop and threads that async or timed steps used."""
        self.invoker.close()

    # -- the loop over steps --------------------------------------------------------------

    def run(
        self,
        job: Job,
        hot: HotPath | None = None,
        claimed_at: float | None = None,
        then_claim: ClaimRequest | None = None,
        reads: ResumeReads | None = None,
    ) -> JobStatus:
        """Run ``job`` until it pauses, ends, or is handed back; returns where it stands.

        ``hot`` is the worker's connection for plain step commits (one is opened for the run
        when not given); ``claimed_at`` (monotonic) starts the time budget when the lease began
        earlier; with ``then_claim`` a plain completion also takes the next job, left in
        ``handoff``; ``reads``: what the run would read first, read by whoever handed it over.
        The run is one trace span (``observability.tracing``)."""
        with tracing.job_span(job) as span:
            status = self._run(job, hot, claimed_at, then_claim, reads)
            span.set_attribute(tracing.JOB_STATUS, status.value)
            return status

    def _run(
        self,
        job: Job,
        hot: HotPath | None,
        claimed_at: float | None,
        then_claim: ClaimRequest | None,
        reads: ResumeReads | None,
    ) -> JobStatus:
        claim_started = self.clock.monotonic() if claimed_at is None else claimed_at
        self.handoff = None
        self.checkpoint.claim_perf = time.perf_counter()
        state = JobState.from_context(job.context)
        sequence = self.registry.sequences.get(job.event_type)
        if sequence is None:
            reason = f"no sequence is defined for event type {job.event_type!r}"
            commit = Commit(next_step=job.current_step, status=JobStatus.FAILED, reason=reason)
            return self.checkpoint.apply(job, state, commit)
        if state.started_at is None:
            state.started_at = self.clock.now().isoformat()
        own = hot is None
        self.checkpoint.writer = HotPath(self.store) if hot is None else hot
        self.checkpoint.then_claim = then_claim
        self.checkpoint.handoff = None
        self.checkpoint.found_nothing = False
        try:
            outputs: dict[str, Any] = {}
            if job.current_step:
                outputs = self.checkpoint.resume_reads(job, sequence, reads)
            context = self.contexts.base(job, state)
            budget_end = claim_started + self.config.time_budget_s - self.config.time_buffer_s
            index = first_step = job.current_step
            while index < len(sequence.steps):
                if index > first_step and self.clock.monotonic() >= budget_end:
                    commit = Commit(next_step=index, status=JobStatus.PENDING, continuation=True)
                    return self.checkpoint.apply(job, state, commit)
                if index > first_step and self.stopping.is_set():
                    released = self.checkpoint.audit(job, "job_released", "worker_stopping", step_index=index)
                    reason = "handed back: the worker is stopping"
                    commit = Commit(
                        next_step=index, status=JobStatus.PENDING, reason=reason, audits=[released]
                    )
                    return self.checkpoint.apply(job, state, commit)
                with tracing.step_span(job, sequence.steps[index]) as span:
                    commit = self._step(job, sequence, sequence.steps[index], state, outputs, context)
                    try:
                        status = self.checkpoint.apply(job, state, commit, sequence)
                    except GateAnswered:
                        self.checkpoint.look_first = True  # the gate again, by its action
                        continue
                    span.set_attribute(
                        tracing.STEP_STATUS, commit.step.status.value if commit.step else "not_run"
                    )
                if status != JobStatus.IN_PROGRESS:
                    return status
                if commit.ctx is not None and commit.ctx.context_changed:
                    context = {**self.contexts.base(job, state), "tier3": context.get("tier3", {})}
                index = commit.next_step
            return self.checkpoint.apply(job, state, Commit(next_step=index), sequence)
        finally:
            self.handoff = self.checkpoint.handoff
            if own:
                self.checkpoint.writer.close()
            self.checkpoint.writer = None
            self.checkpoint.then_claim = None
            self.checkpoint.gate_action = None
            self.checkpoint.held = None  # a run that ended in an error: as if it crashed
            self.checkpoint.look_first = False

    # -- one step -------------------------------------------------------------------------

    def _step(
        self,
        job: Job,
        sequence: Sequence,
        step: Step,
        state: JobState,
        outputs: dict[str, Any],
        context: dict[str, Any],
    ) -> Commit:
        now = self.clock.now()
        scope = {"event": state.event, "context": context, "outputs": outputs}
        attempt = state.attempts.get(str(step.index), 0) + 1
        nxt = step.index + 1

        if step.when and not self.expressions.condition(step.when, scope):
            state.bump("steps_skipped")
            record = self._record(step, attempt, StepStatus.SKIPPED, now, error="condition was false")
            return Commit(
                next_step=nxt,
                step=record,
                audits=[self.checkpoint.audit(job, "step_skipped", "condition_false", step=step.name)],
            )

        if step.approval is not None:
            gate = self.gates.at(
                job, step, state, scope, now, lambda exc: self._failure(job, step, state, 1, now, exc)
            )
            if isinstance(gate, Commit):
                return gate
            inputs = gate
        else:
            try:
                inputs = self.expressions.render(dict(step.inputs), scope)
            except Exception as exc:
                return self._failure(job, step, state, attempt, now, exc)

        if step.ai:
            halted = self._budget_check(job, step, now)
            if halted is not None:
                return halted

        missing: list[str] = []
        if step.requires_context:
            missing = self.contexts.tier3(step.requires_context, job, context, state)
        ctx = StepContext(
            job_id=job.id,
            org_id=job.org_id,
            user_id=job.user_id,
            step_name=step.name,
            step_index=step.index,
            attempt=attempt,
            now=now,
            event=state.event,
            context=context,
            outputs=outputs,
            idempotency_key=f"{job.id}:{step.index}:{step.name}",
        )
        state.bump("steps_attempted") if attempt == 1 else state.bump("retries")
        try:
            output = self._invoke(step, ctx, inputs)
            encoded = encode_json(output)
        except RateLimited as exc:
            return self._defer(job, step, state, attempt, now, exc)
        except Exception as exc:
            return self._failure(job, step, state, attempt, now, exc, ctx)
        outputs[step.name] = output
        state.attempts.pop(str(step.index), None)
        state.bump("steps_completed")
        state.bump("cost_micros", ctx.cost_micros)
        state.queued_followups.extend(ctx.followups)
        audits = []
        if missing:
            audits.append(
                self.checkpoint.audit(
                    job,
                    "context_unavailable",
                    "source_unavailable",
                    step=step.name,
                    sources=missing,
                )
            )
        record = self._record(
            step, attempt, StepStatus.COMPLETED, now, output=output, cost=ctx.cost_micros, encoded=encoded
        )
        return Commit(next_step=nxt, step=record, ctx=ctx, audits=audits)

    def _invoke(self, step: Step, ctx: StepContext, inputs: dict[str, Any]) -> Any:
        if step.kind == StepKind.NOTIFY:
            return policies.notify(ctx, inputs)
        if step.kind == StepKind.FOLLOWUP:
            not_before = inputs.get("not_before")
            when = datetime.fromisoformat(not_before) if isinstance(not_before, str) and not_before else None
            source = inputs.get("source")
            ctx.followup(
                str(inputs["type"]), dict(inputs.get("payload") or {}), when, str(source) if source else None
            )
            return {"queued": inputs["type"], "not_before": when.isoformat() if when else None}
        required = self.registry.gated.get((step.kind, step.target))
        if required and (step.approval is None or step.approval.pattern != required):
            raise PolicyViolation(f"{step.target!r} may only run behind a {required!r} approval gate")
        handler = self.registry.handler(step.kind, step.target)
        if handler is None:
            raise LookupError(f"no {step.kind.value} named {step.target!r} is registered")
        return self.invoker.call(handler, ctx, inputs, step.timeout)

    # -- failures, deferrals, budget -------------------------------------------------------

    def _failure(
        self,
        job: Job,
        step: Step,
        state: JobState,
        attempt: int,
        now: datetime,
        exc: Exception,
        ctx: StepContext | None = None,
    ) -> Commit:
        error = f"{type(exc).__name__}: {exc}"
        spent = ctx.cost_micros if ctx is not None else 0
        state.bump("cost_micros", spent)
        record = self._record(step, attempt, StepStatus.FAILED, now, error=error, cost=spent)
        decision = policies.on_failure(step, attempt)
        if decision.action == "retry":
            state.attempts[str(step.index)] = attempt
            return Commit(
                spent=ctx,
                next_step=step.index,
                status=JobStatus.PENDING,
                step=record,
                run_after=now + decision.delay,
                reason=f"retrying {step.name} in {decision.delay.total_seconds():g}s",
                audits=[
                    self.checkpoint.audit(
                        job,
                        "step_retry_scheduled",
                        "step_failed",
                        step=step.name,
                        attempt=attempt,
                        delay_s=decision.delay.total_seconds(),
                    )
                ],
            )
        state.bump("steps_failed")
        state.attempts.pop(str(step.index), None)
        if decision.action == "continue":
            return Commit(
                spent=ctx,
                next_step=step.index + 1,
                step=record,
                audits=[
                    self.checkpoint.audit(
                        job,
                        "step_failed_continue",
                        "on_failure_continue",
                        step=step.name,
                        error=error,
                    )
                ],
            )
        return Commit(
            spent=ctx,
            next_step=step.index,
            status=JobStatus.FAILED,
            step=record,
            reason=f"step {step.name} failed: {error}",
            audits=[self.checkpoint.audit(job, "job_failed", decision.reason, step=step.name, error=error)],
            notifications=[policies.failure_notice(job, step.name, error, now)],
        )

    def _defer(
        self, job: Job, step: Step, state: JobState, attempt: int, now: datetime, exc: RateLimited
    ) -> Commit:
        delay = max(self.config.rate_limit_delay_s, exc.retry_after_s or 0.0)
        return Commit(
            next_step=step.index,
            status=JobStatus.DEFERRED,
            step=self._record(step, attempt, StepStatus.DEFERRED, now, error=f"rate limited: {exc}"),
            run_after=now + timedelta(seconds=delay),
            reason=f"rate limited at {step.name}; deferred {delay:g}s",
            audits=[
                self.checkpoint.audit(job, "job_deferred", "rate_limited", step=step.name, delay_s=delay)
            ],
        )

    def _budget_check(self, job: Job, step: Step, now: datetime) -> Commit | None:
        with self.store.read() as conn:
            state = budget_state(conn, job.org_id, now)
        period = state.exceeded_period
        if period is None:
            return None
        return Commit(
            next_step=step.index,
            status=JobStatus.HALTED,
            reason=f"AI budget for this {period} is spent; halted before {step.name}",
            audits=[
                self.checkpoint.audit(job, "job_halted", "budget_exceeded", step=step.name, period=period)
            ],
            notifications=[budget_notice(job.org_id, job.user_id, period, now)],
        )

    # -- recording ------------------------------------------------------------------------

    def _record(
        self,
        step: Step,
        attempt: int,
        status: StepStatus,
        started: datetime,
        *,
        output: Any = None,
        error: str | None = None,
        cost: int = 0,
        encoded: str | None = None,
    ) -> StepRecord:
        return StepRecord(
            step_index=step.index,
            step_name=step.name,
            attempt=attempt,
            status=status,
            started_at=started,
            finished_at=self.clock.now(),
            output=output,
            error=error,
            cost_micros=cost,
            output_json=encoded,
        )
