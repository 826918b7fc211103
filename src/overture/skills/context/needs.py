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

_I = re.IGNORECASE
_MD_FILE = r"`(?P<q1>[^`]+?\.md)`|\"(?P<q2>[^\"]+?\.md)\"|\b(?P<file>[A-Za-z0-9_][\w.-]*\.md)\b"


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
                if params not in found:
                    found.append(params)
                if not pattern.groupindex:
                    break
        return found


BUILTIN_TYPES = (
    NeedType(CALENDAR, "Calendar", (r"\bcalendar\b|\bschedule\b|\bagenda\b|\bevents\b",)),
    NeedType(VAULT_FILE, "Vault file", (_MD_FILE,)),
    NeedType(PEOPLE, "People", (r"\bpeople\b|\bperson\b|\b1:1s?\b|\bone[- ]on[- ]ones?\b|\battendees\b",)),
    NeedType(PROJECTS, "Projects", (r"\bprojects?\b",)),
    NeedType(DIRECTIVES, "Directives", (r"\bdirectives?\b|\bpreferences?\b|\bprofile\b",)),
)


@dataclass(frozen=True)
class NeedPlan:
    """What a Context section asks for: the needs, and the bullets nothing recognised."""

    needs: tuple[Need, ...]
    unrecognised: tuple[Bullet, ...]


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
        return needs

    def need(self, kind: str, bullet: Bullet, params: Mapping[str, str] | None = None) -> Need:
        """A need of ``kind`` from ``bullet``; a vault file is labelled by its file name."""
        need_type = self._types[kind]
        params = dict(params or {})
        label = params.get("file", need_type.label) if kind == VAULT_FILE else need_type.label
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
