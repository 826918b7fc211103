"""The seam to a language model, kept small: run prose with loaded context and a vault tool.

A real provider (another issue) implements :class:`ProseModel`; it may also implement
:class:`NeedClassifier` to classify Context bullets the pattern table does not recognise. The
offline provider here runs no model: it carries out only what needs none, drafting the notes
the prose asks to write (Today.md, Week.md, an end-of-day review), and says so.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from overture.skills.dates import ResolvedDate
from overture.skills.drafts import DRAFTERS, DraftInput
from overture.skills.providers.base import NeedResult
from overture.skills.vault_tools import VaultEscape, VaultTools

_INTENT = re.compile(
    r"\b(?P<verb>write|create|update|append)\b[^.\n]*?\b(?P<file>[A-Za-z0-9_][\w-]*\.md)\b",
    re.IGNORECASE,
)
_VERB = {"write": "write", "create": "write", "update": "write", "append": "append"}
_WORKING_NOTES = ("Today.md", "Week.md", "Month.md", "Quarter.md", "Year.md")


@dataclass(frozen=True)
class LoadedContext:
    """What the prose runs with: the "Loading context" text, and the results behind it."""

    skill: str
    date: ResolvedDate | None
    text: str
    results: tuple[NeedResult, ...] = ()


@dataclass(frozen=True)
class ProseResult:
    """What executing the prose did. ``completed`` is False when the session itself was not
    run (the offline provider), so the summary never claims a session that did not happen."""

    text: str
    actions: tuple[str, ...] = ()
    completed: bool = True
    provider: str = "offline"
    model: str = "none"
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0


class ProseModel(Protocol):
    """Executes a skill's prose with its loaded context; writes only through ``tools``."""

    def execute(
        self, prose: str, context: LoadedContext, tools: VaultTools
    ) -> ProseResult | Awaitable[ProseResult]: ...


@runtime_checkable
class NeedClassifier(Protocol):
    """Optional: names the need type (one of ``kinds``) a bullet asks for, or None."""

    def classify_need(self, text: str, kinds: Mapping[str, str]) -> str | None: ...


def intents(prose: str) -> list[tuple[str, str]]:
    """The notes the prose asks to write or append to, in order: [("write", "Today.md")]."""
    found: list[tuple[str, str]] = []
    for match in _INTENT.finditer(prose):
        pair = (_VERB[match.group("verb").lower()], match.group("file"))
        if pair not in found:
            found.append(pair)
    return found


class OfflineProseModel:
    """No model: drafts the notes the prose asks for from the loaded context. Its writes are
    staged on ``tools``; the orchestrator reports them, as it does for any model."""

    def execute(self, prose: str, context: LoadedContext, tools: VaultTools) -> ProseResult:
        actions: list[str] = []
        drafted: list[str] = []
        if context.date is None:
            return ProseResult("", ("Nothing drafted: the offline provider needs a resolved date",), False)
        source = DraftInput(context.date, context.results)
        for verb, name in intents(prose):
            drafter = DRAFTERS.get((verb, name))
            if drafter is None:
                actions.append(f"Left {name} alone: the offline provider cannot {verb} it without a model")
                continue
            content = drafter(source)
            try:
                path = self._path(tools, name)
                tools.append(path, content) if verb == "append" else tools.write(path, content)
            except VaultEscape as exc:
                actions.append(f"Could not write {name}: {exc}")
                continue
            drafted.append(content)
        actions.append("Session prose not run: no language model is configured (offline provider)")
        return ProseResult("\n".join(drafted), tuple(actions), completed=False)

    @staticmethod
    def _path(tools: VaultTools, name: str) -> str:
        if name in _WORKING_NOTES:
            return tools.vault.captive(name)
        found = tools.vault.find_note(name)
        return tools.vault.relative(found) if found is not None else tools.vault.captive(name)
