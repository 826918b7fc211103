"""The two sides of a session: what is said and asked, and who answers.

A :class:`Conversation` is the person's side: the terminal (:mod:`overture.cli.chat`), or an
answers file (:class:`ScriptedConversation`) so scripts and tests can drive a session. The
session only ever talks to this protocol, so every front end runs the same session.

An answers file is YAML (or JSON): a mapping from a question's key to the answer, nested
mappings and lists flattened to ``a/b`` and ``a/1`` keys::

    meetings: keep
    priorities: [1, 2, "Reply to Jonas"]
    bring:
      Esther Schmidt: the Q1 headcount numbers
    focus: [accept, "09:30", drop]
    write: yes

A question without an answer takes what it offers; an answer to a question never asked is an
error that names it, so a typo never passes silently.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from overture.errors import ValidationFailed


class SessionCancelled(Exception):
    """The person cancelled (Ctrl-C): nothing is written."""


class SessionEnded(Exception):
    """The person ended the session (Ctrl-D): nothing more is asked."""


@dataclass(frozen=True)
class Question:
    """One thing the session asks. ``key`` names it in an answers file; ``default`` is what
    an empty answer means (shown in brackets)."""

    key: str
    text: str
    default: str = ""
    hint: str = ""


class Conversation(Protocol):
    """The person's side of a session."""

    async def say(self, text: str) -> None:
        """Show ``text`` (markdown) to the person."""

    def stream(self, chunk: str) -> None:
        """Show a piece of a turn as it is produced (called from the model's thread)."""

    async def ask(self, question: Question) -> str:
        """The person's answer; raises :class:`SessionCancelled` or :class:`SessionEnded`."""

    def unused(self) -> list[str]:
        """Answers given ahead for questions the session never asked (none, live)."""


def fold(key: str) -> str:
    """A key as it is matched: case and accents ignored ("bring/Tomas Kovac")."""
    text = unicodedata.normalize("NFKD", key)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().strip()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested answers as ``a/b`` keys; a list of plain answers also as ``a/1``, ``a/2``."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}/{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and all(not isinstance(v, Mapping | list) for v in value):
        return {prefix: value, **{f"{prefix}/{i}": v for i, v in enumerate(value, 1)}}
    return {prefix: value}


def _text(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def load_answers(path: Path) -> dict[str, str]:
    """An answers file as flat ``key → answer`` text; a file that cannot be read or is not a
    mapping is refused with its name."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"--answers {path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"--answers {path}: not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationFailed(f"--answers {path}: expected a mapping of question keys to answers")
    return {k: _text(v) for k, v in _flatten(data).items()}


@dataclass
class ScriptedConversation:
    """Answers from a mapping (an answers file); what was said and asked is kept in order,
    and handed to ``echo`` as it happens (the CLI prints it)."""

    answers: Mapping[str, str] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    echo: Callable[[str], None] | None = None

    _streaming: list[str] = field(default_factory=list)

    async def say(self, text: str) -> None:
        self._keep(text)

    def stream(self, chunk: str) -> None:
        """Streamed text is kept as one entry per turn (it ends with a newline)."""
        self._streaming.append(chunk)
        if self.echo is not None:
            self.echo(chunk)
        if chunk.endswith("\n"):
            self.transcript.append("".join(self._streaming).strip())
            self._streaming.clear()

    async def ask(self, question: Question) -> str:
        self.asked.append(question.key)
        keyed = {fold(k): v for k, v in self.answers.items()}
        answer = keyed.get(fold(question.key), question.default)
        self._keep(f"{question.text}\n> {answer}")
        return answer

    def _keep(self, text: str) -> None:
        self.transcript.append(text)
        if self.echo is not None:
            self.echo(text + "\n")

    def unused(self) -> list[str]:
        """Answers given for questions never asked. A list answers one question as a whole or
        item by item, so a list's key and its items count as used when either was asked."""
        asked = {fold(k) for k in self.asked}
        parents = {k.rsplit("/", 1)[0] for k in asked if "/" in k}

        def used(key: str) -> bool:
            return key in asked or key in parents or ("/" in key and key.rsplit("/", 1)[0] in asked)

        return [k for k in self.answers if not used(fold(k))]
