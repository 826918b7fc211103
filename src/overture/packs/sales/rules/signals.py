"""The other signals in a call, by rules: questions asked, objections raised, and whether the
two sides agreed to meet again."""

from __future__ import annotations

import re
from collections.abc import Iterable

from overture.packs.sales.rules.commitments import Commitment
from overture.packs.sales.rules.text import Sentence

_OBJECTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (
            "price",
            r"\b(?:too expensive|pricey|(?:price|cost)s? (?:is|are) (?:higher|high|steep|a lot)|"
            r"higher than we expected|over (?:our|the) budget|out of (?:our|the) budget|"
            r"no budget|tight budget|budget (?:is|was) (?:tight|cut|frozen)|cheaper)\b",
        ),
        (
            "competition",
            r"\b(?:already (?:use|have|pay for)|vendor we already have|other vendors|competitor|bake-off|"
            r"went with|going with \w+ instead|alternatives|comparing you)\b",
        ),
        (
            "timing",
            r"\b(?:not a priority|bad timing|not right now|(?:hiring|budget) freeze|hold off|"
            r"until (?:next (?:year|quarter)|january|april|q[1-4])|can't commit to a timeline|too busy)\b",
        ),
        (
            "security",
            r"\b(?:security (?:review|team) (?:will|is|needs|might)|worried about (?:security|data)|"
            r"data residency|compliance (?:is|will be) (?:a|an) (?:issue|concern|blocker))\b",
        ),
        (
            "implementation",
            r"\b(?:implementation|rollout|migration|onboarding) (?:takes?|took|will take|is|looks|"
            r"could take)\b[^.]*\b(?:long|months|painful|heavy|risky|worried)|"
            r"\b(?:don't|do not) have the (?:bandwidth|resources|people)\b|\bno bandwidth\b",
        ),
        (
            "authority",
            r"\b(?:not my (?:decision|call)|above my pay grade|(?:the )?board (?:has|needs) to|"
            r"need (?:sign-off|approval) from)\b",
        ),
        ("other", r"\b(?:my concern is|i'm worried|we're worried|i'm skeptical|hesitant|not convinced)\b"),
    )
)
_NEGATIVE_REPLY = re.compile(
    r"^(?:no|not (?:yet|really)|that doesn't work|i can't|let's not|we'll see)\b", re.IGNORECASE
)


def questions(sentences: Iterable[Sentence]) -> list[dict[str, str]]:
    """Every question asked, by whom; small talk included, since coaching counts them all."""
    return [{"speaker": s.speaker, "side": s.side, "text": s.text} for s in sentences if s.is_question]


def objections(sentences: Iterable[Sentence]) -> list[dict[str, str]]:
    """Objections the prospect raised, one per sentence, by the first matching category."""
    found = []
    for sentence in sentences:
        if sentence.side != "prospect":
            continue
        for kind, pattern in _OBJECTIONS:
            if pattern.search(sentence.text):
                found.append({"speaker": sentence.speaker, "category": kind, "phrase": sentence.text})
                break
    return found


def next_meeting(commitments: Iterable[Commitment], sentences: list[Sentence]) -> dict[str, object]:
    """Whether a next meeting was agreed: a scheduling commitment the other side did not refuse."""
    for commitment in commitments:
        if commitment.intent != "schedule_meeting" or commitment.confidence < 0.75:
            continue
        reply = next(
            (s for s in sentences if s.segment > commitment.segment and s.side != commitment.side), None
        )
        if (
            reply is not None
            and reply.segment == commitment.segment + 1
            and _NEGATIVE_REPLY.search(reply.text)
        ):
            continue
        return {
            "agreed": True,
            "phrase": commitment.phrase,
            "proposed_by": commitment.side,
            "due_date": commitment.due_date.isoformat() if commitment.due_date else None,
        }
    return {"agreed": False, "phrase": None, "proposed_by": None, "due_date": None}
