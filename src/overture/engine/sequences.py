"""Sequence files: one YAML file per event type, fully checked at load.

Every problem is reported with file, line and field, so a pack author fixes a typo before an
event ever arrives. Loading is pure apart from reading the files.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import yaml

from overture.durations import parse_duration
from overture.engine.expressions import ExpressionError, Expressions
from overture.errors import SequenceFileError, ValidationFailed


class StepKind(StrEnum):
    SKILL = "skill"
    FUNCTION = "function"
    CRM = "crm"
    NOTIFY = "notify"
    FOLLOWUP = "followup"


class FailurePolicy(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"
    RETRY = "retry"


Loc = tuple[str | int, ...]
ApprovalPattern = Literal["draft", "confirm", "select"]
ActiveHours = Literal["defer", "ignore"]
_TOP_KEYS = ("event_type", "description", "active_hours", "dedupe", "steps")
_STEP_KEYS = (
    "name", "uses", "with", "when", "ai", "on_failure", "retry", "timeout",
    "requires_context", "effect", "approval",
)  # fmt: skip
_RETRY_KEYS = ("attempts", "backoff", "factor", "max_backoff")
_APPROVAL_KEYS = ("pattern", "expires", "title")
_DEDUPE_KEYS = ("fields", "window")
_Rule = tuple[re.Pattern[str], str]
_EVENT_TYPE: _Rule = (
    re.compile(r"[a-z][a-z0-9_]*"),
    "event type (lowercase letters, digits and _, starting with a letter)",
)
_STEP_NAME: _Rule = (re.compile(r"[a-z0-9][a-z0-9_-]*"), "step name (a-z, 0-9, - and _)")
_FIELD_PATH: _Rule = (
    re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*"),
    "field path such as thread.id",
)
_SOURCE_NAME: _Rule = (
    re.compile(r"[a-z0-9][a-z0-9_-]*"),
    "context source name (a-z, 0-9, - and _)",
)
_TARGET = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*")
_USES_HELP = "expected skill:KEY, function:NAME, crm:ACTION, notify or followup"
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failed step is tried again."""

    attempts: int = 1
    backoff: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    max_backoff: timedelta = timedelta(minutes=5)

    def delay(self, failed_attempts: int) -> timedelta:
        """Wait before the next try: backoff * factor ** (failed_attempts - 1), capped."""
        cap = self.max_backoff.total_seconds()
        try:
            seconds = self.backoff.total_seconds() * self.factor ** (max(failed_attempts, 1) - 1)
        except OverflowError:
            seconds = cap
        return timedelta(seconds=min(seconds, cap))


@dataclass(frozen=True, slots=True)
class ApprovalSpec:
    """A human-in-the-loop gate in front of a step."""

    pattern: ApprovalPattern
    expires: timedelta = timedelta(hours=48)
    title: str | None = None


@dataclass(frozen=True, slots=True)
class DedupeSpec:
    """Which payload fields make two events "the same", and for how long."""

    fields: tuple[str, ...]
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a sequence; inputs are frozen (mappings read-only, lists as tuples)."""

    index: int
    name: str
    uses: str
    kind: StepKind
    target: str
    inputs: Mapping[str, Any]
    when: str | None
    ai: bool
    on_failure: FailurePolicy
    retry: RetryPolicy
    timeout: timedelta | None
    requires_context: tuple[str, ...]
    effect: bool
    approval: ApprovalSpec | None
    line: int


@dataclass(frozen=True, slots=True)
class Sequence:
    """What happens, step by step, when one event type arrives."""

    event_type: str
    description: str
    active_hours: ActiveHours
    dedupe: DedupeSpec | None
    steps: tuple[Step, ...]
    path: str
    lines: Mapping[Loc, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def uses_ai(self) -> bool:
        """Whether any step spends AI budget."""
        return any(step.ai for step in self.steps)

    def line_of(self, *path: str | int) -> int | None:
        """Line of a field such as ("steps", 2, "uses"), else of its nearest ancestor."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


class SequencesInvalid(ValidationFailed):
    """Some sequence files are invalid."""

    def __init__(self, errors: list[SequenceFileError]) -> None:
        self.errors = list(errors)
        listed = "\n".join(f"  {error}" for error in self.errors)
        super().__init__(f"{len(self.errors)} problem(s) in sequence files:\n{listed}")


def load_sequence_text(text: str, path: str, expressions: Expressions | None = None) -> Sequence:
    """Parse and check one sequence file's text; raises the first SequenceFileError by line."""
    sequence, errors = _load(text, path, expressions or Expressions())
    if errors:
        raise errors[0]
    assert sequence is not None
    return sequence


def load_sequence_file(path: Path, expressions: Expressions | None = None) -> Sequence:
    """Read and check one sequence file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SequenceFileError(str(path), None, "(file)", f"cannot read: {exc}") from None
    return load_sequence_text(text, str(path), expressions)


def load_sequence_dir(folder: Path, expressions: Expressions | None = None) -> dict[str, Sequence]:
    """Load every *.yaml/*.yml file by event type; SequencesInvalid lists every error found."""
    if not folder.is_dir():
        raise SequencesInvalid([SequenceFileError(str(folder), None, "(folder)", "not a folder")])
    shared = expressions or Expressions()
    found: dict[str, Sequence] = {}
    errors: list[SequenceFileError] = []
    files = sorted(
        p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
    )
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(SequenceFileError(str(file), None, "(file)", f"cannot read: {exc}"))
            continue
        sequence, problems = _load(text, str(file), shared)
        errors.extend(problems)
        if sequence is None:
            continue
        first = found.get(sequence.event_type)
        if first is not None:
            problem = f"event type {sequence.event_type!r} is already defined in {first.path}"
            errors.append(
                SequenceFileError(sequence.path, sequence.line_of("event_type"), "event_type", problem)
            )
        else:
            found[sequence.event_type] = sequence
    if errors:
        raise SequencesInvalid(errors)
    return found


def _load(text: str, path: str, expressions: Expressions) -> tuple[Sequence | None, list[SequenceFileError]]:
    """Compose, check and build; every problem found is returned, sorted by line."""
    composer = _Composer(text, path)
    try:
        data = composer.load()
    except SequenceFileError as exc:
        return None, [exc]
    checker = _Checker(path, composer.lines, expressions)
    checker.errors.extend(composer.errors)
    sequence = checker.sequence(data)
    errors = sorted(checker.errors, key=lambda error: error.line or 0)
    return (None, errors) if errors else (sequence, [])


def _kind(value: Any) -> str:
    """A value's type as a YAML author would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _dotted(loc: Loc) -> str:
    """("steps", 2, "on_failure") -> "steps[2].on_failure"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(file)"


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _freeze(value: Any) -> Any:
    """Read-only copy of step inputs: mappings become proxies, lists become tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


class _Composer:
    """YAML nodes to plain data, remembering each path's 1-based line and duplicate keys."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines: dict[Loc, int] = {}
        self.errors: list[SequenceFileError] = []
        self._loader = yaml.SafeLoader(text)

    def load(self) -> Any:
        try:
            node = self._loader.get_single_node()
            return None if node is None else self._plain(node, (), frozenset())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            line = mark.line + 1 if mark is not None else None
            problem = f"YAML syntax error: {problem}"
            raise SequenceFileError(self.path, line, "(yaml)", problem) from None
        except yaml.YAMLError as exc:
            raise SequenceFileError(self.path, None, "(yaml)", f"YAML error: {exc}") from None
        finally:
            self._loader.dispose()

    def _fail(self, loc: Loc, node: yaml.Node, problem: str) -> None:
        line = node.start_mark.line + 1
        self.errors.append(SequenceFileError(self.path, line, _dotted(loc), problem))

    def _plain(self, node: yaml.Node, loc: Loc, active: frozenset[int]) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, loc)
        if id(node) in active:
            self._fail(loc, node, "recursive alias")
            return None
        inner = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            return [self._plain(item, (*loc, i), inner) for i, item in enumerate(node.value)]
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._fail(loc, key_node, "mapping keys must be plain words")
                continue
            key = self._scalar(key_node, loc)
            sub = (*loc, key if isinstance(key, str) else str(key))
            line = key_node.start_mark.line + 1
            if key in first_line:
                problem = f"duplicate key {key!r} (first on line {first_line[key]})"
                self._fail(sub, key_node, problem)
                continue
            first_line[key] = line
            self.lines[sub] = line
            out[key] = self._plain(value_node, sub, inner)
        return out

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self._fail(loc, node, f"cannot read this value: {exc}")
            return None


class _Checker:
    """Checks plain data against the sequence format, collecting every problem."""

    def __init__(self, path: str, lines: dict[Loc, int], expressions: Expressions) -> None:
        self.path = path
        self.lines = lines
        self.expressions = expressions
        self.errors: list[SequenceFileError] = []

    def line(self, loc: Loc) -> int | None:
        for end in range(len(loc), -1, -1):
            found = self.lines.get(loc[:end])
            if found is not None:
                return found
        return None

    def fail(self, loc: Loc, problem: str) -> None:
        self.errors.append(SequenceFileError(self.path, self.line(loc), _dotted(loc), problem))

    # -- typed readers: each returns None (after reporting) when the value is wrong --

    def need(self, data: dict[str, Any], loc: Loc, key: str) -> Any:
        if key not in data:
            self.fail((*loc, key), "required key is missing")
            return _MISSING
        return data[key]

    def mapping(self, loc: Loc, value: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(loc, f"expected a mapping, got {_kind(value)}")
            return None
        for key in value:
            if key not in keys:
                name = str(key)
                hint = _suggest(name, keys)
                self.fail((*loc, name), f"unknown key {name!r}{hint}; valid keys: {', '.join(keys)}")
        return value

    def string(self, loc: Loc, value: Any, rule: _Rule | None = None) -> str | None:
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.fail(loc, f"expected a string, got {_kind(value)}")
            return None
        if rule is not None and not rule[0].fullmatch(value):
            self.fail(loc, f"{value!r} is not a valid {rule[1]}")
            return None
        return value

    def flag(self, loc: Loc, value: Any) -> bool | None:
        if not isinstance(value, bool):
            self.fail(loc, f"expected true or false, got {_kind(value)}")
            return None
        return value

    def number(self, loc: Loc, value: Any, low: float, high: float, whole: bool) -> float | None:
        wanted = "an integer" if whole else "a number"
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (whole and not isinstance(value, int))
        ):
            self.fail(loc, f"expected {wanted}, got {_kind(value)}")
            return None
        if not low <= value <= high:
            self.fail(loc, f"must be between {low:g} and {high:g}, got {value}")
            return None
        return float(value)

    def duration(self, loc: Loc, value: Any, allow_zero: bool = False) -> timedelta | None:
        if isinstance(value, timedelta):
            return value
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.fail(loc, f"expected a duration such as 30s, 5m or 48h, got {_kind(value)}")
            return None
        try:
            parsed = parse_duration(value)
        except (ValueError, OverflowError) as exc:
            self.fail(loc, f"not a usable duration: {exc}")
            return None
        if not allow_zero and parsed <= timedelta(0):
            self.fail(loc, "duration must be greater than zero")
            return None
        return parsed

    def strings(self, loc: Loc, value: Any, rule: _Rule) -> tuple[str, ...] | None:
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.fail(loc, f"expected a list of strings, got {_kind(value)}")
            return None
        items = [self.string((*loc, i), item, rule) for i, item in enumerate(value)]
        return None if None in items else tuple(cast(list[str], items))

    def choice(self, loc: Loc, value: Any, choices: tuple[str, ...]) -> str | None:
        if value is _MISSING:
            return None
        if not isinstance(value, str) or value not in choices:
            got = repr(value) if isinstance(value, str) else _kind(value)
            hint = _suggest(value, choices) if isinstance(value, str) else ""
            self.fail(loc, f"expected one of {', '.join(choices)}, got {got}{hint}")
            return None
        return value

    def templates(self, loc: Loc, value: Any) -> None:
        if isinstance(value, str):
            try:
                self.expressions.check_template(value)
            except ExpressionError as exc:
                self.fail(loc, f"bad template: {exc.problem}")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.fail((*loc, str(key)), f"keys must be strings, got {_kind(key)}")
                self.templates((*loc, str(key)), item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.templates((*loc, i), item)

    # -- the format itself --

    def sequence(self, data: Any) -> Sequence | None:
        if not isinstance(data, dict):
            got = "an empty file" if data is None else _kind(data)
            self.fail((), f"expected a mapping with event_type and steps, got {got}")
            return None
        top = self.mapping((), data, _TOP_KEYS) or {}
        event_type = self.string(("event_type",), self.need(top, (), "event_type"), _EVENT_TYPE)
        stem = Path(self.path).stem
        if event_type is not None and event_type != stem:
            problem = f"{event_type!r} must equal the file name's stem {stem!r}"
            self.fail(("event_type",), problem)
        description = self.string(("description",), top.get("description") or "") or ""
        hours = self.choice(("active_hours",), top.get("active_hours", "defer"), ("defer", "ignore"))
        dedupe = self.dedupe(top.get("dedupe"))
        steps: list[Step] = []
        raw_steps = self.need(top, (), "steps")
        if raw_steps is not _MISSING and not isinstance(raw_steps, list):
            self.fail(("steps",), f"expected a list of steps, got {_kind(raw_steps)}")
        elif raw_steps == []:
            self.fail(("steps",), "a sequence needs at least one step")
        elif isinstance(raw_steps, list):
            names: dict[str, int] = {}
            for index, raw in enumerate(raw_steps):
                step = self.step(index, raw, names)
                if step is not None:
                    steps.append(step)
        if self.errors:
            return None
        return Sequence(
            event_type=cast(str, event_type),
            description=description,
            active_hours=cast(ActiveHours, hours),
            dedupe=dedupe,
            steps=tuple(steps),
            path=self.path,
            lines=MappingProxyType(dict(self.lines)),
        )

    def dedupe(self, value: Any) -> DedupeSpec | None:
        data = self.mapping(("dedupe",), value, _DEDUPE_KEYS) if value is not None else None
        if data is None:
            return None
        where = ("dedupe", "fields")
        fields = self.strings(where, self.need(data, ("dedupe",), "fields"), _FIELD_PATH)
        if fields == ():
            self.fail(where, "list at least one payload field")
        window = self.duration(("dedupe", "window"), data.get("window", timedelta(hours=1)))
        return DedupeSpec(fields or (), window or timedelta(hours=1))

    def step(self, index: int, raw: Any, names: dict[str, int]) -> Step | None:
        loc: Loc = ("steps", index)
        data = self.mapping(loc, raw, _STEP_KEYS)
        if data is None:
            return None
        name = self.string((*loc, "name"), self.need(data, loc, "name"), _STEP_NAME)
        if name is not None and name in names:
            problem = f"duplicate step name {name!r} (first used on line {names[name]})"
            self.fail((*loc, "name"), problem)
        elif name is not None:
            names[name] = self.line((*loc, "name")) or 0
        uses = self.string((*loc, "uses"), self.need(data, loc, "uses"))
        kind, target = self.uses((*loc, "uses"), uses) if uses is not None else (None, "")
        inputs = self.inputs((*loc, "with"), kind, data.get("with"))
        when = data.get("when")
        if when is not None and self.string((*loc, "when"), when) is not None:
            try:
                self.expressions.check(when)
            except ExpressionError as exc:
                self.fail((*loc, "when"), f"bad condition: {exc.problem}")
        ai = self.flag((*loc, "ai"), data.get("ai", False))
        policy = self.choice(
            (*loc, "on_failure"),
            data.get("on_failure", "stop"),
            tuple(p.value for p in FailurePolicy),
        )
        on_failure = FailurePolicy(policy or "stop")
        retry = self.retry((*loc, "retry"), data.get("retry"), on_failure)
        timeout = data.get("timeout")
        timeout = self.duration((*loc, "timeout"), timeout) if timeout is not None else None
        sources = data.get("requires_context", [])
        requires = self.strings((*loc, "requires_context"), sources, _SOURCE_NAME)
        effect = self.flag((*loc, "effect"), data.get("effect", kind in (StepKind.CRM, StepKind.NOTIFY)))
        approval = self.approval((*loc, "approval"), kind, data.get("approval"))
        return Step(
            index=index,
            name=name or "",
            uses=uses or "",
            kind=kind or StepKind.SKILL,
            target=target,
            inputs=_freeze(inputs),
            when=when if isinstance(when, str) else None,
            ai=bool(ai),
            on_failure=on_failure,
            retry=retry,
            timeout=timeout,
            requires_context=requires or (),
            effect=bool(effect),
            approval=approval,
            line=self.line(loc) or 0,
        )

    def uses(self, loc: Loc, text: str) -> tuple[StepKind | None, str]:
        prefix, colon, target = text.partition(":")
        try:
            kind = StepKind(prefix)
        except ValueError:
            self.fail(loc, f"{_USES_HELP}, got {text!r}{_suggest(prefix, [k.value for k in StepKind])}")
            return None, ""
        if kind in (StepKind.NOTIFY, StepKind.FOLLOWUP):
            if colon:
                self.fail(loc, f"{kind} takes no target: write just {kind.value!r}")
            return kind, ""
        if not _TARGET.fullmatch(target):
            self.fail(loc, f"{kind} needs a target, as in {kind}:NAME, got {text!r}")
        return kind, target

    def inputs(self, loc: Loc, kind: StepKind | None, raw: Any) -> dict[str, Any]:
        if raw is not None and not isinstance(raw, dict):
            self.fail(loc, f"expected a mapping, got {_kind(raw)}")
            return {}
        value: dict[str, Any] = raw or {}
        self.templates(loc, value)
        if kind is StepKind.NOTIFY:
            self.required_input(loc, value, "text", "notify")
        elif kind is StepKind.FOLLOWUP:
            self.required_input(loc, value, "type", "followup")
            payload = value.get("payload")
            if payload is not None and not isinstance(payload, dict):
                self.fail((*loc, "payload"), f"expected a mapping, got {_kind(payload)}")
        return value

    def required_input(self, loc: Loc, value: dict[str, Any], key: str, kind: str) -> None:
        if key not in value:
            self.fail((*loc, key), f"{kind} steps need with.{key} (a string)")
        else:
            self.string((*loc, key), value[key])

    def retry(self, loc: Loc, value: Any, policy: FailurePolicy) -> RetryPolicy:
        default = RetryPolicy()
        if value is None:
            return default
        if policy is not FailurePolicy.RETRY:
            self.fail(loc, f"retry only applies with on_failure: retry (this step has {policy})")
        data = self.mapping(loc, value, _RETRY_KEYS)
        if data is None:
            return default
        attempts = self.number((*loc, "attempts"), data.get("attempts", 1), 0, 10, whole=True)
        backoff = self.duration((*loc, "backoff"), data.get("backoff", default.backoff), True)
        factor = self.number((*loc, "factor"), data.get("factor", default.factor), 1, 10, False)
        cap = data.get("max_backoff", default.max_backoff)
        max_backoff = self.duration((*loc, "max_backoff"), cap)
        if backoff is not None and max_backoff is not None and max_backoff < backoff:
            self.fail((*loc, "max_backoff"), "max_backoff must not be shorter than backoff")
        return RetryPolicy(
            attempts=int(attempts if attempts is not None else default.attempts),
            backoff=backoff or default.backoff,
            factor=factor or default.factor,
            max_backoff=max_backoff or default.max_backoff,
        )

    def approval(self, loc: Loc, kind: StepKind | None, value: Any) -> ApprovalSpec | None:
        if value is None:
            return None
        if kind in (StepKind.NOTIFY, StepKind.FOLLOWUP):
            self.fail(loc, f"{kind} steps cannot need approval; gate the step that acts instead")
        data = self.mapping(loc, value, _APPROVAL_KEYS)
        if data is None:
            return None
        raw = self.need(data, loc, "pattern")
        if raw == "inform":
            self.fail((*loc, "pattern"), "'inform' is not an approval: use a notify step")
            pattern = None
        else:
            pattern = self.choice((*loc, "pattern"), raw, ("draft", "confirm", "select"))
        expires = self.duration((*loc, "expires"), data.get("expires", timedelta(hours=48)))
        title = data.get("title")
        if title is not None and self.string((*loc, "title"), title) is not None:
            self.templates((*loc, "title"), title)
        return ApprovalSpec(
            pattern=cast(ApprovalPattern, pattern or "draft"),
            expires=expires or timedelta(hours=48),
            title=title if isinstance(title, str) else None,
        )
