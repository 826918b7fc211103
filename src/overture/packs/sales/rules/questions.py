"""Which of the prospect's questions were answered on the call and which are still open.

A question counts as answered when the rep's side speaks to it next without putting it off; as
open when they put it off ("let me check with product"), turned to something else, or another
question came in first. A follow-up may then say only what is true: recap an answer given, or
promise one that was not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from overture.packs.sales.rules.detect.turns import Turn

_DEFERS = re.compile(
    r"\b(?:let me (?:check|confirm|find out|get back|come back|ask|take (?:that|it|this) back)|"
    r"i will (?:need to )?(?:check|confirm|find out|get back to you|come back to you|ask|"
    r"take (?:that|it|this) back)|i need to (?:check|confirm)|(?:need|have) to check|not sure|do not know|"
    r"(?:would|will) rather not guess|get back to you|come back to you|i will find out|see what we can do|"
    r"do not want to (?:promise|guess|say)|"
    r"take (?:that|it|this) (?:back|away)|let us (?:keep|park|focus|leave)|before we go (?:down|into)|"
    r"let me get you (?:the|an|a) (?:exact|precise|official|written|right))\b"
)
_SMALL_TALK = re.compile(
    r"\b(?:how are (?:you|things)|how is (?:the|your) (?:week|day)|how was|you there|can you hear|"
    r"where were we|sorry[,]? (?:what|say that))\b"
)
_INDIRECT = re.compile(
    r"\b(?:i (?:would|need to|want to|would like to) (?:want to )?know|i am wondering|i was wondering|"
    r"(?:my|the|our) (?:first |main |big |other )?question is|tell me (?:whether|if|how)|"
    r"(?:will|would) (?:ask|want to know) (?:whether|if|about)|one thing i need to know)\b"
)
_CLARIFY = re.compile(r"^(?:before i answer|quick question|just to check|can i ask|so (?:how|what|which))\b")


@dataclass(frozen=True)
class Question:
    """A question the prospect's side asked, and what became of it."""

    asked: int
    speaker: str
    text: str
    answered: int | None = None
    deferred: int | None = None

    @property
    def open(self) -> bool:
        return self.answered is None


def _question_sentences(turn: Turn) -> list[str]:
    asked = []
    for i, sentence in enumerate(turn.sentences):
        asks = sentence.rstrip().endswith("?") or _INDIRECT.search(sentence)
        if asks and not _SMALL_TALK.search(sentence):
            asked.append(turn.said(i))
    return asked


def _answer(turns: list[Turn], i: int) -> tuple[str, int | None]:
    """How the rep's side met the question asked at ``turns[i]``: answered, deferred, or left."""
    j = i + 1
    while j < len(turns) and turns[j].side == "prospect" and turns[j].speaker == turns[i].speaker:
        j += 1
    if j >= len(turns) or turns[j].side != "rep":
        return "left", None
    reply = turns[j]
    if _DEFERS.search(reply.text):
        handed = turns[j + 1] if j + 1 < len(turns) else None
        if (
            handed is not None
            and handed.side == "rep"
            and not _DEFERS.search(handed.text)
            and not handed.is_question
        ):
            return "answered", handed.index
        return "deferred", reply.index
    if reply.is_question:
        if not _CLARIFY.search(reply.text):
            return "left", None
        later = next((t for t in turns[j + 2 : j + 4] if t.side == "rep"), None)
        if later is not None and not later.is_question and not _DEFERS.search(later.text):
            return "answered", later.index
        return "left", None
    return "answered", reply.index


def questions(turns: list[Turn]) -> list[Question]:
    """Each prospect question, answered when the rep's side speaks to it next without putting it
    off; open when they put it off, turned to something else, or another question came first."""
    found = []
    for i, turn in enumerate(turns):
        if turn.side != "prospect":
            continue
        asked = _question_sentences(turn)
        if not asked:
            continue
        how, at = _answer(turns, i)
        if how == "answered":
            found.append(Question(turn.index, turn.speaker, asked[-1], answered=at))
        elif how == "deferred":
            found.append(Question(turn.index, turn.speaker, asked[-1], deferred=at))
        else:
            found.append(Question(turn.index, turn.speaker, asked[-1]))
    return found
