"""Scoring a detector against labelled calls: a confusion table per label, precision, recall, F1,
and which calls it got wrong. Pure functions of what was expected and what was predicted, so
they are tested without running anything.

A ratio with nothing to divide is ``None``, not 0: a detector that queued no proposal at all has
no precision to speak of, and reporting 0.0 would read as "all its proposals were wrong". F1 is
``2·TP / (2·TP + FP + FN)``, which is 0 when there were positives or predictions and none
matched, and ``None`` only when the label never occurs on either side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class Judged(Protocol):
    """A call with its labels and the detector's: what scoring needs of a result."""

    @property
    def call_id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def expected(self) -> Mapping[str, bool]: ...

    @property
    def predicted(self) -> Mapping[str, bool]: ...


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Confusion:
    """Counts of one label over the calls: true/false positives and negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        """Of the calls the detector flagged, the share that should have been."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """Of the calls that should have been flagged, the share that were."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        """The harmonic mean of precision and recall, written so that it is defined (0) when
        one of them is not but something was expected or predicted."""
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)


def confusion(pairs: Iterable[tuple[bool, bool]]) -> Confusion:
    """The confusion table of ``(expected, predicted)`` pairs."""
    tp = fp = fn = tn = 0
    for expected, predicted in pairs:
        if expected and predicted:
            tp += 1
        elif predicted:
            fp += 1
        elif expected:
            fn += 1
        else:
            tn += 1
    return Confusion(tp, fp, fn, tn)


@dataclass(frozen=True)
class Miss:
    """A call the detector got wrong for one label."""

    call_id: str
    title: str


@dataclass(frozen=True)
class LabelScore:
    """One label's table, its metrics, and the calls behind its errors (in file order)."""

    label: str
    confusion: Confusion
    false_negatives: tuple[Miss, ...]
    false_positives: tuple[Miss, ...]


def score_label(results: Sequence[Judged], label: str) -> LabelScore:
    """Score one label; a result that lacks the label counts as ``False`` on that side."""
    pairs = [(bool(r.expected.get(label)), bool(r.predicted.get(label))) for r in results]
    missed = tuple(Miss(r.call_id, r.title) for r, (e, p) in zip(results, pairs, strict=True) if e and not p)
    extra = tuple(Miss(r.call_id, r.title) for r, (e, p) in zip(results, pairs, strict=True) if p and not e)
    return LabelScore(label, confusion(pairs), missed, extra)


def score(results: Sequence[Judged], labels: Sequence[str]) -> list[LabelScore]:
    """Score every label, in the order given."""
    return [score_label(results, label) for label in labels]
