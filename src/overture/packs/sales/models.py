"""The typed answers of the sales skills. A model's (or the offline rules') answer must validate
against these before a step records it, so a step downstream can rely on every field."""

from __future__ import annotations

from datetime import date
from typing import Literal

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
        description="a firm commitment to send a tailored commercial document (proposal, quote, estimate, "
        "pricing for their scope, SOW, order form, draft agreement, or a revised one): chains a proposal",
    )
    document: DocumentKind | None = Field(default=None, description="which commercial document, if any")
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


class EmailDraft(Answer):
    """copywriter: an email the rep can send as is."""

    subject: str
    body: str
    cites: list[str] = Field(default_factory=list, description="meeting phrases the email relies on")


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
