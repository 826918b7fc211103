"""W2, three steps with a human approval at step 2, one event in flight:

- phase A: emit an event and wait until its job pauses for the approval, then the next;
- phase B: approve each pending action and wait until its job has finished, then the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from overture.app import App
from overture.bench.chain import background_worker, event
from overture.bench.pack import APPROVAL
from overture.bench.setup import Tenant
from overture.core.records import Decision
from overture.storage.queries import approvals as actionq


def pause_and_decide(
    app: App, tenant: Tenant, events: int, phase: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """``phase`` (if given) is told when the pauses are over ("paused") and when the
    decisions start ("deciding"); the pending actions are read in between."""
    tell = phase or (lambda _name: None)
    with background_worker(app) as runs:
        t0 = time.perf_counter()
        for i in range(events):
            app.emit(event(tenant, APPROVAL, i))
            runs.wait(i + 1)
        t1 = time.perf_counter()
        tell("paused")
        with app.store.read() as conn:
            pending = actionq.list_actions(conn, org_id=tenant.org, status="pending", limit=events)
        if len(pending) != events:
            raise RuntimeError(f"{len(pending)} of {events} jobs paused for approval")
        tell("deciding")
        t2 = time.perf_counter()
        for i, action in enumerate(pending):
            app.approvals.decide(action.id, Decision.APPROVE, tenant.user, "api", org_id=tenant.org)
            runs.wait(events + i + 1)
        t3 = time.perf_counter()
    return {
        "events": events,
        "pause_us_per_event": (t1 - t0) / events * 1e6,
        "decide_us_per_event": (t3 - t2) / events * 1e6,
    }
