"""The small, constant-size part of a job's state kept in ``sequence_jobs.context``.

Step outputs are not here: they live append-only in job_steps, so a checkpoint costs the
same at step 5 as at step 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

COUNTERS = (
    "steps_attempted",
    "steps_completed",
    "steps_failed",
    "steps_skipped",
    "retries",
    "approval_gates_hit",
    "followups_queued",
    "followups_refused",
    "cost_micros",
    "active_ms",
)


@dataclass
class JobState:
    """Counters, retry attempts and queued follow-ups of one job."""

    event: dict[str, Any]
    counters: dict[str, float] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    queued_followups: list[dict[str, Any]] = field(default_factory=list)
    context_loads: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: str | None = None

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> JobState:
        return cls(
            event=context.get("event", {}),
            counters=dict(context.get("counters", {})),
            attempts=dict(context.get("attempts", {})),
            queued_followups=list(context.get("queued_followups", [])),
            context_loads=dict(context.get("context_loads", {})),
            started_at=context.get("started_at"),
        )

    def bump(self, name: str, by: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by

    def count(self, name: str) -> float:
        return self.counters.get(name, 0)

    def to_context(self, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": self.event,
            "counters": self.counters,
            "attempts": self.attempts,
            "queued_followups": self.queued_followups,
            "context_loads": self.context_loads,
            "started_at": self.started_at,
        }
        if metadata is not None:
            out["execution_metadata"] = metadata
        return out


def execution_metadata(
    *,
    job_id: str,
    event_type: str,
    event_source: str,
    chain_depth: int,
    state: JobState,
    continuations: int,
    created_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The seed's execution metadata, plus continuations and context-load timings."""
    return {
        "sequence_job_id": job_id,
        "event_type": event_type,
        "event_source": event_source,
        "steps_attempted": int(state.count("steps_attempted")),
        "steps_completed": int(state.count("steps_completed")),
        "steps_failed": int(state.count("steps_failed")),
        "approval_gates_hit": int(state.count("approval_gates_hit")),
        "followups_queued": int(state.count("followups_queued")),
        "total_duration_ms": round(state.count("active_ms"), 3),
        "total_ai_cost": state.count("cost_micros") / 1_000_000,
        "chain_depth": chain_depth,
        "steps_skipped": int(state.count("steps_skipped")),
        "retries": int(state.count("retries")),
        "followups_refused": int(state.count("followups_refused")),
        "continuations": continuations,
        "wall_clock_ms": round((now - created_at).total_seconds() * 1000, 3),
        "context_loads": state.context_loads,
    }


def closing_values(job: Any, now: datetime) -> dict[str, Any]:
    """Context and metadata columns for a job that ends outside the runner (cancel, expiry)."""
    state = JobState.from_context(job.context)
    meta = execution_metadata(
        job_id=job.id,
        event_type=job.event_type,
        event_source=job.event_source,
        chain_depth=job.chain_depth,
        state=state,
        continuations=job.continuations,
        created_at=job.created_at,
        now=now,
    )
    return {"context": state.to_context(meta), "execution_metadata": meta, "finished_at": now}
