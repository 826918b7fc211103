"""What was promised on a call: the detector that decides which follow-ups a meeting chains.

Two decisions, made by rules over the call read clause by clause with each speaker's side:
a commercial document the rep's side firmly committed to send (``proposal_generation``), and a
next meeting both sides agreed to without fixing a time (``calendar_find_times``). The words
are data (``lexicon.yaml``); the reading is in ``documents`` and ``meetings``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from overture.packs.sales.rules.detect.documents import DocumentCommitment, find_documents
from overture.packs.sales.rules.detect.lexicon import lexicon
from overture.packs.sales.rules.detect.meetings import Meeting, find_meetings
from overture.packs.sales.rules.detect.turns import Side, turns


@dataclass(frozen=True)
class CallFindings:
    """The follow-ups a call earns, each with the words it rests on, and how the reading went."""

    proposal: DocumentCommitment | None
    promises: tuple[DocumentCommitment, ...]
    schedule: Meeting | None
    fixed_meeting: Meeting | None
    trail: tuple[str, ...]


def detect_call(segments: Iterable[Mapping[str, Any]], sides: Mapping[str, Side]) -> CallFindings:
    """Read a call: ``segments`` carry ``speaker`` and ``text``; ``sides`` maps speakers to
    ``rep`` (the rep and colleagues) or ``prospect`` (anyone unnamed is the prospect's)."""
    lex = lexicon()
    read = turns(segments, sides)
    documents = find_documents(read, lex)
    meetings = find_meetings(read, lex)
    proposal = documents.active[0] if documents.active else None
    trail = (*documents.trail, *meetings.trail)
    return CallFindings(
        proposal, tuple(documents.active), meetings.agreed_open(), meetings.agreed_fixed(), trail
    )


__all__ = ["CallFindings", "DocumentCommitment", "Meeting", "detect_call"]
