"""The offline provider's analysis rules, one per task: what a model would be asked, answered by
rules over the same input. Each takes the request's input dict and returns the answer dict that
must validate against the task's schema (``models.py``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from overture.llm.offline import OfflineProvider
from overture.packs.sales.rules.commitments import Commitment, find_commitments
from overture.packs.sales.rules.email import classify_email
from overture.packs.sales.rules.signals import next_meeting, objections, questions
from overture.packs.sales.rules.text import Sentence, first_name, sentences, speakers_by_side
from overture.packs.sales.writers import advice as writers
from overture.packs.sales.writers import copywriting

_YOU = re.compile(r"\byou\b", re.IGNORECASE)
_YOUR = re.compile(r"\byour\b", re.IGNORECASE)
_ME = re.compile(r"\b(?:me|I)\b(?!')")


def _transcript(data: dict[str, Any]) -> tuple[list[Sentence], date, list[str]]:
    reps = [str(r) for r in data.get("reps") or []]
    meeting = data.get("meeting") or {}
    spoken_on = date.fromisoformat(str(meeting.get("date") or data.get("meeting_date")))
    return list(sentences(data.get("segments") or [], reps)), spoken_on, reps


def _commitment(c: Commitment) -> dict[str, Any]:
    return {
        "speaker": c.speaker,
        "side": c.side,
        "intent": c.intent,
        "phrase": c.phrase,
        "confidence": c.confidence,
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "due_phrase": c.due_phrase,
    }


def detect_intents(data: dict[str, Any]) -> dict[str, Any]:
    """Commitments with speaker side, intent, phrase and confidence; questions; objections; and
    whether a next meeting was agreed."""
    said, spoken_on, _ = _transcript(data)
    found = find_commitments(said, spoken_on)
    return {
        "commitments": [_commitment(c) for c in found],
        "questions": questions(said),
        "objections": objections(said),
        "next_meeting": next_meeting(found, said),
    }


def _personal(action: str, owner: str, counterpart: str | None) -> str:
    """'Send you the proposal' from Maya to Jordan reads 'Send Jordan the proposal'."""
    if counterpart:
        name = first_name(counterpart)
        action = _YOUR.sub(f"{name}'s", action)
        action = _YOU.sub(name, action)
    return _ME.sub(first_name(owner), action)


def extract_action_items(data: dict[str, Any]) -> dict[str, Any]:
    """Each commitment as an action item: an owner, the action in their own words made
    readable, and the due date resolved against the meeting date."""
    said, spoken_on, reps = _transcript(data)
    sides = speakers_by_side(data.get("segments") or [], reps)
    items = []
    for c in find_commitments(said, spoken_on):
        others = sides["prospect" if c.side == "rep" else "rep"]
        items.append(
            {
                "owner": c.speaker,
                "owner_side": c.side,
                "action": _personal(c.action, c.speaker, others[0] if others else None),
                "intent": c.intent,
                "due_date": c.due_date.isoformat() if c.due_date else None,
                "due_phrase": c.due_phrase,
                "confidence": c.confidence,
            }
        )
    return {"items": items}


def register_rules(offline: OfflineProvider) -> None:
    """Give the offline provider an answer for every task the sales skills ask."""
    offline.register_rule("detect-intents", detect_intents)
    offline.register_rule("extract-action-items", extract_action_items)
    offline.register_rule("email-classifier", classify_email)
    offline.register_rule("suggest-next-actions", writers.next_actions)
    offline.register_rule("suggest-deal-actions", writers.deal_actions)
    offline.register_rule("copywriter", copywriting.email_draft)
    offline.register_rule("generate-proposal", copywriting.proposal)
    offline.register_rule("meeting-prep", writers.meeting_prep)
    offline.register_rule("coaching-analysis", writers.coaching_feedback)
