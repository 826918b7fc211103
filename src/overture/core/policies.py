"""Pure decisions and row builders the runner applies: failure policies, notices, effects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from overture.core.records import Job, PendingAction
from overture.core.step_context import StepContext
from overture.ids import new_id
from overture.sequences import FailurePolicy, Step


@dataclass(frozen=True)
class FailureDecision:
    """What to do after a step failed: retry after ``delay``, continue, or stop."""

    action: str
    reason: str
    delay: timedelta = timedelta(0)


def on_failure(step: Step, attempt: int) -> FailureDecision:
    """The seed's rules: continue goes on; retry retries with backoff, then stops; stop stops."""
    if step.on_failure == FailurePolicy.CONTINUE:
        return FailureDecision("continue", "on_failure_continue")
    if step.on_failure == FailurePolicy.RETRY:
        if attempt <= step.retry.attempts:
            return FailureDecision("retry", "step_failed", step.retry.delay(attempt))
        return FailureDecision("stop", "retries_exhausted")
    return FailureDecision("stop", "on_failure_stop")


def notify(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """The built-in ``notify`` step: an inform-only message to the job's user."""
    text = str(inputs.get("text", ""))
    ctx.notes.append(text)
    return {"notified": ctx.user_id, "pattern": "inform", "chars": len(text)}


def notification_rows(ctx: StepContext, now: datetime) -> list[dict[str, Any]]:
    """Messages a notify step queued, keyed by the step's idempotency key."""
    return [
        {
            "id": new_id(),
            "org_id": ctx.org_id,
            "user_id": ctx.user_id,
            "channel": "inbox",
            "kind": "inform",
            "dedupe_key": f"notify:{ctx.idempotency_key}#{i}",
            "status": "pending",
            "body": {"text": text, "step": ctx.step_name},
            "job_id": ctx.job_id,
            "send_after": now,
            "sent_at": None,
            "created_at": now,
        }
        for i, text in enumerate(ctx.notes)
    ]


def approval_notice(action: PendingAction, now: datetime) -> dict[str, Any]:
    """The message that asks a person to decide; committed with the gate, sent after."""
    return {
        "id": new_id(),
        "org_id": action.org_id,
        "user_id": action.user_id,
        "channel": "inbox",
        "kind": "approval_request",
        "dedupe_key": f"approval_request:{action.id}",
        "status": "pending",
        "body": {
            "text": f"Waiting for your decision: {action.title}",
            "pending_action_id": action.id,
            "pattern": action.pattern,
            "title": action.title,
        },
        "job_id": action.job_id,
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }


_KNOWN_ERROR = re.compile(r"^(?:StepError|ValidationFailed|StepTimeout|PolicyViolation|NotFound|Conflict): ")
_CLASS_PREFIX = re.compile(r"^([A-Z]\w*(?:Error|Exception)): ")


def stopped_text(job: Job, step_name: str, error: str) -> str:
    """The notice in a rep's words: which job, which step, the reason as our code gave it (a
    programming error named as such), and how to run it again once fixed."""
    what = job.event_type.replace("_", " ")
    step = step_name.replace("-", " ").replace("_", " ")
    reason = _KNOWN_ERROR.sub("", error.strip())
    unexpected = _CLASS_PREFIX.match(reason)
    if unexpected:
        reason = f"an unexpected error ({unexpected.group(1)}); the details are in the job's steps"
    return (
        f"Your {what} job stopped at step '{step}': {reason[:300]}. "
        f"Once that is fixed, run it again with: overture jobs retry {job.id}"
    )


def failure_notice(job: Job, step_name: str, error: str, now: datetime) -> dict[str, Any]:
    """The message a user gets when a job stops on a failed step."""
    return {
        "id": new_id(),
        "org_id": job.org_id,
        "user_id": job.user_id,
        "channel": "inbox",
        "kind": "job_failed",
        "dedupe_key": f"job_failed:{job.id}",
        "status": "pending",
        "body": {"text": stopped_text(job, step_name, error), "error": error[:500]},
        "job_id": job.id,
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }


def outbox_rows(ctx: StepContext, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "idempotency_key": e.idempotency_key,
            "org_id": e.org_id,
            "job_id": e.job_id,
            "step_index": ctx.step_index,
            "kind": e.kind,
            "payload": e.payload,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for e in ctx.effects
    ]


def cost_rows(ctx: StepContext, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "org_id": ctx.org_id,
            "job_id": ctx.job_id,
            "step_index": ctx.step_index,
            "created_at": now,
            **c,
        }
        for c in ctx.costs
    ]
