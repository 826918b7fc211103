"""What a committed clause is about: the intent vocabulary of the sales copilot, by rules.

The order of the checks is the point: a clause about a meeting that mentions "the demo" is a
meeting, "the updated proposal with the pilot pricing" is a proposal, and "circle back with the
revised numbers" is pricing, not a vague follow-up. Sending intents need a delivery verb, so
"walk through the proposal" is not "send the proposal".
"""

from __future__ import annotations

import re

from overture.packs.sales.rules.text import Side

INTENTS = (
    "send_proposal",
    "send_pricing",
    "send_contract",
    "send_materials",
    "schedule_meeting",
    "intro",
    "follow_up",
    "internal_review",
    "setup_trial",
)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_CALL_CONTEXT = _rx(r"\b(?:after|on|before|during|from) (?:this|the|today's|our) (?:call|meeting)\b")
_FILL = _rx(r"\bfill (?:it|this|that|them|the \w+) (?:in|out)\b|\bcomplete the \w+")
_INTRO = _rx(r"\b(?:introduc\w*|intro\b|connect you with|put you in touch)")
_TRIAL = _rx(
    r"\b(?:set(?:ting)? up|spin(?:ning)? up|put(?:ting)? together|create|provision|stand up|configure|"
    r"open|kick off|start|get you|give you)\b[^.]{0,30}?\b(?:sandbox|trial|pilot|proof of concept|poc|"
    r"demo environment|test account|environment)\b|\bget (?:a|the|your) (?:trial|pilot|sandbox|poc) "
    r"(?:going|started|running|set up|live)\b"
)
_MEET_VERB = _rx(r"\b(?:meet again|reconvene|regroup|reconnect|catch up|get together|talk again|sync up)\b")
_MEETING = _rx(
    r"\b(?:set(?:ting)? up|schedule|book|arrange|find|send|line up|organi[sz]e|put|get|pencil in|grab|"
    r"block out|hold)\b[^.]{0,40}?\b(?:call|meeting|follow-up|time|demo|session|deep dive|invites?|"
    r"workshop|sync|catch-up|chat|walkthrough|slot|placeholder|calendar hold|kickoff)s?\b|"
    r"\bwalk (?:you|your \w+|them) through\b[^.]*?\b(?:on \w+day|next|tomorrow|monday|tuesday|wednesday|"
    r"thursday|friday|this week|later this week)\b"
)
_INTERNAL = _rx(
    r"\b(?:review|run (?:it|this|that) (?:by|past)|talk(?:ed)? to|speak (?:to|with)|check with|"
    r"discuss (?:it |this )?with|loop in|share (?:it|this|that) with (?:my|our)|"
    r"forward (?:it|this|that|your \w+|the \w+) to|get (?:it|this|that) signed|sign[- ]off|"
    r"sign(?:ing)? (?:the|it|this|our)|get (?:approval|budget)|"
    r"take (?:it|this) to|present (?:it|this) to|sync with (?:my|our))\b"
)
_FOLLOW = _rx(
    r"\b(?:get back to you|come back to you|circle back|follow up|let you know|find out|confirm|"
    r"check on|keep you posted|update you|get you an answer)\b"
)
_WITH_OBJECT = _rx(r"\bwith (?:the|some|a|an|your|our|my)?\s*(?:\w+ ){0,3}?(\w+)")
_DELIVER = _rx(
    r"\b(?:send(?:s|ing)?|sent|email(?:s|ing)?|shar(?:e|es|ing)|get(?:s|ting)?|forward(?:s|ing)?|"
    r"put together|draft(?:s|ing)?|prepar(?:e|es|ing)|write up|pull together|circulate|drop|shoot|"
    r"attach|deliver(?:s|ing)?|have)\b"
)
_OBJECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("send_proposal", _rx(r"\b(?:proposal|sow|statement of work)s?\b")),
    ("send_contract", _rx(r"\b(?:contract|msa|order form|redlines?|paperwork|agreement)s?\b")),
    (
        "send_pricing",
        _rx(r"\b(?:pricing|price sheet|prices|quote|numbers|rates|cost breakdown|discount|estimate)s?\b"),
    ),
    (
        "send_materials",
        _rx(
            r"\b(?:deck|slides|case stud(?:y|ies)|recording|docs|documentation|whitepaper|questionnaire|"
            r"data|rfp|requirements|one-pager|template|report|spec|summary|notes|agenda|references?|"
            r"overview|architecture|diagram|checklist|roi model|business case|security packet)s?\b"
        ),
    ),
)


def object_intent(text: str) -> str | None:
    """The sending intent a clause's object implies (proposal before pricing before materials)."""
    for intent, pattern in _OBJECTS:
        if pattern.search(text):
            return intent
    return None


def classify_clause(clause: str, side: Side) -> str | None:
    """The intent of one committed clause, or None when it commits to nothing we track."""
    text = _CALL_CONTEXT.sub(" ", clause)
    if _FILL.search(text):
        return "send_materials"
    if _INTRO.search(text):
        return "intro"
    if _TRIAL.search(text):
        return "setup_trial"
    if _MEET_VERB.search(text) or _MEETING.search(text):
        return "schedule_meeting"
    if _INTERNAL.search(text):
        if side == "prospect":
            return "internal_review"
        return "intro" if re.search(r"\bloop in\b", text, re.IGNORECASE) else "follow_up"
    if _FOLLOW.search(text):
        after = text[_FOLLOW.search(text).end() :]  # type: ignore[union-attr]
        found = object_intent(after) if _WITH_OBJECT.search(after) else None
        return found or "follow_up"
    if _DELIVER.search(text):
        return object_intent(text)
    return None
