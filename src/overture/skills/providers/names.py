"""Which People note is a calendar attendee's: pure matching of names to notes.

People name their notes in a few common ways: ``Esther Schmidt.md``, ``esther-schmidt.md``,
``EstherS.md`` (first name and the last name's initial), ``ESchmidt.md``, or anything at all
with ``name:`` or ``aliases:`` in the front matter. An attendee arrives as a display name, an
email address, or a first name in a meeting title. Matching goes from the surest rule to the
loosest, and a loose rule only counts when exactly one note fits it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[\s_-]*")


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def words(name: str) -> tuple[str, ...]:
    """A name as lowercase words: ``EstherS`` → (esther, s); ``esther-schmidt`` → (esther,
    schmidt); ``Schmidt, Esther`` → (esther, schmidt); an email by its local part."""
    text = _fold(name.strip())
    if "@" in text:
        text = text.split("@", 1)[0].replace(".", " ").replace("_", " ")
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    found: list[str] = []
    for chunk in re.split(r"[\s_.\-]+", text):
        found.extend(_WORD.findall(chunk) if chunk and not chunk.islower() else [chunk])
    return tuple(w.lower() for w in found if w)


@dataclass(frozen=True)
class PersonKeys:
    """What a People note answers to: its file name, and its front matter's name, aliases and
    email."""

    stem: str
    names: tuple[str, ...]
    emails: tuple[str, ...]
    title: str = ""

    @classmethod
    def of(cls, stem: str, meta: Mapping[str, Any], title: str = "") -> PersonKeys:
        names = [_DATE_PREFIX.sub("", stem)]
        for key in ("name", "full_name", "title"):
            if isinstance(meta.get(key), str):
                names.append(str(meta[key]))
        aliases = meta.get("aliases") or meta.get("alias") or []
        names.extend(str(a) for a in (aliases if isinstance(aliases, list) else [aliases]) if a)
        mails = meta.get("email") or []
        emails = tuple(str(m).lower() for m in (mails if isinstance(mails, list) else [mails]) if m)
        return cls(stem, tuple(names), emails, title.strip())

    @property
    def display(self) -> str:
        """The name to show: the front matter's full ``name``, else the note's title when it
        reads as a name, else the file name. (The title is shown, never matched on.)"""
        if len(self.names) > 1 and " " in self.names[1]:
            return self.names[1]
        if self.title and 1 < len(self.title.split()) <= 4:
            return self.title
        return self.names[0]


def exact(who: Sequence[str], key: Sequence[str]) -> bool:
    return bool(who) and tuple(who) == tuple(key)


def convention(who: Sequence[str], key: Sequence[str]) -> bool:
    """``EstherS``/``ESchmidt`` for Esther Schmidt: a full first name and the last initial, or
    the first initial and the full last name."""
    if len(who) < 2 or len(key) != 2:
        return False
    first, last = who[0], who[-1]
    return (key[0] == first and key[1] == last[0]) or (key[0] == first[0] and key[1] == last)


def first_name(who: Sequence[str], key: Sequence[str]) -> bool:
    """A lone first name ("1:1 Tomas") against a note's first word."""
    return len(who) == 1 and len(key) >= 1 and key[0] == who[0] and len(who[0]) > 1


RULES = (exact, convention, first_name)


def match_person(who: str, notes: Iterable[PersonKeys]) -> PersonKeys | None:
    """The note for ``who`` (a name or an email): the first rule with exactly one match wins;
    an email matches a note's ``email`` before any name rule."""
    notes = list(notes)
    text = who.strip()
    if "@" in text:
        by_mail = [n for n in notes if text.lower() in n.emails]
        if len(by_mail) == 1:
            return by_mail[0]
    target = words(text)
    for rule in RULES:
        hits = [n for n in notes if any(rule(target, words(name)) for name in n.names)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1 and rule is exact:
            return hits[0]
    return None
