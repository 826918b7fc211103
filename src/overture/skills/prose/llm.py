"""The seam to a language model, kept small: run prose with loaded context and a vault tool.

:class:`ProseModel` executes the prose; a :class:`NeedClassifier` (or the richer
:class:`BulletClassifier`) classifies Context bullets the pattern table does not recognise.
The model-backed implementations are in :mod:`overture.skills.prose.model` and
:mod:`overture.skills.context.classifier`. The offline provider here runs no model: it carries out
only what needs none, drafting the notes the prose asks to write (Today.md, Week.md, an
end-of-day review), and says so.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from overture.skills.context.dates import ResolvedDate
from overture.skills.context.needs import VAULT_FILE
from overture.skills.prose.drafts import DRAFTERS, DraftInput
from overture.skills.prose.vault_tools import VaultEscape, VaultTools
from overture.skills.providers.base import NeedResult
from overture.skills.providers.vault import Vault
from overture.skills.summary import Outcome

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
    """What executing the prose did. ``completed`` is False when no model answered (the
    offline provider, or a model call that failed). ``outcome`` says whether the person took
    part: a one-pass run is ``DRAFTED``, whatever answered, so the summary never claims a
    session that did not happen. ``problems`` (a refused write, a failed model call) are
    named in the summary and make a session ``Complete (degraded)``."""

    text: str
    actions: tuple[str, ...] = ()
    completed: bool = True
    provider: str = "offline"
    model: str = "none"
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    problems: tuple[str, ...] = ()
    outcome: Outcome = Outcome.DRAFTED


@dataclass(frozen=True)
class Classification:
    """A classifier's verdict on one bullet: the need kind (None: not understood), its details
    (a vault file's name), and a note for the summary saying why, or what went wrong."""

    kind: str | None
    params: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


class ProseModel(Protocol):
    """Executes a skill's prose with its loaded context; writes only through ``tools``."""

    def execute(
        self, prose: str, context: LoadedContext, tools: VaultTools
    ) -> ProseResult | Awaitable[ProseResult]: ...


@runtime_checkable
class NeedClassifier(Protocol):
    """Optional: names the need type (one of ``kinds``) a bullet asks for, or None."""

    def classify_need(self, text: str, kinds: Mapping[str, str]) -> str | None: ...


@runtime_checkable
class BulletClassifier(Protocol):
    """Optional, preferred over :class:`NeedClassifier`: a verdict with details and a reason."""

    def classify_bullet(self, text: str, kinds: Mapping[str, str]) -> Classification: ...


def note_path(vault: Vault, name: str) -> str:
    """Where a note named only by its file name goes (the orchestrator resolves paths, as the
    seed says): working notes in Captive, else an existing note of that name, else Captive."""
    if name in _WORKING_NOTES:
        return vault.captive(name)
    found = vault.find_note(name)
    return vault.relative(found) if found is not None else vault.captive(name)


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
            if verb == "append" and source.data(VAULT_FILE, name) is None:
                actions.append(f"Left {name} alone: it was not loaded, so there is nothing to add to")
                continue
            content = drafter(source)
            try:
                path = note_path(tools.vault, name)
                tools.append(path, content) if verb == "append" else tools.write(path, content)
            except VaultEscape as exc:
                actions.append(f"Could not write {name}: {exc}")
                continue
            drafted.append(content)
        actions.append("Session prose not run: no language model is configured (offline provider)")
        return ProseResult("\n".join(drafted), tuple(actions), completed=False)
