"""What a running step can see and do: read its scope, queue effects, record costs, queue follow-ups.

Nothing here touches the outside world: effects, costs and follow-ups are collected and
committed with the step's record, so a step re-run after a crash never acts twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from overture.core.budget import usd_to_micros

#: Sources a follow-up may carry: the chain's own, or a schedule the engine keeps for it.
FOLLOWUP_SOURCES = ("orchestrator:", "cron:")


@dataclass(frozen=True)
class EffectRequest:
    """One side effect to carry out after commit, exactly once per idempotency key."""

    idempotency_key: str
    kind: str
    payload: dict[str, Any]
    org_id: str
    job_id: str | None


@dataclass
class StepContext:
    """The step's view of its job."""

    job_id: str
    org_id: str
    user_id: str
    step_name: str
    step_index: int
    attempt: int
    now: datetime
    event: dict[str, Any]
    context: dict[str, Any]
    outputs: dict[str, Any]
    idempotency_key: str
    effects: list[EffectRequest] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context_changed: bool = False

    def effect(self, kind: str, payload: dict[str, Any]) -> str:
        """Queue a side effect; returns its idempotency key (stable across re-runs)."""
        n = len(self.effects)
        key = self.idempotency_key if n == 0 else f"{self.idempotency_key}#{n}"
        self.effects.append(EffectRequest(key, kind, payload, self.org_id, self.job_id))
        return key

    def cost(self, provider: str, model: str, input_tokens: int, output_tokens: int, usd: float) -> None:
        """Record what an AI call cost; it counts against the org's budget."""
        self.costs.append(
            {
                "provider": provider,
                "model": model,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cost_micros": usd_to_micros(usd),
            }
        )

    def refresh_context(self) -> None:
        """Say this step changed what the job is about (it linked the meeting to a contact or a
        deal): tiers 1 and 2 are loaded again before the next step, tier 3 is kept."""
        self.context_changed = True

    def followup(
        self,
        event_type: str,
        payload: dict[str, Any] | None = None,
        not_before: datetime | None = None,
        source: str | None = None,
    ) -> None:
        """Queue a follow-up event, created as a child job in the commit of this step; with
        ``not_before`` its job waits until then (e.g. meeting prep 90 minutes before a meeting).
        ``source`` names where it comes from when that is not the chain itself: meeting prep is
        ``cron:pre_meeting`` as the seed names it, whichever step queued it."""
        queued: dict[str, Any] = {"type": event_type, "payload": payload or {}}
        if source:
            if not source.startswith(FOLLOWUP_SOURCES):
                raise ValueError(f"a follow-up's source must start with one of {', '.join(FOLLOWUP_SOURCES)}")
            queued["source"] = source
        if not_before is not None:
            if not_before.tzinfo is None:
                raise ValueError("not_before must be timezone-aware")
            queued["not_before"] = not_before.isoformat()
        self.followups.append(queued)

    @property
    def cost_micros(self) -> int:
        return sum(int(c["cost_micros"]) for c in self.costs)
