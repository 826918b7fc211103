"""The evaluation's report: one JSON document for programs, a table and the wrong calls for people.

Built from the run and the scores only (pure), so the command stays a thin wrapper and the two
forms cannot disagree. Titles are shown; transcript text never is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from overture.evaluation.runner import EVENT, EvalRun
from overture.evaluation.scoring import LabelScore, Miss


def _misses(misses: Sequence[Miss]) -> list[dict[str, str]]:
    return [{"id": m.call_id, "title": m.title} for m in misses]


def statuses(run: EvalRun) -> dict[str, int]:
    """How many ``meeting_ended`` jobs ended the run in each status, most common first."""
    return dict(Counter(r.status for r in run.results).most_common())


def as_json(run: EvalRun, scores: Sequence[LabelScore], source: str, database: str | None) -> dict[str, Any]:
    """Everything the run found: per label its table, metrics and wrong calls; per call what the
    real path did (job, status, follow-ups) so a wrong call can be looked up."""
    return {
        "file": source,
        "calls": len(run.results),
        "provider": run.provider,
        "model": run.model,
        "elapsed_s": round(run.elapsed_s, 3),
        "database": database,
        "statuses": statuses(run),
        "labels": {
            s.label: {
                "tp": s.confusion.tp,
                "fp": s.confusion.fp,
                "fn": s.confusion.fn,
                "tn": s.confusion.tn,
                "precision": s.confusion.precision,
                "recall": s.confusion.recall,
                "f1": s.confusion.f1,
                "false_negatives": _misses(s.false_negatives),
                "false_positives": _misses(s.false_positives),
            }
            for s in scores
        },
        "results": [
            {
                "id": r.call_id,
                "title": r.title,
                "expected": dict(r.expected),
                "predicted": dict(r.predicted),
                "status": r.status,
                "followups": list(r.followups),
                "org_id": r.org_id,
                "job_id": r.job_id,
            }
            for r in run.results
        ],
    }


def _metric(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _list(heading: str, misses: Sequence[Miss]) -> list[str]:
    lines = [f"{heading}: {len(misses)}"]
    width = max((len(m.call_id) for m in misses), default=0)
    return lines + [f"  {m.call_id:<{width}}  {m.title}" for m in misses]


def as_text(run: EvalRun, scores: Sequence[LabelScore], source: str, database: str | None) -> str:
    """The confusion table with precision, recall and F1, then each label's wrong calls."""
    model = f" ({run.model})" if run.model else ""
    done = ", ".join(f"{status} {n}" for status, n in statuses(run).items())
    lines = [
        f"{source}: {len(run.results)} call(s) through {EVENT}, provider {run.provider}{model}, "
        f"{run.elapsed_s:.1f} s",
        f"{EVENT} jobs at the end: {done}",
        "",
        f"{'label':<10} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>4} {'precision':>10} {'recall':>7} {'F1':>6}",
    ]
    for s in scores:
        c = s.confusion
        lines.append(
            f"{s.label:<10} {c.tp:>4} {c.fp:>4} {c.fn:>4} {c.tn:>4} "
            f"{_metric(c.precision):>10} {_metric(c.recall):>7} {_metric(c.f1):>6}"
        )
    for s in scores:
        lines += ["", *_list(f"{s.label}, expected but not queued (FN)", s.false_negatives)]
        lines += _list(f"{s.label}, queued but not expected (FP)", s.false_positives)
    if database:
        lines += ["", f"database kept: {database}"]
    return "\n".join(lines)
