"""The follow-up email after a call, every sentence resting on the call or the CRM.

Each sentence is built from something that was said (the segment it rests on) or a record (the
contact, the meeting, the rep), and carries those sources so the approval card can show where
it came from. The rep's own promises are given in their own words; the prospect's are said back
to them in the second person ("you'll send us your lane data"); a question counts as open only
if nobody on the rep's side answered it on the call; every person on the prospect's side is
greeted by name; and the next meeting is offered on the terms the prospect stated.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from overture.packs.sales.rules.availability import Availability, availability
from overture.packs.sales.rules.detect.turns import turns
from overture.packs.sales.rules.grounding import you_form
from overture.packs.sales.rules.questions import questions
from overture.packs.sales.rules.text import first_name

_LEAD_IN = re.compile(
    r"^(?:(?:so|okay|ok|right|great|perfect|understood|sure|yes|yeah|absolutely|and|then|well|got it|"
    r"of course|no problem|will do|that makes sense|makes sense)[,.!]?\s+)+",
    re.I,
)
_FIRST_PERSON = re.compile(r"^(?:I'll|I will|I'm going to|I am going to)\s+", re.I)


class Draft:
    """Sentences with their sources, rendered as an email body."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.grounding: list[dict[str, Any]] = []

    def say(self, text: str, segments: list[int] | None = None, records: list[str] | None = None) -> None:
        self.lines.append(text)
        if text.strip():
            self.grounding.append(
                {
                    "text": text.lstrip("- ").strip(),
                    "segments": sorted(set(segments or [])),
                    "records": records or [],
                }
            )

    def blank(self) -> None:
        self.lines.append("")

    @property
    def body(self) -> str:
        return "\n".join(self.lines)


def _tidy(sentence: str) -> str:
    text = _LEAD_IN.sub("", sentence.strip()).strip()
    text = re.sub(r"^let me\b", "I will", text, flags=re.I).lstrip("-\u2013\u2014 ")
    text = re.sub(r"\s*\b(?:um+|uh+|erm)\b,?", "", text)
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _answer_text(sentences: tuple[str, ...]) -> str:
    """The part of a reply that answers: acknowledgements ("Completely fair.") skipped."""
    for sentence in sentences:
        if len(sentence.split()) >= 5:
            return _tidy(sentence)
    return _tidy(" ".join(sentences[:2])) if sentences else ""


def _in_rep_voice(sentence: str, speaker: str, rep_name: str) -> str:
    """A promise as the rep writes it: theirs as said, a colleague's in the third person."""
    text = _tidy(sentence)
    if not speaker or first_name(speaker) == first_name(rep_name):
        return text
    name = first_name(speaker)
    if _FIRST_PERSON.match(text):
        return _FIRST_PERSON.sub(f"{name} will ", text)
    return f'As {name} said: "{text}"'


def _greeting(people: list[dict[str, Any]], contact: dict[str, Any] | None) -> tuple[str, list[str]]:
    names = [first_name(str(p["name"])) for p in people if p.get("name") and "@" not in str(p["name"])]
    records = [f"contact:{p['contact_id']}" for p in people if p.get("contact_id")]
    if not names and contact and contact.get("name"):
        names, records = [first_name(str(contact["name"]))], [f"contact:{contact.get('id')}"]
    if not names:
        return "Hi,", records
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Hi {joined},", records


def follow_up(data: dict[str, Any]) -> dict[str, Any]:
    """The ``copywriter`` follow-up: greeting, what was agreed, what is still open, the next
    meeting, and the sign-off, each sentence with the segments and records it rests on."""
    meeting, rep = data.get("meeting") or {}, data.get("rep") or {}
    rep_name = str(rep.get("name") or "")
    said = turns(data.get("segments") or [], data.get("sides") or {})
    by_index = {t.index: t for t in said}
    draft = Draft()
    greeting, records = _greeting(list(data.get("prospects") or []), data.get("contact"))
    draft.say(greeting, records=records)
    draft.blank()
    day = str(meeting.get("date") or "")
    when = f"{date.fromisoformat(day[:10]):%A}'s" if day else "our"
    topic = meeting.get("title") or "our call"
    meeting_ref = [f"meeting:{meeting.get('id')}"] if meeting.get("id") else []
    draft.say(f"Thank you for your time on {when} call ({topic}).", records=meeting_ref)
    ours = [
        c
        for c in data.get("commitments") or []
        if c.get("side") == "rep" and c.get("intent") != "schedule_meeting"
    ]
    theirs = [
        c
        for c in data.get("commitments") or []
        if c.get("side") == "prospect"
        and c.get("intent") != "schedule_meeting"
        and not re.match(r"^\W*(?:let's|let us|shall we|should we)\b", str(c.get("phrase") or ""), re.I)
    ]
    agreed: list[tuple[str, list[int]]] = []
    seen: set[int] = set()
    for c in ours:
        segments = [int(s) for s in c.get("segments") or []]
        if not segments or segments[0] in seen:
            continue
        seen.add(segments[0])
        agreed.append(
            (f"- {_in_rep_voice(str(c['phrase']), str(c.get('speaker') or ''), rep_name)}", segments)
        )
    for c in theirs:
        segments = [int(s) for s in c.get("segments") or []]
        if not segments or segments[0] in seen:
            continue
        seen.add(segments[0])
        agreed.append(
            (
                f"- You mentioned {_lower_first(you_form(_tidy(str(c['phrase']))))}",
                segments,
            )
        )
    if agreed:
        draft.blank()
        draft.say("Here is what we agreed:", segments=[s for _, segs in agreed for s in segs])
        for text, segments in agreed:
            draft.say(text, segments=segments)
    asked = questions(said)
    answered = [q for q in asked if not q.open][:2]
    still_open = [q for q in asked if q.open][:3]
    if answered or still_open:
        draft.blank()
    for q in answered:
        reply = by_index.get(q.answered or -1)
        if reply is None:
            continue
        answer = _answer_text(reply.raw_sentences)
        who = (
            ""
            if first_name(reply.speaker) == first_name(rep_name)
            else f" (as {first_name(reply.speaker)} said)"
        )
        draft.say(f'- On "{q.text}"{who}: {answer}', segments=[q.asked, reply.index])
    for q in still_open:
        if q.deferred is not None:
            draft.say(
                f'- You asked: "{q.text}" We are checking, as we said on the call, '
                "and will come back to you.",
                segments=[q.asked, q.deferred],
            )
        else:
            draft.say(f'- You asked: "{q.text}" I will come back to you on that.', segments=[q.asked])
    nxt = data.get("next_meeting") or {}
    if nxt.get("agreed"):
        draft.blank()
        segments = [int(s) for s in nxt.get("segments") or []]
        if nxt.get("fixed"):
            draft.say(
                "I look forward to our next meeting, at the time we set on the call.", segments=segments
            )
        else:
            found = availability(said, date.fromisoformat(day[:10])) if day else Availability()
            terms = found.describe()
            text = "As agreed, I will send you a few times for our next conversation"
            draft.say(f"{text}, {terms}." if terms else f"{text}.", segments=segments + found.segments)
    draft.blank()
    draft.say("Best,", records=[f"user:{rep.get('id')}"])
    draft.say(first_name(rep_name), records=[f"user:{rep.get('id')}"])
    company = (data.get("company") or {}).get("name")
    subject = f"Next steps after our call{f' - {company}' if company else ''}"
    cites = [str(c["phrase"]) for c in ours][:5]
    return {"subject": subject, "body": draft.body, "cites": cites, "sentences": draft.grounding}


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def sources(
    sentences: list[dict[str, Any]], segments: list[dict[str, Any]], records: dict[str, str]
) -> list[dict[str, Any]]:
    """Each sentence with its sources spelled for a person: "Lena Fischer at 02:14" for a segment
    of the transcript, "Contact: Lena Fischer" for a CRM record."""
    out = []
    for sentence in sentences:
        labels = []
        for index in sentence.get("segments") or []:
            if 0 <= int(index) < len(segments):
                segment = segments[int(index)]
                when = _clock(float(segment.get("start_s") or segment.get("start") or 0.0))
                labels.append(
                    {
                        "kind": "segment",
                        "ref": f"segment:{index}",
                        "label": f"{segment.get('speaker')} at {when}",
                    }
                )
        for record in sentence.get("records") or []:
            labels.append({"kind": "record", "ref": record, "label": records.get(record, record)})
        out.append({"text": sentence["text"], "sources": labels})
    return out
