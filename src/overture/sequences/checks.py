"""Checking composed sequence data field by field, collecting every problem with its line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from overture.durations import parse_duration
from overture.errors import SequenceFileError
from overture.sequences import schema
from overture.sequences.expressions import ExpressionError, Expressions
from overture.sequences.model import (
    ActiveHours,
    ApprovalPattern,
    ApprovalSpec,
    DedupeSpec,
    FailurePolicy,
    Loc,
    RetryPolicy,
    Sequence,
    Step,
    StepKind,
)
from overture.sequences.payload import read_schema
from overture.sequences.reads import OutputRead, reads_in_condition, reads_in_template
from overture.sequences.source import _dotted, _freeze, _kind, _suggest

_Rule = schema.Pattern
_USES_HELP = "expected skill:KEY, function:NAME, crm:ACTION, notify or followup"
_MISSING: Any = object()


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
        if rule is not None and not rule.regex.fullmatch(value):
            self.fail(loc, f"{value!r} is not a valid {rule.wanted}")
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

    def bounded(self, loc: Loc, data: dict[str, Any], key: schema.Key, whole: bool) -> float | None:
        assert key.low is not None and key.high is not None
        return self.number(loc, data.get(key.name, key.default), key.low, key.high, whole)

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
        top = self.mapping((), data, schema.SEQUENCE.names) or {}
        event_type = self.string(("event_type",), self.need(top, (), "event_type"), schema.EVENT_TYPE)
        stem = Path(self.path).stem
        if event_type is not None and event_type != stem:
            problem = f"{event_type!r} must equal the file name's stem {stem!r}"
            self.fail(("event_type",), problem)
        description = self.string(("description",), top.get("description") or "") or ""
        hours_key = schema.SEQUENCE["active_hours"]
        hours = self.choice(("active_hours",), top.get("active_hours", hours_key.default), hours_key.choices)
        dedupe = self.dedupe(top.get("dedupe"))
        payload = read_schema(top.get("payload"), self.fail)
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
            payload=payload,
        )

    def dedupe(self, value: Any) -> DedupeSpec | None:
        data = self.mapping(("dedupe",), value, schema.DEDUPE.names) if value is not None else None
        if data is None:
            return None
        where = ("dedupe", "fields")
        fields = self.strings(where, self.need(data, ("dedupe",), "fields"), schema.FIELD_PATH)
        if fields == ():
            self.fail(where, "list at least one payload field")
        default = schema.DEDUPE["window"].default
        window = self.duration(("dedupe", "window"), data.get("window", default))
        return DedupeSpec(fields or (), window or default)

    def step(self, index: int, raw: Any, names: dict[str, int]) -> Step | None:
        loc: Loc = ("steps", index)
        data = self.mapping(loc, raw, schema.STEP.names)
        if data is None:
            return None
        name = self.string((*loc, "name"), self.need(data, loc, "name"), schema.STEP_NAME)
        earlier = tuple(names)
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
        ai = self.flag((*loc, "ai"), data.get("ai", schema.STEP["ai"].default))
        failure = schema.STEP["on_failure"]
        policy = self.choice((*loc, "on_failure"), data.get("on_failure", failure.default), failure.choices)
        on_failure = FailurePolicy(policy or failure.default)
        retry = self.retry((*loc, "retry"), data.get("retry"), on_failure)
        timeout = data.get("timeout")
        timeout = self.duration((*loc, "timeout"), timeout) if timeout is not None else None
        sources = data.get("requires_context", [])
        requires = self.strings((*loc, "requires_context"), sources, schema.SOURCE_NAME)
        effect = self.flag((*loc, "effect"), data.get("effect", kind in (StepKind.CRM, StepKind.NOTIFY)))
        approval = self.approval((*loc, "approval"), kind, data.get("approval"))
        self.output_reads(loc, data, earlier)
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

    def output_reads(self, loc: Loc, data: dict[str, Any], earlier: tuple[str, ...]) -> None:
        """A step reads only the outputs of steps before it: any other name is never there."""
        found: list[tuple[Loc, OutputRead]] = []
        if isinstance(data.get("with"), dict):
            for key, value in data["with"].items():
                found += [((*loc, "with", str(key)), r) for r in reads_in_template(value)]
        if isinstance(data.get("when"), str):
            found += [((*loc, "when"), r) for r in reads_in_condition(data["when"])]
        approval = data.get("approval")
        if isinstance(approval, dict) and isinstance(approval.get("title"), str):
            found += [((*loc, "approval", "title"), r) for r in reads_in_template(approval["title"])]
        for where, read in found:
            if read.step not in earlier:
                before = f"steps before it: {', '.join(earlier)}" if earlier else "it is the first step"
                hint = _suggest(read.step, earlier)
                self.fail(
                    where,
                    f"reads outputs.{read.step}, but no earlier step is named {read.step!r}{hint} ({before})",
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
        if not schema.TARGET.fullmatch(target):
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
        data = self.mapping(loc, value, schema.RETRY.names)
        if data is None:
            return default
        attempts = self.bounded((*loc, "attempts"), data, schema.RETRY["attempts"], whole=True)
        backoff = self.duration((*loc, "backoff"), data.get("backoff", default.backoff), True)
        factor = self.bounded((*loc, "factor"), data, schema.RETRY["factor"], whole=False)
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
        data = self.mapping(loc, value, schema.APPROVAL.names)
        if data is None:
            return None
        raw = self.need(data, loc, "pattern")
        if raw == "inform":
            self.fail((*loc, "pattern"), "'inform' is not an approval: use a notify step")
            pattern = None
        else:
            pattern = self.choice((*loc, "pattern"), raw, schema.APPROVAL["pattern"].choices)
        expiry = schema.APPROVAL["expires"].default
        expires = self.duration((*loc, "expires"), data.get("expires", expiry))
        title = data.get("title")
        if title is not None and self.string((*loc, "title"), title) is not None:
            self.templates((*loc, "title"), title)
        return ApprovalSpec(
            pattern=cast(ApprovalPattern, pattern or "draft"),
            expires=expires or expiry,
            title=title if isinstance(title, str) else None,
        )
