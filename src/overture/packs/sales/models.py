"""The typed answers of the sales skills. A model's (or the offline rules') answer must validate
against these before a step records it, so a step downstream can rely on every field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Side = Literal["rep", "prospect"]
Intent = Literal[
    "send_proposal",
    "send_pricing",
    "send_contract",
    "send_materials",
    "schedule_meeting",
    "intro",
    "follow_up",
    "internal_review",
    "setup_trial",
]
DocumentKind = Literal["proposal", "quote", "estimate", "pricing", "sow", "order_form", "agreement"]
Firmness = Literal["firm", "conditional", "hedged", "withdrawn", "past"]
ObjectionKind = Literal["price", "timing", "competition", "security", "implementation", "authority", "other"]
EmailCategory = Literal[
    "reply_needed", "meeting_request", "objection", "out_of_office", "unsubscribe", "no_reply_needed"
]


class Answer(BaseModel):
    """Strict about unknown fields, so a model that invents structure is told so and retried."""

    model_config = ConfigDict(extra="forbid")


class CommitmentItem(Answer):
    speaker: str
    side: Side
    intent: Intent
    phrase: str = Field(description="the sentence in which the commitment was made")
    confidence: float = Field(ge=0, le=1)
    due_date: date | None = None
    due_phrase: str | None = None
    commercial: bool = Field(
        default=False,
        description="the rep's side commits to send a commercial document tailored to the prospect "
        "(proposal, quote, estimate, pricing for their scope, SOW, order form, draft agreement, or a "
        "revised one): chains a proposal when firm",
    )
    document: DocumentKind | None = Field(default=None, description="which commercial document, if any")
    firmness: Firmness = Field(
        default="firm",
        description="how it stands at the end of the call: firm (a forward-looking promise that still "
        "stands), conditional (waits on a decision the prospect has not made, or hypothetical), hedged "
        "(maybe, try to), withdrawn (declined, negated, deferred or taken back), past (already done, or "
        "re-sent unchanged); a commercial commitment chains a proposal only when firm",
    )
    segments: list[int] = Field(default_factory=list, description="the transcript segments it rests on")


class QuestionItem(Answer):
    speaker: str
    side: Side
    text: str


class ObjectionItem(Answer):
    speaker: str
    category: ObjectionKind
    phrase: str


class NextMeeting(Answer):
    agreed: bool = Field(description="both sides agreed to meet again")
    fixed: bool = Field(
        default=False, description="a day and clock time, or a standing slot, was settled on the call"
    )
    phrase: str | None = None
    proposed_by: Side | None = None
    due_date: date | None = None
    segments: list[int] = Field(default_factory=list, description="the transcript segments it rests on")


class Intents(Answer):
    """detect-intents: commitments and signals in one meeting."""

    commitments: list[CommitmentItem]
    questions: list[QuestionItem]
    objections: list[ObjectionItem]
    next_meeting: NextMeeting

    def disagreements(self, given: Mapping[str, Any]) -> list[str]:
        """What this answer gets wrong about the call it was asked about (``given``: the
        request's input: its ``segments`` with integer ids, ``sides`` (speaker -> side) when
        known, and the org's ``reps``). Each commitment cites at least one segment; every cited
        segment exists; a commitment's side is its speaker's (as ``sides`` gives it, else the rep
        side for a name in ``reps``; a name neither knows must have said a cited segment from that
        side); an agreed next meeting cites segments. In plain words and by position only, since
        it is both the model's correction and the step's error."""
        spoken = {s["id"]: s for s in given.get("segments") or [] if isinstance(s.get("id"), int)}
        sides = {str(k): str(v) for k, v in (given.get("sides") or {}).items()}
        reps = {str(r) for r in given.get("reps") or []}
        known = f"the transcript has segments {min(spoken)} to {max(spoken)}" if spoken else "no segments"
        problems: list[str] = []

        def missing(where: str, cited: list[int]) -> None:
            unknown = [i for i in dict.fromkeys(cited) if i not in spoken]
            if unknown:
                listed = ", ".join(str(i) for i in unknown)
                which = f"segments {listed}, which are" if len(unknown) > 1 else f"segment {listed}, which is"
                problems.append(f"{where} cites {which} not in the call ({known})")

        for n, item in enumerate(self.commitments):
            where = f"commitments[{n}]"
            if not item.segments:
                problems.append(f"{where} cites no segment: give the ids of the segments it rests on")
            missing(where, item.segments)
            stated = sides.get(item.speaker) or ("rep" if item.speaker in reps else None)
            heard = {sides.get(str(spoken[i].get("speaker"))) for i in item.segments if i in spoken} - {None}
            if stated is not None and stated != item.side:
                problems.append(f"{where} has side {item.side!r}, but its speaker is on the {stated} side")
            elif stated is None and heard and item.side not in heard:
                problems.append(
                    f"{where} has side {item.side!r}, but no segment it cites was said from that side"
                )
        meeting = self.next_meeting
        if meeting.agreed and not meeting.segments:
            problems.append(
                "next_meeting is agreed but cites no segment: give the ids where both sides agreed"
            )
        missing("next_meeting", meeting.segments)
        return problems


class ActionItem(Answer):
    owner: str
    owner_side: Side
    action: str
    intent: Intent
    due_date: date | None = None
    due_phrase: str | None = None
    confidence: float = Field(ge=0, le=1)


class ActionItems(Answer):
    """extract-action-items: who does what by when, dates resolved against the meeting date."""

    items: list[ActionItem]


class NextStep(Answer):
    id: str = Field(description="stable within the answer, e.g. a1, a2")
    title: str
    kind: Literal["email", "task", "meeting", "crm", "call"]
    owner: str
    due_date: date | None = None
    reason: str
    priority: Literal["high", "medium", "low"]


class NextActions(Answer):
    """suggest-next-actions: what the rep should do next, and why."""

    actions: list[NextStep]


_RECORD = re.compile(r"^(?:(?:contact|meeting|user|company|deal):\S+|calendar)$")


class DraftSentence(Answer):
    """One sentence of a draft and what it rests on: transcript segment ids, CRM records."""

    text: str
    segments: list[int] = Field(
        default_factory=list, description="ids of the transcript segments it rests on"
    )
    records: list[str] = Field(
        default_factory=list, description="CRM records it rests on, as kind:id (contact:…, meeting:…, user:…)"
    )


class EmailDraft(Answer):
    """copywriter: an email the rep can send as is."""

    subject: str
    body: str
    cites: list[str] = Field(default_factory=list, description="meeting phrases the email relies on")
    sentences: list[DraftSentence] = Field(
        default_factory=list,
        description="every sentence of the body with the segments or records it rests on",
    )

    def ungrounded(self, given: Mapping[str, Any]) -> list[str]:
        """What a draft written from a call gets wrong about its sources (``given``: the request's
        input, its ``segments`` with integer ids): every sentence cites a segment of the call or a
        record (``contact:``, ``meeting:``, ``user:``, ``company:``, ``deal:``, ``calendar``), and
        every cited segment exists. By position only: it is also the step's error."""
        spoken = {s["id"] for s in given.get("segments") or [] if isinstance(s.get("id"), int)}
        if not spoken:
            return []
        if not self.sentences:
            return ["sentences is empty: list every sentence of the body with what it rests on"]
        problems = []
        for i, sentence in enumerate(self.sentences):
            if not sentence.segments and not sentence.records:
                problems.append(
                    f"sentences[{i}] cites nothing: each sentence must rest on a segment or a record"
                )
            unknown = [s for s in sentence.segments if s not in spoken]
            if unknown:
                problems.append(
                    f"sentences[{i}] cites segment(s) {', '.join(map(str, unknown))}, which the call does "
                    f"not have (it has {min(spoken)} to {max(spoken)})"
                )
            odd = [r for r in sentence.records if not _RECORD.match(r)]
            if odd:
                problems.append(f"sentences[{i}] cites records that are not kind:id: {', '.join(odd[:3])}")
        return problems


class Proposal(Answer):
    """generate-proposal: a proposal document and the email that carries it."""

    title: str
    body: str
    email_subject: str
    email_body: str


class MeetingPrep(Answer):
    """meeting-prep: the brief a rep reads 90 minutes before a meeting."""

    headline: str
    talking_points: list[str]
    questions_to_ask: list[str]
    risks: list[str]


class EmailClassification(Answer):
    """email-classifier: what an incoming email asks of the rep."""

    category: EmailCategory
    reply_needed: bool
    meeting_request: bool
    risk_signal: bool
    confidence: float = Field(ge=0, le=1)
    summary: str
    reasons: list[str]


class CoachingFeedback(Answer):
    """coaching-analysis: strengths and suggestions from a week's call metrics."""

    strengths: list[str]
    suggestions: list[str]


class DealAction(Answer):
    deal_id: str
    action: str
    reason: str


class DealActions(Answer):
    """suggest-next-actions in pipeline mode: one action per deal that needs one."""

    actions: list[DealAction]
