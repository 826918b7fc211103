"""The sandboxed expression language: conditions, native and string rendering, refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from overture.sequences.expressions import MAX_RENDERED_CHARS, ExpressionError, Expressions


@pytest.fixture
def expressions() -> Expressions:
    return Expressions()


@pytest.fixture
def scope() -> dict[str, Any]:
    return {
        "event": {
            "type": "meeting_ended",
            "source": "zoom",
            "org_id": "org-1",
            "user_id": "user-1",
            "payload": {"kind": "call", "meeting_id": "m-42", "attendees": ["a", "b"], "n": 3},
        },
        "context": {"tz": "Europe/Berlin"},
        "outputs": {"detect-intents": {"count": 2, "intents": [{"kind": "demo"}]}},
    }


def test_single_expression_renders_native_value(expressions: Expressions, scope: dict[str, Any]) -> None:
    """A string that is exactly one {{ expr }} yields the expression's native value."""
    assert expressions.render("{{ event.payload.n }}", scope) == 3
    assert expressions.render("  {{ event.payload.attendees }} ", scope) == ["a", "b"]
    assert expressions.render("{{ outputs['detect-intents'] }}", scope) == {
        "count": 2,
        "intents": [{"kind": "demo"}],
    }
    assert expressions.render("{{ none }}", scope) is None
    assert expressions.render("{{ event.payload.meeting_id }}", scope) == "m-42"


def test_native_string_is_not_reinterpreted(expressions: Expressions) -> None:
    """A string value that looks like a number stays a string in native rendering."""
    assert expressions.render("{{ x }}", {"x": "123"}) == "123"


def test_mixed_text_renders_to_string(expressions: Expressions, scope: dict[str, Any]) -> None:
    """Text around an expression, or several expressions, render to one string."""
    assert expressions.render("Meeting {{ event.payload.meeting_id }} ended", scope) == ("Meeting m-42 ended")
    assert expressions.render("{{ event.payload.n }}{{ event.payload.n }}", scope) == "33"
    rendered = expressions.render("{% for a in event.payload.attendees %}{{ a }};{% endfor %}", scope)
    assert rendered == "a;b;"


def test_plain_values_are_returned_unchanged(expressions: Expressions) -> None:
    """Strings without template syntax and non-strings pass through untouched."""
    marker = object()
    assert expressions.render("no braces here", {}) == "no braces here"
    assert expressions.render(5, {}) == 5
    assert expressions.render(None, {}) is None
    assert expressions.render(marker, {}) is marker


def test_nested_render(expressions: Expressions, scope: dict[str, Any]) -> None:
    """Dicts, lists and tuples are rendered recursively, keeping their shape."""
    value = {
        "id": "{{ event.payload.meeting_id }}",
        "people": ["{{ event.payload.attendees[0] }}", "fixed", 7],
        "pair": ("{{ event.payload.n }}", "x"),
        "deep": {"count": "{{ outputs['detect-intents'].count }}"},
    }
    assert expressions.render(value, scope) == {
        "id": "m-42",
        "people": ["a", "fixed", 7],
        "pair": (3, "x"),
        "deep": {"count": 2},
    }


def test_render_result_does_not_alias_scope(expressions: Expressions, scope: dict[str, Any]) -> None:
    """Mutating a native result leaves the scope as it was."""
    result = expressions.render("{{ outputs['detect-intents'] }}", scope)
    result["intents"].append("x")
    assert scope["outputs"]["detect-intents"]["intents"] == [{"kind": "demo"}]


def test_condition_truthiness(expressions: Expressions, scope: dict[str, Any]) -> None:
    """Conditions evaluate to booleans over the event, context and outputs."""
    assert expressions.condition(
        "outputs['detect-intents'].count > 0 and event.payload.kind == 'call'", scope
    )
    assert not expressions.condition("event.payload.kind == 'email'", scope)
    assert expressions.condition("'a' in event.payload.attendees", scope)
    assert expressions.condition("context.tz", scope)


def test_condition_missing_values_are_falsy(expressions: Expressions, scope: dict[str, Any]) -> None:
    """Missing outputs, names and attributes make a condition false, never an error."""
    assert not expressions.condition("outputs['not-run'].count > 0", scope)
    assert not expressions.condition("outputs['not-run'].count", scope)
    assert expressions.condition("not outputs['not-run'].count > 0", scope)
    assert not expressions.condition("nothing.at.all", scope)
    assert not expressions.condition("missing.count + 1 > 0", scope)
    assert not expressions.condition("'x' in outputs.nope.items_list", scope)
    assert not expressions.condition("event.payload.absent == 'call'", scope)


def test_render_missing_values_fail_loudly(expressions: Expressions, scope: dict[str, Any]) -> None:
    """A template referring to a missing output, name or attribute is an ExpressionError."""
    with pytest.raises(ExpressionError, match="not-run"):
        expressions.render("{{ outputs['not-run'] }}", scope)
    with pytest.raises(ExpressionError, match="undefined"):
        expressions.render("Hi {{ nobody }}", scope)
    with pytest.raises(ExpressionError, match="absent"):
        expressions.render("{{ event.payload.absent.deeper }}", scope)
    with pytest.raises(ExpressionError, match="absent"):
        expressions.render({"x": ["{{ event.payload.absent }}"]}, scope)
    assert expressions.render("{{ nobody | default('all') }}", scope) == "all"


def test_error_names_the_expression(expressions: Expressions) -> None:
    """The error message names the expression and carries the problem separately."""
    with pytest.raises(ExpressionError) as caught:
        expressions.render("{{ ghost }}", {})
    assert "{{ ghost }}" in str(caught.value)
    assert caught.value.expression == "{{ ghost }}"
    assert "ghost" in caught.value.problem


@pytest.mark.parametrize(
    "source",
    [
        "().__class__.__bases__",
        "event.__class__",
        "''.__class__.__mro__",
        "event.payload.__init__.__globals__",
        "outputs.update({})",
        "outputs['detect-intents'].intents.append(1)",
        "event['__class__']",
        "lipsum.__globals__",
    ],
)
def test_sandbox_escapes_are_refused(expressions: Expressions, scope: dict[str, Any], source: str) -> None:
    """Dunder access and mutating calls are refused in both conditions and templates."""
    before = copy.deepcopy(scope)
    with pytest.raises(ExpressionError, match="sandbox"):
        expressions.condition(source, scope)
    with pytest.raises(ExpressionError, match="sandbox"):
        expressions.render("{{ " + source + " }}", scope)
    with pytest.raises(ExpressionError, match="sandbox"):
        expressions.render("text {{ " + source + " }}", scope)
    assert scope == before


def test_size_cap(expressions: Expressions) -> None:
    """Rendered text beyond the cap, or huge products, are refused."""
    with pytest.raises(ExpressionError, match="too large"):
        expressions.render("{{ 'x' * 2000000 }}", {})
    loop = "{% for i in range(3000) %}{{ 'x' * 500 }}{% endfor %}"
    with pytest.raises(ExpressionError, match=str(MAX_RENDERED_CHARS)):
        expressions.render(loop, {})
    with pytest.raises(ExpressionError, match="exponent"):
        expressions.render("{{ 9 ** 999999 }}", {})


def test_check_reports_syntax_errors(expressions: Expressions) -> None:
    """check and check_template catch bad syntax before anything runs."""
    expressions.check("event.payload.kind == 'call'")
    with pytest.raises(ExpressionError, match="syntax error"):
        expressions.check("event.payload.kind ===")
    expressions.check_template({"a": ["{{ x }}", "plain", 3], "b": {"c": "{% if x %}y{% endif %}"}})
    with pytest.raises(ExpressionError, match="syntax error"):
        expressions.check_template({"a": ["ok", {"b": "{{ x + }}"}]})
    with pytest.raises(ExpressionError, match="syntax error"):
        expressions.check_template("{% if x %}never closed")


def test_runtime_errors_are_expression_errors(expressions: Expressions) -> None:
    """Errors while evaluating, such as dividing by zero, surface as ExpressionError."""
    with pytest.raises(ExpressionError, match="ZeroDivisionError"):
        expressions.render("{{ 1 / 0 }}", {})
    with pytest.raises(ExpressionError, match="ZeroDivisionError"):
        expressions.condition("1 / 0", {})


def test_compiled_forms_are_cached(expressions: Expressions) -> None:
    """The same source compiles once and gives the same result on reuse."""
    assert expressions.condition("x > 1", {"x": 2})
    assert not expressions.condition("x > 1", {"x": 0})
    assert expressions.render("{{ x }}", {"x": 1}) == 1
    assert expressions.render("{{ x }}", {"x": [2]}) == [2]
