"""Commitments to send a commercial document, read clause by clause with the speaker's side.

A commitment counts when the rep's side undertakes, firmly and from now on, to get a document
tailored to the prospect into their hands: said outright ("I'll put a quote together for the
three depots"), said from the prospect's end ("you'll have the SOW by Friday"), or a request
or offer the other side said yes to. It does not count when negated, hedged, hanging on a
decision the prospect has not made, about something already sent or re-sent unchanged, about
material that is not a tailored commercial document, or about the prospect's own paperwork.
The end of the call decides: a later "let's hold off on the proposal" takes it back, a later
"then I'll send it Friday" makes it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from overture.packs.sales.rules.detect.lexicon import Lexicon
from overture.packs.sales.rules.detect.turns import Turn

# "it", "that", "them" standing for a document named a few turns back, in the places a document
# goes: the object of a delivery ("send it", "have that with you"), or the thing on its way.
_DEICTIC = re.compile(
    r"\b(?:send|get|have|pop|shoot|forward|email|share|drop|do|draft|prepare|write|put|bring|attach)"
    r"(?: (?:you|him|her|them|us|over|across|back))? (?:it|that|them|those|this|these|one)\b"
    r"(?! (?:is|was|are|were|means)\b)"
    r"|\b(?:a|an|the) (?:revised|updated|new|corrected|fresh|amended|final) (?:one|version|copy|draft)\b"
    r"|\b(?:it|that|them|those|this) (?:will be|is|are|should be) "
    r"(?:with you|coming|on (?:its|their) way|over|in your inbox)"
    r"|\byou will (?:have|get|receive) (?:it|that|them|those|this|these|both|all three|all of them)\b"
    r"|\b(?:have|get) (?:it|that|them|those) (?:over|across|to you|with you)\b"
)
_CREATE = re.compile(
    r"\b(?:put|pull|draw|work|firm|crunch|run|cost|build|prepare|draft|write|revise|update|rework|"
    r"redo|break|split)\b"
)
_GENERIC = re.compile(r"\b(?:our|general|standard|current|usual|public|list)\s+$")
_FUTURE_SELF = re.compile(r"\b(?:will|shall|going to|let me|let us|am \w+ing|are \w+ing)\b")
_OUTCOME = re.compile(
    r"\byou will (?:have|get|receive)\b|\bexpect\b|\bwith you\b|\byour way\b|\byour inbox\b|"
    r"\b(?:reach|land with|get to) you\b|\byou (?:have|get|receive) (?:it|them|the \w+|both)\b|"
    r"\bhave (?:[\w-]+ ){0,8}?to you by\b"
)
_MEMORY = 5
# What "it" may stand for that is no commercial document of ours to promise.
THEIRS, PAST = "their document", "a document already sent"
DECISION = "hangs on a decision the prospect has not made"
# The prospect naming their own paperwork: "our MSA", "my purchase order".
_THEIRS = re.compile(
    r"\b(?:our|my)\s+(?:\w+\s+){0,2}(?:msa|contract|agreement|terms|paper|template|order form|po)\b"
)
# A list made for them is a tailored price: "I'll build you a rate card for your depots".
_TAILORED_LIST = re.compile(
    r"\b(?:build|put together|draw up|prepare|make|create) (?:you |up )?(?:a|an|your) (?:[\w-]+ )?"
    r"(?:rate card|price list)s? for (?:your|the|all|each|both|those|these)\b"
)
# The prospect reminding the rep of a promise not yet kept: "you said last week you'd send it".
_REPORTED_PROMISE = re.compile(r"\byou (?:said|promised|mentioned|told (?:us|me)) (?:\w+ ){0,3}?you would\b")
# The prospect asking for something new that is no commercial document: "a one-page comparison
# would help". A later "I'll send that" is about it, not about the quote named before.
_ASKS_FOR_OTHER = re.compile(
    r"\b(?:a|an|some)\b.*\b(?:would (?:help|be (?:useful|helpful|great|good))|is what (?:i|we) need)\b"
    r"|\b(?:send|share|give) (?:me|us) (?:a|an|some)\b"
)
OTHER = "other material"
# "Just send it with and without the warehouse": a request for the document named before.
_SEND_IT = re.compile(r"\b(?:send|email|share|forward)(?: (?:me|us))? (?:it|that|them|those|both)\b")
_IF = re.compile(r"\b(?:if|whether|maybe)\b")
# Numbers to talk through, not to be sent: "I want to go through the numbers with you".
_DISCUSSES = re.compile(
    r"\b(?:go (?:through|over)|walk (?:\w+ )?through|discuss|talk (?:through|about))"
    r" (?:the|your|our|these|those) (?:[\w-]+ )?(?:numbers|pricing|figures|costs|quote|proposal)\b"
)
# A clause that carries on the promise of the one before it: "..., and then a fee proposal".
_CONTINUES = re.compile(r"^(?:and|and then|then|plus|also|as well as)\b")


@dataclass(frozen=True)
class DocumentCommitment:
    """A promise to send a commercial document: who, which kind, in which words, and how it was
    made (said outright, a request accepted, an offer accepted)."""

    segment: int
    speaker: str
    kind: str
    phrase: str
    how: str
    confidence: float
    #: The other turn the promise rests on: the prospect's request or acceptance.
    answered_at: int | None = None


@dataclass
class DocumentFindings:
    """What the call leaves promised at its end, and every step of the way there."""

    active: list[DocumentCommitment] = field(default_factory=list)
    trail: list[str] = field(default_factory=list)


def document_kind(clause: str, lex: Lexicon, requested: bool = False) -> str | None:
    """The kind of tailored commercial document a clause names, or None.

    Words inside a non-commercial name ("price list", "SOW template") or the prospect's own
    paperwork ("your contract") do not count; bare pricing words ("numbers", "pricing") count
    only for the prospect's own scope, when made for them, or when they asked for them."""
    blocked = [m.span() for m in lex.non_commercial.finditer(clause)]
    blocked += [m.span() for m in lex.prospect_documents.finditer(clause)]
    for kind, pattern in lex.documents:
        for match in pattern.finditer(clause):
            start, end = match.span()
            if any(s <= start < e or s < end <= e for s, e in blocked):
                continue
            if kind == "pricing" and (
                lex.non_commercial.search(clause)
                or (
                    _GENERIC.search(clause[max(0, start - 20) : start])
                    and not (requested or lex.tailored_scope.search(clause) or _CREATE.search(clause[:start]))
                )
            ):
                continue
            return kind
    if lex.commercial_verbs.search(clause):
        return "quote"
    if _TAILORED_LIST.search(clause):
        return "pricing"
    return None


def blocked_because(clause: str, lex: Lexicon) -> str | None:
    """Why a clause that names a document commits to nothing, or None when it is firm."""
    if lex.negations.search(clause):
        return "negated"
    if lex.decision_conditions.search(clause) and not lex.information_conditions.search(clause):
        return DECISION
    if lex.unchanged_markers.search(clause):
        return "re-sent unchanged"
    if lex.past_markers.search(clause) and not _FUTURE_SELF.search(clause):
        return "already sent"
    if lex.hedges.search(clause):
        return "hedged"
    return None


def _declines(text: str, lex: Lexicon) -> bool:
    return bool(lex.negations.search(text) or lex.decision_conditions.search(text) or lex.hedges.search(text))


class _Reader:
    """Reads turns in order, keeping what was asked, offered and promised so far."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.found = DocumentFindings()
        self.request: tuple[str, int] | None = None
        self.offer: tuple[str, Turn, int] | None = None
        self.last_document: tuple[str, int] | None = None

    def promise(
        self,
        turn: Turn,
        kind: str,
        how: str,
        confidence: float,
        sentence: int = -1,
        answered_at: int | None = None,
    ) -> None:
        """Record a promise in the words of the side that makes it: ``turn`` is the rep's."""
        phrase = turn.said(sentence)
        self.found.active.append(
            DocumentCommitment(turn.index, turn.speaker, kind, phrase, how, confidence, answered_at)
        )
        sealed_at = turn.index if answered_at is None else max(turn.index, answered_at)
        self.found.trail.append(f"{sealed_at}: {how} {kind}")

    def read(self, turn: Turn) -> None:
        settled = False
        framed_before = -1
        # "So you'll send the proposal — in English too?": the ask and the document may sit in
        # different clauses of one question.
        asked_in_turn = turn.side == "prospect" and bool(self.lex.request_frames.search(turn.text))
        for sentence, clause in turn.clauses():
            kind = document_kind(clause, self.lex, requested=self.request is not None)
            if kind is not None and turn.side == "prospect" and _THEIRS.search(clause):
                kind = None
                self.last_document = (THEIRS, turn.index)
            meant = kind or self._deictic(turn, clause)
            if self._withdraws(clause, meant):
                settled = True
                continue
            if turn.side == "prospect":
                asked = self.lex.request_frames.search(clause) or (turn.is_question and asked_in_turn)
                wanted = kind or (meant if _SEND_IT.search(clause) and not _IF.search(clause) else None)
                if (
                    wanted
                    and asked
                    and not self.lex.negations.search(clause)
                    and not _DISCUSSES.search(clause)
                ):
                    self.request = (wanted, turn.index)
                elif self.request is not None and self.lex.withdrawals.search(clause):
                    # "Can you send a quote? … Please don't send anything yet."
                    self.found.trail.append(f"{turn.index}: request for {self.request[0]} taken back")
                    self.request = None
            else:
                meant = meant or self._requested(clause)
                carried = framed_before == sentence and _CONTINUES.match(clause) is not None
                if meant is not None:
                    settled |= self._rep_clause(turn, sentence, clause, kind, meant, carried)
                if self.lex.commitment_frames.search(clause) and self.lex.delivery_verbs.search(clause):
                    framed_before = sentence
            if kind is not None:
                past = (
                    turn.side == "prospect"
                    and self.lex.past_markers.search(clause)
                    and not _REPORTED_PROMISE.search(clause)
                )
                self.last_document = (PAST if past else kind, turn.index)
            elif turn.side == "prospect" and _ASKS_FOR_OTHER.search(clause) and not _DEICTIC.search(clause):
                self.last_document = (OTHER, turn.index)
            elif self.lex.prospect_documents.search(clause):
                self.last_document = (THEIRS, turn.index)
        if turn.side == "prospect":
            self._answer_to_offer(turn)
        elif not settled:
            self._answer_to_request(turn)

    def _deictic(self, turn: Turn, clause: str) -> str | None:
        """The document "it" or "that" stands for: the last one named a few turns back, unless the
        clause names something else."""
        if self.last_document is None or turn.index - self.last_document[1] > _MEMORY:
            return None
        if not _DEICTIC.search(clause) or self.lex.non_commercial.search(clause):
            return None
        if re.search(r"\blet us do (?:it|that|this)\b", clause):  # agreeing to do something together
            return None
        if self.last_document[0] in (THEIRS, PAST, OTHER):
            return None
        if self.lex.meeting_verbs.search(clause):
            return None
        return None if self.lex.prospect_documents.search(clause) else self.last_document[0]

    def _requested(self, clause: str) -> str | None:
        """A promise with no object of its own answers the pending request ("can, can, I'll send
        by tomorrow")."""
        if self.request is None or self.lex.non_commercial.search(clause):
            return None
        framed = self.lex.commitment_frames.search(clause) and self.lex.delivery_verbs.search(clause)
        return self.request[0] if framed else None

    def _withdraws(self, clause: str, meant: str | None) -> bool:
        if not self.found.active or not self.lex.withdrawals.search(clause):
            return False
        if meant is None and not re.search(r"\b(?:it|that|them|everything|anything)\b", clause):
            return False
        if meant is None and (self.lex.meeting_nouns.search(clause) or self.lex.clock_times.search(clause)):
            return False
        self.found.trail.append(f"withdrawn: {clause}")
        self.found.active.clear()
        return True

    def _rep_clause(
        self, turn: Turn, sentence: int, clause: str, kind: str | None, meant: str, carried: bool = False
    ) -> bool:
        """A rep-side clause naming a document: a promise, a refusal, or an offer. True when the
        clause settles a pending request either way."""
        lex = self.lex
        framed = lex.commitment_frames.search(clause) and (
            lex.delivery_verbs.search(clause) or _OUTCOME.search(clause)
        )
        if framed or carried:
            why = blocked_because(clause, lex)
            if why is None:
                self.promise(turn, meant, "stated", 0.9, sentence)
                self.request = None
                return True
            self.found.trail.append(f"{turn.index}: {meant} not promised ({why})")
            if why in ("negated", DECISION) and self.found.active:
                self.found.trail.append(f"{turn.index}: the promise is taken back")
                self.found.active.clear()
            return True
        if lex.negations.search(clause) and self.found.active:
            self.found.trail.append(f"{turn.index}: the promise is taken back ({clause})")
            self.found.active.clear()
            return True
        if _declines(clause, lex) and self.request is not None:
            self.found.trail.append(f"{turn.index}: request for {self.request[0]} declined")
            self.request = None
            return True
        if kind is not None and lex.offer_frames.search(clause) and not blocked_because(clause, lex):
            self.offer = (kind, turn, sentence)
        return False

    def _answer_to_offer(self, turn: Turn) -> None:
        if self.offer is None or turn.is_question:
            return
        kind, offered, sentence = self.offer
        text = turn.text
        accepted = self.lex.acceptances.search(text) and not self.lex.refusals.search(text)
        if turn.index - offered.index <= 2 and accepted:
            # The rep made the promise when offering; the prospect's yes is what it rests on.
            self.promise(offered, kind, "offer accepted", 0.85, sentence, answered_at=turn.index)
        self.offer = None

    def _answer_to_request(self, turn: Turn) -> None:
        if self.request is None:
            return
        kind, at = self.request
        text, lex = turn.text, self.lex
        if turn.index - at > 2:
            self.request = None
        elif _declines(text, lex) or lex.non_commercial.search(text) or lex.unchanged_markers.search(text):
            self.found.trail.append(f"{turn.index}: request for {kind} declined or answered otherwise")
            self.request = None
        elif lex.acceptances.search(text):
            self.promise(turn, kind, "request accepted", 0.85, answered_at=at)
            self.request = None


def find_documents(turns: list[Turn], lex: Lexicon) -> DocumentFindings:
    """Read the call in order; what is still promised at the end is what counts."""
    reader = _Reader(lex)
    for turn in turns:
        reader.read(turn)
    return reader.found
