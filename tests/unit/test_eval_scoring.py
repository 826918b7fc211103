"""Scoring labelled calls: confusion tables, precision, recall and F1 (with their undefined
cases), and which calls were wrong for each label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from overture.evaluation.scoring import Confusion, Miss, confusion, score, score_label


@dataclass(frozen=True)
class Result:
    call_id: str
    title: str
    expected: Mapping[str, bool]
    predicted: Mapping[str, bool]


def result(call_id: str, expected: tuple[bool, bool], predicted: tuple[bool, bool]) -> Result:
    def labels(pair: tuple[bool, bool]) -> dict[str, bool]:
        return {"proposal": pair[0], "schedule": pair[1]}

    return Result(call_id, f"Call {call_id}", labels(expected), labels(predicted))


def test_confusion_counts_each_cell() -> None:
    """Each (expected, predicted) pair lands in exactly one cell."""
    pairs = [(True, True)] * 3 + [(False, True)] * 2 + [(True, False)] + [(False, False)] * 4
    assert confusion(pairs) == Confusion(tp=3, fp=2, fn=1, tn=4)
    assert confusion([]) == Confusion()


def test_metrics_of_an_ordinary_table() -> None:
    """Precision TP/(TP+FP), recall TP/(TP+FN), F1 their harmonic mean."""
    table = Confusion(tp=3, fp=1, fn=2, tn=4)
    assert table.precision == pytest.approx(0.75)
    assert table.recall == pytest.approx(0.6)
    assert table.f1 == pytest.approx(2 * 0.75 * 0.6 / (0.75 + 0.6))
    assert table.total == 10


def test_no_predictions_has_no_precision_but_a_recall_of_zero() -> None:
    """A detector that flags nothing: precision undefined (None, not 0), recall 0, F1 0."""
    table = Confusion(tp=0, fp=0, fn=5, tn=7)
    assert (table.precision, table.recall, table.f1) == (None, 0.0, 0.0)


def test_no_positives_has_no_recall_but_a_precision_of_zero() -> None:
    """Nothing should have been flagged and something was: recall undefined, precision 0, F1 0."""
    table = Confusion(tp=0, fp=3, fn=0, tn=9)
    assert (table.precision, table.recall, table.f1) == (0.0, None, 0.0)


def test_nothing_expected_and_nothing_predicted_leaves_every_metric_undefined() -> None:
    """All true negatives (or no calls at all): nothing to measure."""
    for table in (Confusion(tn=6), Confusion()):
        assert (table.precision, table.recall, table.f1) == (None, None, None)


def test_a_perfect_detector_scores_one() -> None:
    """Every positive found, nothing else flagged."""
    table = Confusion(tp=4, tn=2)
    assert (table.precision, table.recall, table.f1) == (1.0, 1.0, 1.0)


def test_score_lists_the_wrong_calls_per_label_in_file_order() -> None:
    """False negatives and false positives are named with their titles, per label."""
    results = [
        result("c1", (True, True), (True, False)),
        result("c2", (False, False), (True, True)),
        result("c3", (True, False), (False, False)),
        result("c4", (False, True), (False, True)),
    ]
    proposal, schedule = score(results, ["proposal", "schedule"])
    assert proposal.label == "proposal" and proposal.confusion == Confusion(tp=1, fp=1, fn=1, tn=1)
    assert proposal.false_negatives == (Miss("c3", "Call c3"),)
    assert proposal.false_positives == (Miss("c2", "Call c2"),)
    assert schedule.confusion == Confusion(tp=1, fp=1, fn=1, tn=1)
    assert schedule.false_negatives == (Miss("c1", "Call c1"),)
    assert schedule.false_positives == (Miss("c2", "Call c2"),)


def test_a_missing_label_counts_as_false() -> None:
    """A result without the label is neither expected nor predicted for it."""
    scored = score_label([Result("c1", "t", {"proposal": True}, {})], "schedule")
    assert scored.confusion == Confusion(tn=1)
