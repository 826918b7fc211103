"""The one expression language of sequence files: Jinja2 in an immutable sandbox, never eval.

Conditions (``when:``) treat anything missing as falsy, because "no output yet" is a normal
answer to a question. Templates (``with:``, titles) fail loudly on anything missing, because a
message or CRM write built from a hole is worse than no message at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, Template, Undefined
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from overture.errors import OvertureError

MAX_RENDERED_CHARS = 1_000_000
_MAX_EXPONENT = 1_000
_MAX_CACHED = 4_096
_MARKERS = ("{{", "{%", "{#")
_SINGLE = re.compile(r"\A\s*\{\{-?(?P<expr>.*?)-?\}\}\s*\Z", re.DOTALL)


class ExpressionError(OvertureError):
    """An expression or template is invalid, unsafe or failed to evaluate."""

    def __init__(self, expression: str, problem: str) -> None:
        self.expression = expression
        self.problem = problem
        shown = expression if len(expression) <= 200 else expression[:197] + "..."
        super().__init__(f"expression {shown!r}: {problem}")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Refuses unsafe attributes at once (not as a falsy Undefined) and caps huge products."""

    intercepted_binops = frozenset({"*", "**"})

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > MAX_RENDERED_CHARS
                ):
                    raise SecurityError("the result of '*' would be too large")
        if operator == "**" and isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponents above {_MAX_EXPONENT} are not allowed")
        return super().call_binop(context, operator, left, right)


class _Missing(ChainableUndefined):
    """A missing value inside a condition: chains, compares false and tests false."""

    __slots__ = ()

    def __lt__(self, other: Any) -> bool:  # type: ignore[override]
        return False

    def __le__(self, other: Any) -> bool:  # type: ignore[override]
        return False

    def __gt__(self, other: Any) -> bool:  # type: ignore[override]
        return False

    def __ge__(self, other: Any) -> bool:  # type: ignore[override]
        return False


def has_template_syntax(text: str) -> bool:
    """Whether a string contains Jinja markers and so needs rendering."""
    return any(marker in text for marker in _MARKERS)


class Expressions:
    """Compiles and evaluates expressions and templates, caching compiled forms by source."""

    def __init__(self) -> None:
        self._env = _Sandbox(autoescape=False, undefined=StrictUndefined)
        self._condition_env = self._env.overlay(undefined=_Missing)
        self._conditions: dict[str, TemplateExpression] = {}
        self._templates: dict[str, TemplateExpression | Template] = {}

    def check(self, source: str) -> None:
        """Syntax-check a condition expression."""
        self._condition(source)

    def check_template(self, value: Any) -> None:
        """Syntax-check every string inside a nested dict/list value."""
        if isinstance(value, str):
            if has_template_syntax(value):
                self._template(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                self.check_template(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.check_template(item)

    def condition(self, expr: str, scope: Mapping[str, Any]) -> bool:
        """Evaluate a condition; missing names or attributes count as false, never as errors."""
        compiled = self._condition(expr)
        try:
            return bool(compiled(scope))
        except UndefinedError:
            return False
        except Exception as exc:
            raise _runtime_error(expr, exc) from None

    def render(self, value: Any, scope: Mapping[str, Any]) -> Any:
        """Render templates inside value; "{{ expr }}" alone yields expr's native value."""
        if isinstance(value, str):
            return self._render_text(value, scope) if has_template_syntax(value) else value
        if isinstance(value, Mapping):
            return {key: self.render(item, scope) for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item, scope) for item in value]
        if isinstance(value, tuple):
            return tuple(self.render(item, scope) for item in value)
        return value

    def _render_text(self, source: str, scope: Mapping[str, Any]) -> Any:
        compiled = self._template(source)
        try:
            if isinstance(compiled, Template):
                result: Any = compiled.render(scope)
            else:
                result = _detached(compiled(scope))
        except ExpressionError:
            raise
        except Exception as exc:
            raise _runtime_error(source, exc) from None
        if isinstance(result, str) and len(result) > MAX_RENDERED_CHARS:
            raise ExpressionError(source, f"rendered text is longer than {MAX_RENDERED_CHARS} characters")
        return result

    def _condition(self, source: str) -> TemplateExpression:
        found = self._conditions.get(source)
        if found is None:
            if not isinstance(source, str):
                raise ExpressionError(repr(source), "a condition must be a string")
            try:
                found = self._condition_env.compile_expression(source, undefined_to_none=False)
            except TemplateSyntaxError as exc:
                raise ExpressionError(source, f"syntax error: {exc.message}") from None
            _remember(self._conditions, source, found)
        return found

    def _template(self, source: str) -> TemplateExpression | Template:
        found = self._templates.get(source)
        if found is None:
            match = _SINGLE.match(source)
            if match is not None:
                try:
                    found = self._env.compile_expression(match["expr"], undefined_to_none=False)
                except TemplateSyntaxError:
                    found = None  # e.g. "{{ a }} and {{ b }}": a template, not one expression
            if found is None:
                try:
                    found = self._env.from_string(source)
                except TemplateSyntaxError as exc:
                    raise ExpressionError(source, f"syntax error: {exc.message}") from None
            _remember(self._templates, source, found)
        return found


def _detached(value: Any) -> Any:
    """A plain copy of a native result, so callers cannot mutate the scope through it."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming what is missing
    if callable(value):
        raise TypeError("the value is a method, not data; write x['name'] for such a key")
    if isinstance(value, Mapping):
        return {key: _detached(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_detached(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_detached(item) for item in value)
    return value


def _runtime_error(source: str, exc: Exception) -> ExpressionError:
    if isinstance(exc, SecurityError):
        return ExpressionError(source, f"refused by the sandbox: {exc}")
    if isinstance(exc, UndefinedError):
        return ExpressionError(source, f"undefined: {exc.message}")
    return ExpressionError(source, f"{type(exc).__name__}: {exc}")


def _remember(cache: dict[str, Any], source: str, compiled: Any) -> None:
    if len(cache) >= _MAX_CACHED:
        cache.clear()
    cache[source] = compiled
