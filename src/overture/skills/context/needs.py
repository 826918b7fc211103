"""Needs from prose: each Context bullet becomes zero or more typed needs.

The built-in recogniser is the seed's pattern table. It is deliberately a table of regular
expressions, not a model call: the common needs are few and stable, a table is testable and
free, and a bullet nothing recognises is reported (or, with a model configured, classified by
it) rather than guessed at. Packs add their own need types to a :class:`NeedRegistry`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from overture.skills.skillfile import Bullet

CALENDAR = "calendar"
VAULT_FILE = "vault_file"
PEOPLE = "people"
PROJECTS = "projects"
DIRECTIVES = "directives"
PERIODIC = "periodic"
VAULT_CONFIG = "vault_config"

_I = re.IGNORECASE
_MD_FILE = (
    r"`(?P<q1>[^`]+?\.md)`|\"(?P<q2>[^\"]+?\.md)\""
    r"|(?<![\w/.-])(?P<file>(?:[\w.-]+/)*[A-Za-z0-9_][\w.-]*\.md)\b"
)
_PLACEHOLDER = re.compile(r"YYYY|\bMM\b|\bDD\b|Www|\{", re.IGNORECASE)
_OPTIONAL = re.compile(
    r"\bif (?:it |they |one |any )?(?:exists?|any|present|available|archived|re-?reviewing|there is one)\b"
    r"|\boptional(?:ly)?\b|\bwhen (?:available|present)\b",
    _I,
)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "several": 3, "few": 3}


@dataclass(frozen=True, slots=True)
class Need:
    """One thing a skill asked for: its type, the author's words, and any details (a file)."""

    kind: str
    label: str
    text: str
    line: int
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str:
        """Unique within a run: the kind plus its details (``vault_file:Week.md``)."""
        return ":".join([self.kind, *(str(v) for _, v in sorted(self.params.items()))])


@dataclass(frozen=True)
class NeedType:
    """A kind of need: how to spot it in prose, how to label it, and optionally who fulfils it.

    ``patterns`` are searched case-insensitively; named groups become the need's parameters and
    every match of a pattern with groups is a separate need ("Today.md and Week.md" is two).
    ``provider`` is for pack-defined types; the built-in types are fulfilled by the run's
    environment (the vault and calendar it was given).
    """

    kind: str
    label: str
    patterns: tuple[str, ...]
    provider: Callable[..., Any] | None = None
    details: Callable[[str], Mapping[str, str]] | None = None
    """More parameters read from the whole bullet (which periodic notes, whose people)."""
    absorbs: tuple[str, ...] = ()
    """Kinds this one replaces in the same bullet ("Vault configuration (CLAUDE.md)" is one
    need, not a configuration and a note)."""
    compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", tuple(re.compile(p, _I) for p in self.patterns))

    def matches(self, text: str) -> list[dict[str, str]]:
        """The parameter sets this type finds in ``text``; empty when it does not apply."""
        found: list[dict[str, str]] = []
        for pattern in self.compiled:
            for match in pattern.finditer(text):
                params = {k: v for k, v in match.groupdict().items() if v}
                if pattern.groupindex:
                    params = {("file" if k in ("q1", "q2") else k): v for k, v in params.items()}
                if "file" in params and _PLACEHOLDER.search(params["file"]):
                    continue  # "Periodic/Daily/YYYY-MM-DD.md" names a convention, not a note
                if self.details is not None:
                    params = {**params, **self.details(text)}
                if params not in found:
                    found.append(params)
                if not pattern.groupindex:
                    break
        return found


def optional(text: str) -> bool:
    """The bullet asks for something only if it exists ("Today.md if it exists")."""
    return bool(_OPTIONAL.search(text))


def _count(text: str) -> int | None:
    match = re.search(r"\b(?:last|past|previous|recent)\s+(\d+|[a-z]+)\b", text, _I)
    if match is None:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _NUMBERS.get(word)


def periodic_details(text: str) -> dict[str, str]:
    """Which periodic notes: the period (daily, weekly, monthly), how many, and whether they
    end before the run's period ("yesterday's", "archives") or are its own ("the existing
    daily archive if re-reviewing")."""
    lower = text.lower()
    period = "daily"
    for name, words in (("weekly", ("weekly", "week")), ("monthly", ("monthly", "month"))):
        if any(re.search(rf"\b{w}\b", lower) for w in words):
            period = name
            break
    plural = bool(re.search(r"\b(?:archives|notes|reviews|entries)\b", lower))
    count = _count(lower) or (3 if plural else 1)
    earlier = plural or bool(re.search(r"\b(?:yesterday|last|previous|prior|past|recent)\b", lower))
    own = bool(re.search(r"\b(?:existing|this|today'?s|current|same)\b", lower))
    params = {"period": period, "count": str(count), "offset": "0" if own and not plural else "-1"}
    if not earlier and not own:
        params["offset"] = "0"
    if optional(text):
        params["optional"] = "yes"
    return params


def config_details(text: str) -> dict[str, str]:
    """The configuration note a vault-configuration bullet names, if it names one."""
    match = re.search(r"(?<![\w/.-])((?:[\w.-]+/)*[A-Za-z0-9_][\w.-]*\.md)\b", text)
    return {"file": match.group(1)} if match else {}


def file_details(text: str) -> dict[str, str]:
    """Whether the note is wanted only if it exists, and whether it is expected to be an
    earlier one ("leftovers from the last plan"), which is then not stale for being earlier."""
    params = {"optional": "yes"} if optional(text) else {}
    if re.search(r"\b(?:leftovers?|carried|carry|previous|last|yesterday'?s|prior)\b", text, _I):
        params["earlier"] = "yes"
    return params


def people_details(text: str) -> dict[str, str]:
    """Whose notes: the 1:1 partners, every attendee, or both (meetings the bullet names are
    matched against the calendar when it is fulfilled)."""
    lower = text.lower()
    one = bool(re.search(r"\b1:1s?\b|\bone[- ]on[- ]ones?\b|\b1-on-1s?\b", lower))
    everyone = bool(
        re.search(
            r"\battendees?\b|\bparticipants?\b|\b(?:everyone|anyone|everybody) (?:in|at) "
            r"(?:every|all|each|today's|the day's|my|these|those)\b|\ball meetings\b",
            lower,
        )
    )
    scope = "1:1+attendees" if one and everyone else "attendees" if everyone else "1:1"
    return {"scope": scope}


_PERIODIC_WORDS = (
    r"\b(?:daily|weekly|monthly)\s+(?:notes?|archives?|reviews?|entries|entry)\b"
    r"|\barchives?\b|\bPeriodic/|\bperiodic notes?\b"
)
_CONFIG_WORDS = r"\b(?:config(?:uration)?|settings|layout|structure|paths?)\b"

BUILTIN_TYPES = (
    NeedType(CALENDAR, "Calendar", (r"\bcalendars?\b|\bschedule\b|\bagenda\b|\bevents\b",)),
    NeedType(VAULT_FILE, "Vault file", (_MD_FILE,), details=file_details),
    NeedType(
        PEOPLE,
        "People",
        (r"\bpeople\b|\bperson\b|\b1:1s?\b|\bone[- ]on[- ]ones?\b|\battendees\b",),
        details=people_details,
    ),
    NeedType(PROJECTS, "Projects", (r"\bprojects?\b",)),
    NeedType(DIRECTIVES, "Directives", (r"\bdirectives?\b|\bpreferences?\b|\bprofile\b",)),
    NeedType(PERIODIC, "Periodic notes", (_PERIODIC_WORDS,), details=periodic_details),
    NeedType(
        VAULT_CONFIG,
        "Vault configuration",
        (rf"\bvault\b.*{_CONFIG_WORDS}|{_CONFIG_WORDS}.*\bvault\b",),
        details=config_details,
        absorbs=(VAULT_FILE,),
    ),
)


@dataclass(frozen=True)
class NeedPlan:
    """What a Context section asks for: the needs, and the bullets nothing recognised."""

    needs: tuple[Need, ...]
    unrecognised: tuple[Bullet, ...]


def periodic_label(params: Mapping[str, str]) -> str:
    """ "Daily note", "Weekly archives", "Monthly notes" for a periodic need's parameters."""
    period = params.get("period", "daily").capitalize()
    if params.get("count", "1") == "1":
        return f"{period} note"
    return f"{period} archives" if params.get("offset") == "-1" else f"{period} notes"


class NeedRegistry:
    """Need types in the order they are tried; types a pack adds are tried before built-ins."""

    def __init__(self, types: Iterable[NeedType] = ()) -> None:
        self._types: dict[str, NeedType] = {}
        for need_type in types:
            self._types[need_type.kind] = need_type

    @classmethod
    def builtin(cls) -> NeedRegistry:
        """The seed's pattern table: calendar, vault files, people, projects, directives."""
        return cls(BUILTIN_TYPES)

    def add(self, need_type: NeedType) -> None:
        """Register a pack's need type; it is tried before every type already here."""
        if need_type.kind in self._types:
            raise ValueError(f"need type {need_type.kind!r} is registered twice")
        self._types = {need_type.kind: need_type, **self._types}

    def copy(self) -> NeedRegistry:
        return NeedRegistry(self._types.values())

    def get(self, kind: str) -> NeedType | None:
        return self._types.get(kind)

    @property
    def kinds(self) -> dict[str, str]:
        """Kind → label, for a model asked to classify a bullet."""
        return {k: t.label for k, t in self._types.items()}

    def classify(self, bullet: Bullet) -> list[Need]:
        """Every need the bullet states, in registry order (empty if nothing recognises it)."""
        needs = []
        for need_type in self._types.values():
            for params in need_type.matches(bullet.text):
                needs.append(self.need(need_type.kind, bullet, params))
        absorbed = {kind for n in needs for kind in self._types[n.kind].absorbs}
        return [n for n in needs if n.kind not in absorbed]

    def need(self, kind: str, bullet: Bullet, params: Mapping[str, str] | None = None) -> Need:
        """A need of ``kind`` from ``bullet``; a vault file is labelled by its file name."""
        need_type = self._types[kind]
        params = dict(params or {})
        label = need_type.label
        if kind == VAULT_FILE:
            label = params.get("file", label).rsplit("/", 1)[-1]
        elif kind == PERIODIC:
            label = periodic_label(params)
        return Need(kind, label, bullet.text, bullet.line, MappingProxyType(params))

    def plan(self, bullets: Iterable[Bullet]) -> NeedPlan:
        """Map every bullet; a need stated twice is kept once (the first mention)."""
        needs: dict[str, Need] = {}
        unrecognised = []
        for bullet in bullets:
            found = self.classify(bullet)
            if not found:
                unrecognised.append(bullet)
            for need in found:
                needs.setdefault(need.key, need)
        return NeedPlan(tuple(needs.values()), tuple(unrecognised))
