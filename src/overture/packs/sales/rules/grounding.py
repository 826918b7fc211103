"""What a proposal must include and how to say the prospect's words back to them: the specifics
the rep's side promised ("with separate pricing for Chicago and Dallas"), what the prospect asked
to include and the rep accepted, and their own words in the second person ("our operations
director" becomes "your operations director")."""

from __future__ import annotations

import re

from overture.packs.sales.rules.detect.turns import Turn

_INCLUDE_ASK = re.compile(
    r"\b(?:(?:can|could|will) (?:it|you|that|the \w+) (?:include|cover|break out|split out|show|add)|"
    r"please (?:include|add|break out|split out|cover)|(?:include|add) (?:the )?)\s*(.+?)[?.!]?$",
    re.IGNORECASE,
)
_AFTER_DOCUMENT = re.compile(
    r"\b(?:proposal|quote|quotation|estimate|costing|pricing|sow|statement of work|order form|agreement|"
    r"contract|numbers|figures|offer)\b(.*)$",
    re.IGNORECASE,
)
_DUE = re.compile(
    r",?\s*\b(?:by|on|before|early|end of|first thing)\b[^,]*?\b(?:monday|tuesday|wednesday|thursday|friday|"
    r"tomorrow|today|week|month|morning|afternoon|eod)\b|,?\s*\b(?:tomorrow|today|this week|next week)\b",
    re.IGNORECASE,
)
_MORE = re.compile(
    r",?\s*\band (?:i|we)(?: will|'ll) (?:include|add|put in|throw in|attach)\s+|;\s+|"
    r",\s+and\s+(?=a |an |the )",
    re.IGNORECASE,
)
_WHY = re.compile(r"\s+(?:since|because|as|so that|so)\s+(?:you|your|we|i)\b.*$", re.IGNORECASE)


def _clean(phrase: str) -> str:
    text = _DUE.sub("", phrase).strip(" ,.;:-\u2014")
    text = _WHY.sub("", text)
    text = re.sub(
        r"^(?:with|for|covering|including|and|that includes|which includes)\s+", "", text, flags=re.I
    )
    return text.strip(" ,.;:-\u2014")


def deliverables(turns: list[Turn], promise_segments: list[int]) -> list[tuple[str, int]]:
    """What the rep's side committed to put in the proposal: the specifics of each promise
    ("with separate pricing for Chicago and Dallas, and I'll include a three-year option"), and
    what the prospect asked to include that the rep's side then accepted."""
    if not promise_segments:
        return []
    found: list[tuple[str, int]] = []
    for turn in turns:
        if turn.index not in promise_segments:
            continue
        for raw in turn.raw_sentences:
            match = _AFTER_DOCUMENT.search(raw)
            if match is None:
                continue
            for part in _MORE.split(match.group(1)):
                item = _clean(part)
                if len(item.split()) >= 2 and (item, turn.index) not in found:
                    found.append((item, turn.index))
            break
    first = min(promise_segments)
    for i, turn in enumerate(turns):
        if turn.side != "prospect" or turn.index < first - 3:
            continue
        ask = next((m for s in turn.raw_sentences if (m := _INCLUDE_ASK.search(s))), None)
        reply = next((t for t in turns[i + 1 : i + 3] if t.side == "rep"), None)
        if ask is None or reply is None or re.search(r"\b(?:no|not|cannot|will not)\b", reply.text[:40]):
            continue
        wanted = you_form(_clean(ask.group(1)))
        if len(wanted.split()) >= 2:
            found.append((wanted, turn.index))
    return found


# -- saying their words back to them ------------------------------------------------------------

_SWAP = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "we": "you",
    "us": "you",
    "our": "your",
    "ours": "yours",
    "ourselves": "yourselves",
    "your": "our",
    "yours": "ours",
}
_SUBJECT_BEFORE = {
    "",
    "can",
    "could",
    "will",
    "would",
    "do",
    "did",
    "should",
    "if",
    "when",
    "that",
    "so",
    "and",
    "but",
    "then",
    "as",
    "once",
    "because",
    "whether",
    "have",
    "are",
    "were",
}
_CONTRACTIONS = {"ll": "will", "re": "are", "ve": "have", "d": "would", "m": "am"}


def you_form(text: str) -> str:
    """The prospect's own words, as said back to them by the rep: "I'll send our data" becomes
    "you will send your data", "can you share it with our CFO" becomes "can we share it with your
    CFO", "send you the export" becomes "send us the export"."""
    text = re.sub(
        r"\b(I|we|you)'(ll|re|ve|d|m)\b",
        lambda m: f"{m.group(1)} {_CONTRACTIONS[m.group(2).lower()]}",
        text,
        flags=re.IGNORECASE,
    )
    parts = re.split(r"(\W+)", text)
    out: list[str] = []
    previous = ""
    for part in parts:
        low = part.lower()
        if not part or not part[0].isalnum():
            out.append(part)
            if re.search(r"[.!?;]", part):
                previous = ""
            continue
        if low == "you":
            new = "we" if previous in _SUBJECT_BEFORE else "us"
        elif low in ("am", "was") and previous == "i":
            new = "are" if low == "am" else "were"
        else:
            new = _SWAP.get(low, part)
        if new is not part and part[:1].isupper() and low != "i":
            new = new.capitalize()
        out.append(new)
        previous = low
    return "".join(out)
