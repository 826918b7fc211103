"""Sessions held for a signed-in person bill their org: each model call is written to the
org's cost ledger as it is made, and the org's AI budget is checked before every turn.

A sequence step gets this from the engine (costs go to the ledger with the step's record); a
console session is no job, so its meter writes the rows itself, with no job or step. A session
can then never spend past a budget the org set, and what it spent shows in the org's readings.
"""

from __future__ import annotations

from typing import Any

from overture.clock import Clock
from overture.core.budget import usd_to_micros
from overture.llm.base import LLMResult
from overture.llm.factory import ledger_input_tokens
from overture.skills.prose.metering import CallMeter
from overture.storage.queries import jobs as jobq
from overture.storage.queries.budgets import budget_state
from overture.storage.store import Store


class OrgMeter(CallMeter):
    """A meter that charges ``org_id``'s cost ledger and stops at its AI budget."""

    def __init__(self, store: Store, org_id: str, clock: Clock) -> None:
        super().__init__()
        self._store = store
        self._org_id = org_id
        self._clock = clock

    def _charge(self, result: LLMResult[Any]) -> None:
        row = {
            "org_id": self._org_id,
            "job_id": None,
            "step_index": None,
            "provider": result.provider,
            "model": result.model,
            "input_tokens": ledger_input_tokens(result),
            "output_tokens": result.usage.output_tokens,
            "cost_micros": usd_to_micros(result.cost_usd or 0.0),
            "created_at": self._clock.now(),
        }
        with self._store.write() as conn:
            jobq.insert_costs(conn, [row])

    def exhausted(self) -> str | None:
        with self._store.read() as conn:
            state = budget_state(conn, self._org_id, self._clock.now())
        period = state.exceeded_period
        return None if period is None else f"the org's {period} AI budget is spent"
