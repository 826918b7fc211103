"""A call as the detector reads it: turns with their speaker's side, in plain normalised words.

Normalising once lets the lexicon say each thing one way: "I'll" and "I will", "won't" and
"will not", "let's" and "let us" are the same words to it, and fillers ("um", "you know") do not
split a commitment from its object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Side = Literal["rep", "prospect"]

_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    (r"[\u2019\u2018`\u00b4]", "'"),
    (r"[\u201c\u201d]", '"'),
    (r"\s*[\u2014\u2013]\s*|\s+-{1,2}\s+", " — "),
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "cannot"),
    (r"\bshan't\b", "shall not"),
    (r"\b(\w+)n't\b", r"\1 not"),
    (r"\blet's\b", "let us"),
    (r"\b(\w+)'ll\b", r"\1 will"),
    (r"\bi'm\b", "i am"),
    (r"\b(\w+)'re\b", r"\1 are"),
    (r"\b(\w+)'ve\b", r"\1 have"),
    (r"\b(i|we|you|they|he|she|it|that)'d\b", r"\1 would"),
    (r"\b(it|that|what|there|here|he|she|who|where|how)'s\b", r"\1 is"),
    (
        r"\b(\w+)'s (?=(?:coming|going|on its|ready|done|with you|in your|been|gone|out|being|already|"
        r"due|on|in|at|under)\b)",
        r"\1 is ",
    ),
    # A transcript without apostrophes ("i wont be sending it", "lets do that", "ill send it"):
    # only the forms that cannot be another word where they stand.
    (r"\bwont\b", "will not"),
    (r"\bcant\b", "cannot"),
    (r"\b(do|does|did|is|are|was|were|could|would|should|have|has|had)nt\b", r"\1 not"),
    (
        r"\blets (?=(?:do|meet|talk|speak|catch|get|set|book|find|say|not|keep|leave|wait|hold|see|have|grab|"
        r"schedule|put|pencil|jump|hop|sync|reconnect|chat|try|aim|go|plan|make|circle|loop|look)\b)",
        "let us ",
    ),
    (
        r"\bill (?=(?:send|get|do|have|put|call|email|check|be|sort|set|find|let|ask|talk|come|make|"
        r"share|text|ring|pop|shoot|follow|reach|book|bring|see|try|update|write|draft|prepare|give|keep|"
        r"loop|circle|wait|hold|run|work|pull|need|also|just|definitely|probably)\b)",
        "i will ",
    ),
    (r"\bim (?=(?:going|not|sending|afraid|sure|happy|meeting|out|away|on|in|at|the|a)\b)", "i am "),
    (r"\b(you|they|it|that)ll\b", r"\1 will"),
    (r"\b(i|you|we|they)ve\b", r"\1 have"),
    (r"\bthats\b", "that is"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"),
    (r"\b(?:um+|uh+|erm+|er|hmm+|mm+|ah+)\b[,.]?", " "),
    (r"(^|[,;\u2014])\s*you know,\s*", r"\1 "),
    (r"(^|[,;\u2014])\s*i mean,\s*", r"\1 "),
    (r"\blike,\s", " "),
    (r"\b(?:basically|actually|honestly|just|really|kind of|sort of),?\s", " "),
    (r"\.{3}|…", ", "),
    (r"\s+", " "),
    (r"\s+([,.!?])", r"\1"),
    (r",(\s*,)+", ","),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), r) for p, r in _REPLACEMENTS)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_RAW_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\u201c])")
# A short aside between two dashes ("I'll send — vou mandar — the proposal") belongs to the
# clause around it: one dash breaks a clause, a pair does not.
_ASIDE = re.compile(r"\s+—\s+([^—]{1,60}?)\s+—\s+")
_CLAUSE_BREAK = re.compile(r";\s+|\s+—\s+|,?\s+\bbut\b\s+|,\s+(?=(?:and then|so|then|though|although)\b)")


def normalise(text: str) -> str:
    """Lower case, straight quotes, contractions expanded, fillers gone, spaces collapsed."""
    out = text.lower()
    for pattern, replacement in _COMPILED:
        out = pattern.sub(replacement, out)
    return out.strip(" ,")


@dataclass(frozen=True)
class Turn:
    """One speaker's segment, normalised, split into sentences and clauses."""

    index: int
    speaker: str
    side: Side
    raw: str
    text: str
    sentences: tuple[str, ...]
    raw_sentences: tuple[str, ...]

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")

    def said(self, sentence: int) -> str:
        """The words of one sentence as they were spoken."""
        return self.raw_sentences[sentence] if 0 <= sentence < len(self.raw_sentences) else self.raw

    def sentence_with(self, pattern: re.Pattern[str]) -> str:
        """The first sentence, as spoken, whose normalised words match ``pattern``; else the turn."""
        for i, sentence in enumerate(self.sentences):
            if pattern.search(sentence):
                return self.said(i)
        return self.raw

    def clauses(self) -> list[tuple[int, str]]:
        """(sentence index, clause) pairs in order."""
        return [
            (i, part.strip(" ,."))
            for i, sentence in enumerate(self.sentences)
            for part in _CLAUSE_BREAK.split(_ASIDE.sub(r" \1 ", sentence))
            if part.strip(" ,.")
        ]


def turns(segments: Iterable[Mapping[str, Any]], sides: Mapping[str, Side]) -> list[Turn]:
    """Segments as turns; a speaker the sides map does not name is on the prospect's side."""
    found = []
    for index, segment in enumerate(segments):
        speaker = str(segment.get("speaker") or "Unknown speaker")
        raw = " ".join(str(segment.get("text") or "").split())
        pairs = [(s, normalise(s)) for s in _RAW_SENTENCE_END.split(raw) if s.strip()]
        pairs = [(s, n) for s, n in pairs if n]
        text = " ".join(n for _, n in pairs)
        found.append(
            Turn(
                index,
                speaker,
                sides.get(speaker, "prospect"),
                raw,
                text,
                tuple(n for _, n in pairs),
                tuple(s for s, _ in pairs),
            )
        )
    return found
