"""The detector's lexicon (``lexicon.yaml``), compiled once: each list of words becomes one
pattern matched on word boundaries over normalised text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


def _alternation(fragments: list[str]) -> re.Pattern[str]:
    """One pattern for a list of fragments, longest first so that "price list" wins over "price"."""
    ordered = sorted((str(f) for f in fragments), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{f})" for f in ordered) + r")(?!\w)")


def _start(fragments: list[str]) -> re.Pattern[str]:
    """The same, anchored at the start of a turn (after any leading punctuation)."""
    ordered = sorted((str(f) for f in fragments), key=len, reverse=True)
    return re.compile(r"^[\s,.…-]*(?:" + "|".join(f"(?:{f})" for f in ordered) + r")(?!\w)")


@dataclass(frozen=True)
class Lexicon:
    """Compiled word lists; attribute names follow ``lexicon.yaml``'s keys."""

    documents: tuple[tuple[str, re.Pattern[str]], ...]
    pricing: re.Pattern[str]
    commercial_verbs: re.Pattern[str]
    tailored_scope: re.Pattern[str]
    non_commercial: re.Pattern[str]
    prospect_documents: re.Pattern[str]
    delivery_verbs: re.Pattern[str]
    commitment_frames: re.Pattern[str]
    offer_frames: re.Pattern[str]
    request_frames: re.Pattern[str]
    negations: re.Pattern[str]
    hedges: re.Pattern[str]
    decision_conditions: re.Pattern[str]
    information_conditions: re.Pattern[str]
    past_markers: re.Pattern[str]
    unchanged_markers: re.Pattern[str]
    withdrawals: re.Pattern[str]
    meeting_nouns: re.Pattern[str]
    meeting_verbs: re.Pattern[str]
    clock_times: re.Pattern[str]
    standing_meetings: re.Pattern[str]
    specific_days: re.Pattern[str]
    time_ranges: re.Pattern[str]
    invites: re.Pattern[str]
    meeting_references: re.Pattern[str]
    not_meetings: re.Pattern[str]
    acceptances: re.Pattern[str]
    agreements: re.Pattern[str]
    refusals: re.Pattern[str]
    cancellations: re.Pattern[str]
    deferrals: re.Pattern[str]
    soft_deferrals: re.Pattern[str]
    reschedules: re.Pattern[str]
    falls_through: re.Pattern[str]


_STARTS = {"acceptances", "refusals"}


def build(data: dict[str, Any]) -> Lexicon:
    """Compile a lexicon from its YAML data (a dict of lists, documents a dict of lists)."""
    docs = tuple((kind, _alternation(words)) for kind, words in data["commercial_documents"].items())
    fields: dict[str, Any] = {
        "documents": docs,
        "pricing": _alternation(data["commercial_documents"]["pricing"]),
    }
    for name in Lexicon.__dataclass_fields__:
        if name in fields:
            continue
        words = data[name]
        fields[name] = _start(words) if name in _STARTS else _alternation(words)
    return Lexicon(**fields)


@cache
def lexicon() -> Lexicon:
    """The shipped lexicon."""
    text = resources.files(__package__).joinpath("lexicon.yaml").read_text("utf-8")
    return build(yaml.safe_load(text))
