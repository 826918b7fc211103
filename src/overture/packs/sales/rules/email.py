"""Classifying an incoming email by rules: what, if anything, it asks of the rep.

Order matters and follows cost of error: an auto-reply or an unsubscribe must never get a
drafted reply, so they are recognised first; a meeting request beats a plain question, since
answering it with times is the reply.
"""

from __future__ import annotations

import re
from typing import Any

from overture.packs.sales.rules.signals import objections
from overture.packs.sales.rules.text import Sentence, clean

_OOO = re.compile(
    r"\b(?:out of (?:the )?office|ooo\b|on (?:annual |parental )?leave|limited access to (?:my )?email|"
    r"returning on|back in the office|automatic reply|auto-?reply|away until)\b",
    re.IGNORECASE,
)
_UNSUBSCRIBE = re.compile(
    r"\b(?:unsubscribe|remove me|take me off|stop (?:emailing|contacting|sending)|"
    r"do not contact|opt(?:-| )out)\b",
    re.IGNORECASE,
)
_MEETING = re.compile(
    r"\b(?:can we (?:meet|talk|chat|hop on|get on|find time|schedule|set up)|"
    r"(?:find|grab|book|set up|schedule) (?:some )?(?:time|a call|a meeting|\d+ minutes)|"
    r"are you (?:free|available)|what does your (?:calendar|week|schedule) look like|"
    r"send (?:me|over) (?:some )?(?:times|availability|your availability)|"
    r"when (?:are you|would you be) (?:free|available)|jump on a call)\b",
    re.IGNORECASE,
)
_ASK = re.compile(
    r"\?|\b(?:let me know|could you|can you|would you|please (?:send|share|confirm|advise)|"
    r"looking forward to (?:hearing|your reply)|thoughts\b)",
    re.IGNORECASE,
)
_THANKS_ONLY = re.compile(r"^(?:thanks|thank you|great|perfect|got it|received)[!. ,]*", re.IGNORECASE)


def _lines(body: str) -> list[str]:
    found = [clean(raw) for raw in re.split(r"(?<=[.!?])\s+|\n+", body)]
    return [
        line for line in found if len(line) > 12 and not re.match(r"^(?:hi|hello|hey|dear)\b", line, re.I)
    ]


def _summary(subject: str, body: str, signal: re.Pattern[str] | None, limit: int = 110) -> str:
    """The sentence that carries the email's point (the question, the request, the objection),
    else its first real sentence, shortened: what the brief shows next to a name."""
    lines = _lines(body)
    line = next(
        (x for x in lines if signal is not None and signal.search(x)), lines[0] if lines else clean(subject)
    )
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def classify_email(data: dict[str, Any]) -> dict[str, Any]:
    """The ``email-classifier`` rule: category, flags, a one-line summary and the reasons."""
    subject = str(data.get("subject") or "")
    body = str(data.get("body") or "")
    text = f"{subject}\n{body}"
    reasons: list[str] = []
    sentences = [
        Sentence(0, str(data.get("sender") or "sender"), "prospect", s.strip(), 0.0)
        for s in re.split(r"(?<=[.!?])\s+|\n+", body)
        if s.strip()
    ]
    found_objections = objections(sentences)
    category = "no_reply_needed"
    signal: re.Pattern[str] | None = None
    if _OOO.search(text):
        category = "out_of_office"
        reasons.append("auto-reply wording")
    elif _UNSUBSCRIBE.search(text):
        category = "unsubscribe"
        reasons.append("asks to stop receiving email")
    elif _MEETING.search(text):
        category, signal = "meeting_request", _MEETING
        reasons.append("asks for a time to meet")
    elif found_objections:
        category = "objection"
        signal = re.compile(re.escape(found_objections[0]["phrase"]))
        reasons.append(f"{found_objections[0]['category']} objection")
    elif _ASK.search(body) and not _THANKS_ONLY.fullmatch(clean(body)):
        category, signal = "reply_needed", _ASK
        reasons.append("asks a question or for something")
    else:
        reasons.append("nothing asked of the rep")
    risk = category in ("objection", "unsubscribe")
    if risk:
        reasons.append("risk to the deal")
    return {
        "category": category,
        "reply_needed": category in ("reply_needed", "objection", "meeting_request"),
        "meeting_request": category == "meeting_request",
        "risk_signal": risk,
        "confidence": 0.9 if category in ("out_of_office", "unsubscribe") else 0.75,
        "summary": _summary(subject, body, signal),
        "reasons": reasons,
    }
