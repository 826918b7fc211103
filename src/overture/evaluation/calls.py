"""The labelled-call file (``tests/data/calls/README.md``): one JSON object per line, read and
checked in full before anything runs.

An evaluation that stops at call 180 because line 181 is malformed wastes the run and, with a
paid model, the money; so every line is checked first and every problem is reported at once,
each naming its line and field (``line 7: segments[2].text: empty``). The values are frozen:
the runner and the scoring only read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overture.errors import ValidationFailed

ROLES = ("rep", "colleague", "prospect")
#: The labels a call carries, in the order they are reported.
LABELS = ("proposal", "schedule")
MAX_REPORTED = 20


@dataclass(frozen=True)
class Participant:
    """Someone on the call: the rep, a colleague on the rep's side, or a prospect."""

    name: str
    role: str
    company: str | None = None


@dataclass(frozen=True, repr=False)
class Segment:
    """One speaker's turn; times are seconds from the start of the recording."""

    speaker: str
    role: str
    start: float
    end: float
    text: str

    def __repr__(self) -> str:  # the words stay out of logs and tracebacks
        return f"Segment({self.speaker!r}, {self.start}-{self.end})"


@dataclass(frozen=True)
class LabelledCall:
    """A call and what a correct detector would queue after it."""

    line: int
    id: str
    title: str
    rep: str
    participants: tuple[Participant, ...]
    segments: tuple[Segment, ...]
    expected: Mapping[str, bool]

    def people(self, role: str) -> list[Participant]:
        return [p for p in self.participants if p.role == role]


class CallFileError(ValidationFailed):
    """The labelled-call file is invalid."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        lines = [f"{path}: {len(problems)} problem(s), nothing was run", *(f"  {p}" for p in shown)]
        if more:
            lines.append(f"  … and {more} more")
        super().__init__("\n".join(lines))


class _Bad(Exception):
    """One problem with one field of the line being read."""


def _text(doc: Mapping[str, Any], key: str, where: str = "", *, optional: bool = False) -> str | None:
    value = doc.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        got = "missing" if key not in doc else f"got {json.dumps(value)[:40]}"
        raise _Bad(f"{where}{key}: must be a non-empty string ({got})")
    return value.strip()


def _seconds(doc: Mapping[str, Any], key: str, where: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Bad(f"{where}{key}: must be a number of seconds, 0 or more (got {json.dumps(value)})")
    return float(value)


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list) or not value:
        got = "missing" if key not in doc else f"got {json.dumps(value)[:40]}"
        raise _Bad(f"{key}: must be a non-empty list ({got})")
    return value


def _role(doc: Mapping[str, Any], where: str) -> str:
    role = doc.get("role")
    if role not in ROLES:
        raise _Bad(f"{where}role: {json.dumps(role)} is not one of {', '.join(ROLES)}")
    return str(role)


def _participants(doc: Mapping[str, Any]) -> tuple[Participant, ...]:
    found: dict[str, Participant] = {}
    for i, raw in enumerate(_list(doc, "participants")):
        where = f"participants[{i}]."
        if not isinstance(raw, dict):
            raise _Bad(f"participants[{i}]: must be an object")
        name = str(_text(raw, "name", where))
        if name in found:
            raise _Bad(f"{where}name: {name!r} appears twice")
        found[name] = Participant(name, _role(raw, where), _text(raw, "company", where, optional=True))
    reps = [p.name for p in found.values() if p.role == "rep"]
    if len(reps) != 1:
        raise _Bad(f"participants: exactly one must have role rep (found {len(reps)})")
    return tuple(found.values())


def _segments(doc: Mapping[str, Any], people: Mapping[str, Participant]) -> tuple[Segment, ...]:
    segments = []
    for i, raw in enumerate(_list(doc, "segments")):
        where = f"segments[{i}]."
        if not isinstance(raw, dict):
            raise _Bad(f"segments[{i}]: must be an object")
        speaker, role = str(_text(raw, "speaker", where)), _role(raw, where)
        who = people.get(speaker)
        if who is None:
            raise _Bad(f"{where}speaker: {speaker!r} is not one of the participants")
        if who.role != role:
            raise _Bad(f"{where}role: {role!r}, but participant {speaker!r} is a {who.role}")
        start, end = _seconds(raw, "start", where), _seconds(raw, "end", where)
        if end < start:
            raise _Bad(f"{where}end: {end} is before start {start}")
        segments.append(Segment(speaker, role, start, end, str(_text(raw, "text", where))))
    return tuple(segments)


def _expected(doc: Mapping[str, Any]) -> dict[str, bool]:
    labels = doc.get("expected")
    if not isinstance(labels, dict):
        raise _Bad(f"expected: must be an object with {' and '.join(LABELS)} (true or false)")
    for label in LABELS:
        if not isinstance(labels.get(label), bool):
            raise _Bad(f"expected.{label}: must be true or false (got {json.dumps(labels.get(label))})")
    return {label: labels[label] for label in LABELS}


def parse_call(text: str, line: int) -> LabelledCall:
    """One line of the file as a call, or ``ValueError`` saying which field is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(doc, dict):
        raise ValueError("must be a JSON object")
    try:
        call_id = str(_text(doc, "id"))
        participants = _participants(doc)
        people = {p.name: p for p in participants}
        rep = str(_text(doc, "rep"))
        if people.get(rep, Participant(rep, "")).role != "rep":
            raise _Bad(f"rep: {rep!r} is not the participant with role rep")
        return LabelledCall(
            line=line,
            id=call_id,
            title=_text(doc, "title", optional=True) or call_id,
            rep=rep,
            participants=participants,
            segments=_segments(doc, people),
            expected=_expected(doc),
        )
    except _Bad as exc:
        raise ValueError(str(exc)) from None


def parse_lines(lines: Iterable[str], path: str = "<calls>") -> list[LabelledCall]:
    """Every call of the file, or ``CallFileError`` listing every bad line. Blank lines are
    skipped; ids must be unique, since the report names calls by id."""
    calls: list[LabelledCall] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            call = parse_call(text, number)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if call.id in first_seen:
            problems.append(f"line {number}: id: {call.id!r} is already used on line {first_seen[call.id]}")
            continue
        first_seen[call.id] = number
        calls.append(call)
    if not calls and not problems:
        problems.append("line 1: the file holds no calls")
    if problems:
        raise CallFileError(path, problems)
    return calls


def read_calls(path: Path) -> list[LabelledCall]:
    """Read and check a whole labelled-call file."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CallFileError(str(path), [f"line {line}: not UTF-8 text (byte {exc.start})"]) from None
    return parse_lines(text.splitlines(), str(path))


def select(
    calls: list[LabelledCall], only: Iterable[str] = (), limit: int | None = None
) -> list[LabelledCall]:
    """The calls to run: those named by ``only`` (all if none), then the first ``limit``."""
    wanted = list(dict.fromkeys(only))
    if wanted:
        known = {c.id for c in calls}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValidationFailed(f"--only: no call {', '.join(map(repr, unknown))} in the file")
        calls = [c for c in calls if c.id in set(wanted)]
    return calls[:limit] if limit is not None else calls
