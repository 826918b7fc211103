"""Commitments in a sales conversation, found by rules: who undertook to do what, by when.

A commitment is a first-person (or own-team) undertaking: "I'll send you the proposal by
Friday", "Let's set up a call next Tuesday", "Our engineer will put together a sandbox". Past
actions, questions, negations, hypotheticals and small talk ("I'll be honest", "I'll be in
Chicago") are not. An offer or a request that the other side accepts ("Would it help if I sent
a case study?" - "Yes, please") is a commitment of whoever will act.

The rules favour precision over recall: a false "I'll send the proposal" queues a proposal the
rep never promised, which costs the rep more than a missed one costs the copilot.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

from overture.packs.sales.rules.dates import resolve_due
from overture.packs.sales.rules.intents import classify_clause
from overture.packs.sales.rules.text import Sentence, Side

MIN_CONFIDENCE = 0.5

_TRIGGERS: tuple[tuple[str, float], ...] = (
    (r"\bI(?:'ll| will|'m going to| am going to|'m gonna)(?! be (?!\w+ing\b)\w+)(?! try\b)", 0.9),
    (r"\bI(?:'ll| will) try to\b", 0.55),
    (r"\bI(?:'m| am)(?= (?:sending|emailing|putting|setting|booking|drafting|preparing|writing)\b)", 0.9),
    (r"\blet me\b(?! know| ask| share my screen| show| pull up| walk you| be (?:honest|clear|frank))", 0.85),
    (r"\bwe(?:'ll| will|'re going to| are going to)(?! be (?!\w+ing\b)\w+)", 0.85),
    (r"\blet's\b", 0.85),
    (r"\b(?:I'm |I am |I'd be |we're |we'd be )?happy to\b", 0.75),
    (r"\bI can(?!'t|not)\b", 0.75),
    (r"\bwe can(?!'t|not)\b", 0.7),
    (r"\bI (?:need|have) to\b", 0.7),
    (r"\bwill do\b", 0.9),
    (
        r"\b(?:my|our) (?:colleague|teammate|team|solutions engineer|engineer|SE|CTO|CFO|manager|"
        r"boss|legal team|security team|finance team|procurement team|head of \w+)(?: \w+)? will\b",
        0.8,
    ),
)
_TRIGGER = [(re.compile(p, re.IGNORECASE), c) for p, c in _TRIGGERS]
_SUBCLAUSE = re.compile(
    r",? and (?=(?:then )?(?:get|send|set|book|schedule|loop|check|share|follow|circle|let|put|draft|"
    r"email|introduce|forward|review|see|talk|run|make|have|find|connect|fill|pull|prepare|write|"
    r"we|I)\b)",
    re.IGNORECASE,
)
_SUBORDINATE = re.compile(
    r"\b(?:before|until|unless|once|when|so|so that|if|after|that|which) (?:we|you|I|they|he|she)\b"
    r"|\b(?:you|they) (?:can|could)\b",
    re.IGNORECASE,
)
_SUBORDINATE_BEFORE = re.compile(
    r"\b(?:before|until|unless|once|when|so|so that|if|after|what|which)\s*$", re.IGNORECASE
)
_NEED = re.compile(r"\s*(?:definitely |really |also )?need\b", re.IGNORECASE)
_WEAK = re.compile(r"\b(?:try to|hopefully|probably|no promises|should be able to|aim to)\b", re.I)
_MAYBE = re.compile(r"\b(?:maybe|might|perhaps|possibly)\b", re.IGNORECASE)
_CONDITION = re.compile(r"\bif\b(?! you'd like| that helps| useful)", re.IGNORECASE)
_OFFER = re.compile(
    r"\b(?:would it help if I|do you want me to|want me to|should I|shall I|would you like me to|"
    r"I could .* if you(?:'d| would) like)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(r"\b(?:could|can|would|will) you(?: please)?\b", re.IGNORECASE)
_YES = re.compile(
    r"^(?:yes|yeah|yep|sure|of course|absolutely|definitely|please do|that would be (?:great|helpful)|"
    r"sounds good|perfect|great|will do|no problem|send it|please)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Commitment:
    """One undertaking, as the detect-intents skill reports it."""

    speaker: str
    side: Side
    intent: str
    phrase: str
    action: str
    confidence: float
    due_date: date | None
    due_phrase: str | None
    segment: int


def _clauses(text: str) -> list[tuple[str, float]]:
    """The parts of a sentence that each start with a commitment trigger, with its base weight.

    A trigger inside a subordinate clause ("before we can start", "so you can see") commits to
    nothing, and such a clause is cut from the commitment it follows; so is a bare need
    ("we will need your sign-off"), which asks rather than undertakes.
    """
    starts: list[tuple[int, int, float]] = []
    for pattern, weight in _TRIGGER:
        for match in pattern.finditer(text):
            if _SUBORDINATE_BEFORE.search(text[: match.start()]):
                continue
            if not any(s <= match.start() < e for s, e, _ in starts):
                starts.append((match.start(), match.end(), weight))
    starts.sort()
    clauses = []
    for i, (_, end, weight) in enumerate(starts):
        clause = text[end : starts[i + 1][0] if i + 1 < len(starts) else len(text)]
        clause = _SUBORDINATE.split(clause, maxsplit=1)[0]
        if not _NEED.match(clause):
            clauses.append((clause, weight))
    return clauses


def _confidence(base: float, clause: str, sentence: str, has_due: bool) -> float:
    value = base + (0.05 if has_due else 0.0)
    if _CONDITION.search(sentence):
        value -= 0.15
    if _WEAK.search(sentence):
        value = min(value, 0.55)
    if _MAYBE.search(sentence):
        value = min(value, 0.45)
    return round(min(value, 0.97), 2)


def _action(clause: str) -> str:
    text = re.sub(r"[\s,]+(?:and|but|so|then)?[\s,]*$", "", clause).strip(" ,.;:-")
    return text[:1].upper() + text[1:] if text else text


def in_sentence(sentence: Sentence, spoken_on: date) -> list[Commitment]:
    """The commitments one sentence makes, one per distinct intent."""
    if sentence.is_question:
        return []
    found: list[Commitment] = []
    for clause, weight in _clauses(sentence.text):
        group: list[tuple[str, str | None]] = []
        for part in _SUBCLAUSE.split(clause):
            group.append((part, classify_clause(part, sentence.side)))
        merged: list[tuple[str, list[str]]] = []
        for part, intent in group:
            same = [m for m in merged if m[0] == intent] if intent is not None else merged[-1:]
            if same:
                same[0][1].append(part)
            elif intent is not None:
                merged.append((intent, [part]))
        for intent, parts in merged:
            text = " and ".join(p.strip(" ,") for p in parts)
            due = None
            for part in reversed(parts):
                due = resolve_due(part, spoken_on)
                if due is not None:
                    break
            confidence = _confidence(weight, text, sentence.text, due is not None)
            if confidence < MIN_CONFIDENCE:
                continue
            found.append(
                Commitment(
                    speaker=sentence.speaker,
                    side=sentence.side,
                    intent=intent,
                    phrase=sentence.text,
                    action=_action(text),
                    confidence=confidence,
                    due_date=due.date if due else None,
                    due_phrase=due.phrase if due else None,
                    segment=sentence.segment,
                )
            )
    return found


def accepted(asked: Sentence, answer: Sentence, spoken_on: date) -> Commitment | None:
    """An offer ("Should I send the proposal?") or request ("Could you send the case study?")
    the other side said yes to, as a commitment of whoever will act."""
    if not asked.is_question or asked.side == answer.side or not _YES.search(answer.text):
        return None
    if _OFFER.search(asked.text):
        speaker, side = asked.speaker, asked.side
    elif _REQUEST.search(asked.text):
        speaker, side = answer.speaker, answer.side
    else:
        return None
    body = re.split(r"\b(?:if I|me to|should I|shall I|could you|can you|would you|will you)\b", asked.text)
    clause = body[-1].rstrip("?")
    intent = classify_clause(clause, side)
    if intent is None:
        return None
    due = resolve_due(clause, spoken_on) or resolve_due(answer.text, spoken_on)
    return Commitment(
        speaker=speaker,
        side=side,
        intent=intent,
        phrase=f"{asked.text} {answer.text}",
        action=_action(
            re.sub(r"^\s*(?:please\s+)?(?:sent\b)?", lambda m: "send" if "sent" in m.group(0) else "", clause)
        ),
        confidence=0.8,
        due_date=due.date if due else None,
        due_phrase=due.phrase if due else None,
        segment=answer.segment,
    )


def find_commitments(sentences: list[Sentence], spoken_on: date) -> list[Commitment]:
    """Every commitment in a transcript's sentences, in the order they were made.

    Explicit undertakings come first; an accepted offer or request is added only when the
    answer did not already spell the same commitment out ("Absolutely. I'll email it today").
    """
    found = [c for sentence in sentences for c in in_sentence(sentence, spoken_on)]
    for previous, sentence in itertools.pairwise(sentences):
        if previous.segment == sentence.segment:
            continue
        deal = accepted(previous, sentence, spoken_on)
        if deal is not None and not any(
            c.segment == deal.segment and c.intent == deal.intent and c.side == deal.side for c in found
        ):
            found.append(deal)
    return sorted(found, key=lambda c: c.segment)
