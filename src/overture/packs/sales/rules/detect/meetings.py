"""Whether the two sides agreed to meet again without fixing when, read turn by turn.

A next meeting is agreed when one side suggests one (a question, a "let's", "happy to do a
session", "can we move Thursday's demo?") and the other side says yes, or answers with the
scheduling itself ("I'll send a few times"). It is fixed when the suggestion or the answer puts
a clock time on it or names a standing slot ("same time next week", "our usual Monday call"),
or an invite with a time went out on the call; a meeting left open and fixed later in the call
is the same meeting, unless it is said to be a separate one. A fixed meeting that falls through
and that both agree to find another time for is open again. A suggestion the other side turns
down, a meeting that hangs on a decision the prospect has not made, one cancelled without
another, and a prospect who puts any meeting off end it. The end of the call decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from overture.packs.sales.rules.detect.lexicon import Lexicon
from overture.packs.sales.rules.detect.turns import Side, Turn

_SUGGEST = re.compile(
    r"\b(?:let us|shall we|should we|can we|could we|how about|why not|why do not we|we should|we need|"
    r"we would (?:want|need|like)|i would (?:like|love|want|suggest)|i want|keen to|happy to|love to|"
    r"worth|would you be open|open to|would you (?:like|want)|do you want|want to|i will|we will|"
    r"let me|can i|could i|may i|need (?:a|another|one more)|one more|another|again|next|book|reckon|"
    r"fancy|up for|i think|it would be|would be (?:useful|good|great|helpful|worth|valuable|ideal|nice)|"
    r"different|separate|set up|setting up|organi[sz]e|arrange|schedule|plan|does it make sense|"
    r"would it make sense|make sense to|get (?:your|the|them|him|her) \w+ on|would (?:it|that) help|"
    r"if we did|we could do|we can do|then we do|maybe we (?:can|could)|and perhaps (?:a|an))\b"
)
_ANSWER_WITHIN = 4
_DOCUMENTS = re.compile(r"\b(?:proposal|quote|quotation|pricing|estimate|sow|contract|order form|numbers)\b")
# A suggestion too loose to be agreed to: "pop in sometime if you're ever up this way".
_HEDGED = re.compile(r"\b(?:maybe|perhaps|possibly|we will see|let us see|sometime|whenever)\b")
_VAGUE = re.compile(
    r"\b(?:sometime|some time|at some point|some day|someday|one day|if you are ever|whenever)\b"
    r"|\b(?:maybe|perhaps)(?= *(?:[.?!]|$))"  # "let's talk again next year, maybe."
)
# A loose suggestion tied to no time at all ("we must catch up properly sometime") is a
# pleasantry even when the other side says "definitely"; "sometime next month" is not.
_ANCHORED = re.compile(
    r"\b(?:(?:next|this|coming) (?:week|month|quarter|year|spring|summer|autumn|fall|winter)|"
    r"in (?:a few|two|three|four|\d+) (?:days|weeks|months)|q[1-4]|january|february|march|april|june|july|"
    r"august|september|october|november|december|after the|once (?:the|you|we)|monday|tuesday|wednesday|"
    r"thursday|friday|tomorrow|weekend)\b"
)
_SOCIAL = re.compile(
    r"\b(?:catch[- ]?up|yarn|natter|chinwag|coffee|beer|pint|drinks?|pop (?:in|by|round)|chat)\b"
)
_WEEKDAY = re.compile(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")
_SEPARATE = re.compile(r"\b(?:separate(?:ly)?|different|another|second|also|as well)\b")
_ANOTHER = re.compile(
    r"\b(?:separate|different|another|second|new|extra|follow[- ]?up|one more) (?:\w+ )?"
    r"(?:meeting|call|session|demo|workshop|visit|review|chat|conversation)"
)
# A suggestion made after naming the meeting: "a proper business review with you. I think we should".
_SUGGEST_AFTER = re.compile(
    r"^[^.?!]{0,40}?[.,]? *\b(?:we should|let us|shall we|should we|i think we should)\b"
)
# A counter-proposal after a "no": "no, let's do a quick call after the audit".
_PROPOSES = re.compile(r"\b(?:let us|how about|what about|shall we|why not|instead)\b")


@dataclass
class Meeting:
    """One suggested meeting and where it got to."""

    segment: int
    side: Side
    phrase: str
    agreed: bool = False
    fixed: bool = False
    dropped: bool = False
    agreed_at: int | None = None
    vague: bool = False

    @property
    def open(self) -> bool:
        return self.agreed and not self.fixed and not self.dropped


@dataclass
class MeetingFindings:
    meetings: list[Meeting] = field(default_factory=list)
    trail: list[str] = field(default_factory=list)

    def agreed_open(self) -> Meeting | None:
        """The last meeting both sides agreed to without a time, if any is left at the end."""
        return next((m for m in reversed(self.meetings) if m.open), None)

    def agreed_fixed(self) -> Meeting | None:
        """The last meeting both sides agreed and fixed a time for, if any."""
        return next((m for m in reversed(self.meetings) if m.agreed and m.fixed and not m.dropped), None)


def mentions_meeting(text: str, lex: Lexicon) -> bool:
    """A meeting talked about as something to happen, with what is not a meeting taken out
    ("quicker than another call", "I'll meet with my team")."""
    text = lex.not_meetings.sub(" ", text)
    if lex.meeting_verbs.search(text):
        return True
    return any(
        _SUGGEST.search(_same_sentence(text[max(0, m.start() - 60) : m.start()]))
        or _SUGGEST_AFTER.search(text[m.end() :])
        for m in lex.meeting_nouns.finditer(text)
    )


def _same_sentence(before: str) -> str:
    """What comes before a word in its own sentence: "let's see first. You call me if…" does not
    suggest a call."""
    return re.split(r"[.?!] ", before)[-1]


def is_fixed(text: str, lex: Lexicon) -> bool:
    """A standing slot, or a clock time on a named day ("Thursday at two"); a time with no day,
    or a range ("after six", "mornings"), is a preference, not a fixed meeting."""
    if lex.standing_meetings.search(text):
        return True
    bare = lex.time_ranges.sub(" ", text)
    return bool(lex.clock_times.search(bare) and lex.specific_days.search(bare))


class _Reader:
    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.found = MeetingFindings()

    def note(self, turn: Turn, what: str) -> None:
        self.found.trail.append(f"{turn.index}: {what}")

    def pending(self, turn: Turn) -> Meeting | None:
        """The latest meeting the other side suggested a few turns back, not settled yet."""
        for meeting in reversed(self.found.meetings):
            if meeting.dropped:
                continue
            fresh = turn.index - meeting.segment <= _ANSWER_WITHIN
            return meeting if meeting.side != turn.side and not meeting.agreed and fresh else None
        return None

    def latest(self) -> Meeting | None:
        return next((m for m in reversed(self.found.meetings) if not m.dropped), None)

    def suggest(self, turn: Turn, fixed: bool, vague: bool = False) -> None:
        phrase = turn.sentence_with(self.lex.meeting_verbs)
        if phrase == turn.raw:
            phrase = turn.sentence_with(self.lex.meeting_nouns)
        self.found.meetings.append(Meeting(turn.index, turn.side, phrase, fixed=fixed, vague=vague))
        self.note(turn, f"meeting suggested{' (fixed)' if fixed else ''}{' (loosely)' if vague else ''}")

    def agree(self, turn: Turn, meeting: Meeting, fixed: bool) -> None:
        meeting.agreed = True
        meeting.agreed_at = turn.index
        meeting.fixed = meeting.fixed or fixed
        if meeting.fixed and not _SEPARATE.search(meeting.phrase.lower()):
            for earlier in self.found.meetings:
                if earlier is not meeting and earlier.open:
                    earlier.fixed = True
        self.note(turn, f"agreed{' (fixed)' if meeting.fixed else ''}")

    def _arranging(self, turn: Turn) -> bool:
        """The rep's "I'll reach out when I'm back" just after a meeting was agreed arranges it."""
        return turn.side == "rep" and any(
            m.agreed and not m.dropped and turn.index - (m.agreed_at or m.segment) <= 2
            for m in self.found.meetings
        )

    def _refers_back(self, turn: Turn, fixed: bool) -> bool:
        """The meeting already agreed, talked about again ("for that meeting, can you bring…"):
        not a new one, though a time said now fixes it."""
        agreed = next((m for m in reversed(self.found.meetings) if m.agreed and not m.dropped), None)
        text = turn.text
        if agreed is None or _ANOTHER.search(text):
            return False
        same_day = agreed.fixed and any(d in agreed.phrase.lower() for d in _WEEKDAY.findall(text))
        if not (same_day or self.lex.meeting_references.search(text)):
            return False
        agreed.fixed = agreed.fixed or fixed
        self.note(turn, f"the agreed meeting again{' (fixed)' if fixed else ''}")
        return True

    def read(self, turn: Turn) -> None:
        lex, text = self.lex, turn.text
        opening = " ".join(turn.sentences[:2])
        refuses = bool(lex.refusals.search(text))
        accepts = not refuses and bool(lex.acceptances.search(text) or lex.agreements.search(opening))
        talk = mentions_meeting(text, lex)
        planned = mentions_meeting(lex.soft_deferrals.sub(" ", text), lex)
        about_documents = _DOCUMENTS.search(text) and not lex.meeting_nouns.search(text)
        deferred = lex.deferrals.search(text) or (
            lex.soft_deferrals.search(text) and not planned and not accepts and not self._arranging(turn)
        )
        if deferred and not about_documents:
            for meeting in self.found.meetings:
                meeting.dropped = meeting.dropped or not meeting.fixed
            self.note(turn, "meetings put off")
            return
        waiting = self.pending(turn)
        if waiting is not None and lex.not_meetings.search(text) and not talk:
            waiting.dropped = True
            self.note(turn, "answered with something other than a meeting")
            return
        counter = refuses and bool(_PROPOSES.search(text))
        if waiting is not None and refuses:
            waiting.dropped = True
            self.note(turn, "suggestion turned down")
            if not (counter and talk):
                return
        if lex.falls_through.search(text):
            latest = self.latest()
            if latest is not None and latest.fixed:
                latest.dropped = True
                self.note(turn, "fixed meeting fell through")
        reschedule = bool(lex.reschedules.search(text))
        if lex.cancellations.search(text) and not reschedule:
            latest = self.latest()
            if latest is not None:
                latest.dropped = True
            self.note(turn, "meeting cancelled")
            return
        conditional = bool(lex.decision_conditions.search(text)) and not lex.information_conditions.search(
            text
        )
        fixed = is_fixed(text, lex)
        if waiting is not None and waiting.vague:
            # A loose suggestion ("sometime") needs a clear yes, not "will do, ha" or "maybe"; a
            # loose social one ("we must catch up sometime") is a pleasantry whatever the answer.
            social = _SOCIAL.search(waiting.phrase.lower()) and not _ANCHORED.search(opening)
            if not social and lex.agreements.search(opening) and not _HEDGED.search(opening):
                self.agree(turn, waiting, fixed)
                return
        elif waiting is not None and (accepts or (talk and not refuses)):
            self.agree(turn, waiting, fixed)
            return
        if reschedule:
            for meeting in self.found.meetings:
                meeting.dropped = meeting.dropped or meeting.fixed
            phrase = turn.sentence_with(lex.reschedules)
            self.found.meetings.append(Meeting(turn.index, turn.side, phrase))
            self.note(turn, "another time wanted")
            return
        if talk and self._refers_back(turn, fixed):
            return
        if talk and (counter or not refuses) and not conditional:
            self.suggest(turn, fixed, vague=bool(_VAGUE.search(text)) and not _ANCHORED.search(text))
            return
        latest = self.latest()
        if latest is not None and fixed and turn.index - max(latest.segment, latest.agreed_at or 0) <= 4:
            if accepts or latest.side != turn.side:
                self.agree(turn, latest, True)
            else:
                latest.fixed = True
                self.note(turn, "time fixed")


def find_meetings(turns: list[Turn], lex: Lexicon) -> MeetingFindings:
    reader = _Reader(lex)
    for turn in turns:
        reader.read(turn)
    return reader.found
