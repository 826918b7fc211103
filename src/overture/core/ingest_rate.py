"""The per-org ingest rate: past it, an org's events are deferred, never dropped.

Off unless configured (``org_ingest_rate = "600/minute"``). The count is the org's events that
made a job (accepted or deferred) received in the last window, read from the database, so every
process sharing it agrees. An event over the limit is deferred by whole windows, as many as the
count says (``count // limit``): a burst is spread ``limit`` to a window instead of run at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from overture.core.gates import GateDecision, Outcome, Reason

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^([1-9][0-9]*)/(second|minute|hour|day)$")


@dataclass(frozen=True)
class IngestRate:
    """At most ``limit`` events an org may have start in ``window``."""

    limit: int
    window: timedelta
    text: str

    @classmethod
    def parse(cls, text: str) -> IngestRate:
        """``"600/minute"`` as a rate; ValueError naming the text otherwise."""
        match = _RATE.match(text.strip())
        if match is None:
            raise ValueError(f"not a rate: {text!r} (expected e.g. 600/minute)")
        return cls(int(match[1]), timedelta(seconds=_UNITS[match[2]]), text.strip())


def throttle(decision: GateDecision, recent: int, rate: IngestRate, now: datetime) -> GateDecision:
    """``decision``, or a deferral when it would accept an event past the rate (``recent``: the
    org's events that made a job within the window before ``now``)."""
    if decision.outcome != Outcome.ACCEPTED or recent < rate.limit:
        return decision
    run_after = now + rate.window * (recent // rate.limit)
    detail = (
        f"the organisation had {recent} events in the last {rate.text.split('/')[1]} "
        f"(limit {rate.text}); deferred to {run_after:%Y-%m-%d %H:%M:%S} UTC"
    )
    return GateDecision(Outcome.DEFERRED, Reason.ORG_RATE_LIMITED, detail, run_after)
