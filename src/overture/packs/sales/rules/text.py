"""Transcript text handling shared by the offline rules: segments, sentences, sides, clauses.

A transcript is a list of speaker-attributed segments (MeetingBaaS' shape: ``speaker``,
``start_s``, ``end_s``, ``text``). Which side a speaker is on is decided by name against the
org's reps, because recorders attribute speech to display names, never to roles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

Side = Literal["rep", "prospect"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Sentence:
    """One sentence of one segment, with who said it and where."""

    segment: int
    speaker: str
    side: Side
    text: str
    start_s: float

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")


def clean(text: str) -> str:
    """Collapse whitespace and straighten apostrophes: recorders emit line breaks, doubled spaces
    and typographic quotes mid-sentence, and the rules match the plain forms."""
    return _SPACES.sub(" ", text.replace("\u2019", "'")).strip()


def side_of(speaker: str, reps: Iterable[str]) -> Side:
    """``rep`` when the speaker's name is one of the org's reps (first name alone counts too)."""
    name = speaker.strip().lower()
    for rep in reps:
        full = rep.strip().lower()
        if name == full or (full and name == full.split()[0]):
            return "rep"
    return "prospect"


def first_name(name: str) -> str:
    return name.strip().split()[0] if name.strip() else name


def sentences(segments: Iterable[dict[str, Any]], reps: Iterable[str]) -> Iterator[Sentence]:
    """Every sentence of the transcript in order, each tagged with its speaker and side."""
    rep_list = list(reps)
    for index, segment in enumerate(segments):
        speaker = str(segment.get("speaker") or "Unknown speaker")
        side = side_of(speaker, rep_list)
        text = clean(str(segment.get("text") or ""))
        start = float(segment.get("start_s") or 0.0)
        for part in _SENTENCE_END.split(text):
            if part.strip():
                yield Sentence(index, speaker, side, part.strip(), start)


def speakers_by_side(segments: Iterable[dict[str, Any]], reps: Iterable[str]) -> dict[Side, list[str]]:
    """The distinct speakers of each side, in order of first appearance."""
    rep_list = list(reps)
    found: dict[Side, list[str]] = {"rep": [], "prospect": []}
    for segment in segments:
        speaker = str(segment.get("speaker") or "Unknown speaker")
        group = found[side_of(speaker, rep_list)]
        if speaker not in group:
            group.append(speaker)
    return found


def talk_seconds(segments: Iterable[dict[str, Any]], reps: Iterable[str]) -> dict[Side, float]:
    """Seconds of speech per side; a segment without timings counts by words (0.4 s each)."""
    rep_list = list(reps)
    total: dict[Side, float] = {"rep": 0.0, "prospect": 0.0}
    for segment in segments:
        start, end = float(segment.get("start_s") or 0.0), float(segment.get("end_s") or 0.0)
        seconds = end - start if end > start else 0.4 * len(str(segment.get("text") or "").split())
        total[side_of(str(segment.get("speaker") or ""), rep_list)] += seconds
    return total
