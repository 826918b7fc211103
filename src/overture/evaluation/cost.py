"""What the offline detector costs per call, in CPU time: the figure ``overture bench --detector``
reports. The detector alone, on the file's calls with their sides as labelled, so the number is
the rules' own cost, not the webhook's or the worker's."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from overture.evaluation.calls import read_calls
from overture.packs.sales.rules.detect import detect_call
from overture.packs.sales.rules.detect.lexicon import lexicon
from overture.packs.sales.rules.detect.turns import Side

_REP_SIDE = ("rep", "colleague")


def detector_cost(path: Path, rounds: int = 3) -> dict[str, Any]:
    """CPU milliseconds per call (mean over ``rounds`` passes of the file), and the slowest call."""
    calls = read_calls(path)
    lexicon()  # compiled once, as a running service would have it
    prepared: list[tuple[str, list[dict[str, str]], dict[str, Side]]] = [
        (
            call.id,
            [{"speaker": s.speaker, "text": s.text} for s in call.segments],
            {p.name: "rep" if p.role in _REP_SIDE else "prospect" for p in call.participants},
        )
        for call in calls
    ]
    slowest, slowest_id = 0.0, ""
    started = time.process_time()
    for _ in range(rounds):
        for call_id, segments, sides in prepared:
            one = time.process_time()
            detect_call(segments, sides)
            spent = time.process_time() - one
            if spent > slowest:
                slowest, slowest_id = spent, call_id
    total = time.process_time() - started
    per_call = total / max(1, rounds * len(prepared))
    return {
        "calls": len(prepared),
        "rounds": rounds,
        "cpu_ms_per_call": round(per_call * 1000, 3),
        "slowest_cpu_ms": round(slowest * 1000, 3),
        "slowest_call": slowest_id,
    }
