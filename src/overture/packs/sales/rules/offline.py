"""The offline provider's analysis rules, one per task: what a model would be asked, answered by
rules over the same input. Each takes the request's input dict and returns the answer dict that
must validate against the task's schema (``models.py``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from overture.llm.offline import OfflineProvider
from overture.packs.sales.rules.commitments import Commitment, find_commitments
from overture.packs.sales.rules.dates import resolve_due
from overture.packs.sales.rules.detect import CallFindings, Meeting, detect_call
from overture.packs.sales.rules.detect.documents import DocumentCommitment
from overture.packs.sales.rules.email import classify_email
from overture.packs.sales.rules.signals import objections, questions
from overture.packs.sales.rules.text import Sentence, first_name, sentences, side_of, speakers_by_side
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


COMMERCIAL_INTENTS = {"send_proposal", "send_pricing", "send_contract"}
_INTENT_OF_DOCUMENT = {
    "proposal": "send_proposal",
    "sow": "send_proposal",
    "quote": "send_pricing",
    "estimate": "send_pricing",
    "pricing": "send_pricing",
    "order_form": "send_contract",
    "agreement": "send_contract",
}


def _commitment(c: Commitment, promise: DocumentCommitment | None = None) -> dict[str, Any]:
    """A commitment as reported; the commercial one also cites the turn that sealed it."""
    document = promise.kind if promise else None
    return {
        "speaker": c.speaker,
        "side": c.side,
        "intent": c.intent,
        "phrase": c.phrase,
        "confidence": c.confidence,
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "due_phrase": c.due_phrase,
        "commercial": document is not None,
        "document": document,
        "firmness": "firm",  # the rules report only what stands at the end of the call
        "segments": _rests_on(promise) if promise else [c.segment],
    }


def _rests_on(promise: DocumentCommitment) -> list[int]:
    answered = promise.segment if promise.answered_at is None else promise.answered_at
    return sorted({promise.segment, answered})


def sides_of(data: dict[str, Any]) -> dict[str, Any]:
    """Each speaker's side: as participant resolution gave it, else by name against the org's reps."""
    given = dict(data.get("sides") or {})
    reps = [str(r) for r in data.get("reps") or []]
    for segment in data.get("segments") or []:
        speaker = str(segment.get("speaker") or "Unknown speaker")
        given.setdefault(speaker, side_of(speaker, reps))
    return given


def _commercial(found: CallFindings, said: list[Sentence], spoken_on: date) -> dict[str, Any] | None:
    """The commitment that chains a proposal, in the words the rules found it in."""
    promise = found.proposal
    if promise is None:
        return None
    due = resolve_due(promise.phrase, spoken_on)
    return {
        "speaker": promise.speaker,
        "side": "rep",
        "intent": _INTENT_OF_DOCUMENT[promise.kind],
        "phrase": promise.phrase,
        "confidence": promise.confidence,
        "due_date": due.date.isoformat() if due else None,
        "due_phrase": due.phrase if due else None,
        "commercial": True,
        "document": promise.kind,
        "firmness": "firm",  # the detector's proposal is firm and still stands at the end
        "segments": _rests_on(promise),
    }


def _meeting(meeting: Meeting | None, sides: dict[str, Any], spoken_on: date) -> dict[str, Any]:
    if meeting is None:
        return {"agreed": False, "fixed": False, "phrase": None, "proposed_by": None, "due_date": None}
    due = resolve_due(meeting.phrase, spoken_on)
    return {
        "agreed": True,
        "fixed": meeting.fixed,
        "phrase": meeting.phrase,
        "proposed_by": meeting.side,
        "due_date": due.date.isoformat() if due else None,
        "segments": sorted(
            {meeting.segment, meeting.agreed_at if meeting.agreed_at is not None else meeting.segment}
        ),
    }


def call_commitments(data: dict[str, Any]) -> tuple[list[Commitment], CallFindings, dict[str, Any]]:
    """The call's commitments with the commercial ones settled by the detector: a promise to
    send a commercial document counts only if it still stands at the end of the call, firm."""
    said, spoken_on, _ = _transcript(data)
    sides = sides_of(data)
    found = detect_call(data.get("segments") or [], sides)
    kept = [
        c
        for c in find_commitments(said, spoken_on)
        if c.intent not in COMMERCIAL_INTENTS
        or (found.proposal is not None and c.segment == found.proposal.segment)
    ]
    return kept, found, sides


def detect_intents(data: dict[str, Any]) -> dict[str, Any]:
    """Commitments with speaker side, intent, phrase and confidence (the one that chains a proposal
    marked commercial); questions; objections; and whether a next meeting was agreed and fixed."""
    said, spoken_on, _ = _transcript(data)
    kept, found, sides = call_commitments(data)
    commitments = []
    for c in kept:
        promised = found.proposal is not None and c.intent in COMMERCIAL_INTENTS and c.side == "rep"
        commitments.append(_commitment(c, found.proposal if promised else None))
    if found.proposal is not None and not any(c["commercial"] for c in commitments):
        commercial = _commercial(found, said, spoken_on)
        if commercial is not None:
            commitments.append(commercial)
            commitments.sort(key=lambda c: c["segments"][0])
    meeting = found.schedule or found.fixed_meeting
    return {
        "commitments": commitments,
        "questions": questions(said),
        "objections": objections(said),
        "next_meeting": _meeting(meeting, sides, spoken_on),
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
    _, _, reps = _transcript(data)
    sides = speakers_by_side(data.get("segments") or [], reps)
    items = []
    kept, _, _ = call_commitments(data)
    for c in kept:
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
