"""The offline commitment rules on the labelled transcript snippets: precision, recall, due dates."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from overture.packs.sales.rules.commitments import find_commitments
from overture.packs.sales.rules.text import sentences

DATA = yaml.safe_load((Path(__file__).parents[1] / "data" / "transcript_snippets.yaml").read_text())


def score(section: str) -> dict[str, Any]:
    """Precision and recall of (speaker side, intent) per snippet, and due-date accuracy."""
    tp = fp = fn = due_right = due_total = 0
    for snippet in DATA[section]:
        spoken_on = snippet["meeting_date"]
        found = find_commitments(list(sentences(snippet["segments"], DATA["reps"])), spoken_on)
        got = Counter((c.side, c.intent) for c in found)
        want = Counter((e["speaker"], e["intent"]) for e in snippet["expected"])
        hits = sum((got & want).values())
        tp, fp, fn = tp + hits, fp + sum(got.values()) - hits, fn + sum(want.values()) - hits
        for expected in snippet["expected"]:
            match = [c for c in found if (c.side, c.intent) == (expected["speaker"], expected["intent"])]
            if "due" in expected and match:
                due_total += 1
                due_right += match[0].due_date == expected["due"]
    return {
        "snippets": len(DATA[section]),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "due_accuracy": due_right / due_total if due_total else 1.0,
    }


def test_the_labelled_set_is_big_enough_and_well_formed() -> None:
    """At least 30 snippets, each with an id, a date, segments and expected (side, intent) pairs."""
    every = DATA["snippets"] + DATA["holdout"] + DATA["fresh"]
    assert len(every) >= 30 and len({s["id"] for s in every}) == len(every)
    for snippet in every:
        assert isinstance(snippet["meeting_date"], date) and snippet["segments"]
        assert all(e["speaker"] in ("rep", "prospect") for e in snippet["expected"])


@pytest.mark.parametrize(
    ("section", "precision", "recall"),
    [("snippets", 0.95, 0.95), ("holdout", 0.9, 0.9), ("fresh", 0.75, 0.4)],
)
def test_commitment_precision_and_recall(section: str, precision: float, recall: float) -> None:
    """The rules keep above the floor on each set; the fresh set (never tuned on) is the honest one."""
    result = score(section)
    print(
        f"\n{section}: {result['snippets']} snippets, precision {result['precision']:.2f}, "
        f"recall {result['recall']:.2f}, due dates right {result['due_accuracy']:.0%}"
    )
    assert result["precision"] >= precision and result["recall"] >= recall
    assert result["due_accuracy"] >= 0.9


def test_negations_questions_and_small_talk_commit_to_nothing() -> None:
    """'I won't send', 'Did you get it?', 'I'll be honest' and 'I'll be in Chicago' commit to nothing."""
    said = [
        {"speaker": "Maya Chen", "text": "I won't send the proposal until the NDA is signed."},
        {"speaker": "Maya Chen", "text": "Did you get the proposal I sent?"},
        {"speaker": "Jordan Blake", "text": "I'll be honest, the price is high."},
        {"speaker": "Maya Chen", "text": "I'll be in Chicago next week."},
    ]
    assert find_commitments(list(sentences(said, ["Maya Chen"])), date(2026, 11, 18)) == []


def test_the_seed_example_is_a_confident_rep_proposal_due_on_friday() -> None:
    """'I'll send you the proposal by Friday' on a Wednesday: rep, send_proposal, >= 0.8, due that Friday."""
    said = [{"speaker": "Maya Chen", "text": "I'll send you the proposal by Friday."}]
    (found,) = find_commitments(list(sentences(said, ["Maya Chen"])), date(2026, 11, 18))
    assert (found.side, found.intent, found.due_date) == ("rep", "send_proposal", date(2026, 11, 20))
    assert found.confidence >= 0.8


def test_hedged_promises_keep_a_low_confidence() -> None:
    """'I'll try to get you pricing' is a commitment, but one too weak to act on without asking."""
    said = [{"speaker": "Leo Okafor", "text": "I'll try to get you the pricing before the holidays."}]
    (found,) = find_commitments(list(sentences(said, ["Leo Okafor"])), date(2026, 11, 18))
    assert found.intent == "send_pricing" and found.confidence < 0.8
