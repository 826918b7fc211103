"""What both remote providers share: reading answers, describing problems, reading 429s."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from overture.llm.base import LLMRequest
from overture.llm.remote import describe, parse_json, rate_limited, schema_name


class Item(BaseModel):
    owner: str
    due: str


class Items(BaseModel):
    items: list[Item]


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', '  {"a": 1}\n', '```json\n{"a": 1}\n```', '```\n{"a": 1}\n```', '```{"a": 1}```'],
)
def test_json_objects_are_read_even_inside_a_code_fence(text: str) -> None:
    """JSON-mode models sometimes fence their object; the object inside is taken."""
    assert parse_json(text) == ({"a": 1}, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "the answer was empty"),
        ("  ", "the answer was empty"),
        ('{"a": 1', "not valid JSON (Expecting ',' delimiter at line 1 column 8)"),
        ("[1, 2]", "the answer is a JSON list, not an object"),
    ],
)
def test_unreadable_answers_are_described_without_their_text(text: str | None, problem: str) -> None:
    """The problem names the position or type, never the content (it may hold customer data)."""
    value, found = parse_json(text)
    assert value is None and found is not None and problem in found


def test_schema_problems_name_paths_not_values() -> None:
    """Validation errors become `path: message`, capped, without the offending values."""
    bad = {"items": [{"owner": "secret-owner-name"}] * 10}
    with pytest.raises(ValidationError) as caught:
        Items.model_validate(bad)
    text = describe(caught.value)
    assert text.startswith("schema mismatch: items.0.due: Field required")
    assert "(and 2 more)" in text and "secret-owner-name" not in text


def test_schema_name_is_safe_for_both_apis() -> None:
    """Task names become [a-zA-Z0-9_-]{1,64}; an unusable one falls back to the schema's name."""
    assert schema_name(LLMRequest("draft follow-up email!", "", {}, Items)) == "draft_follow-up_email"
    assert schema_name(LLMRequest("???", "", {}, Items)) == "Items"
    assert len(schema_name(LLMRequest("x" * 100, "", {}, Items))) == 64


def test_retry_after_as_an_http_date_is_counted_from_the_responses_date() -> None:
    """Retry-After may be an HTTP date; the wait is measured from the response's own Date."""
    headers = {"retry-after": "Sat, 21 Nov 2026 10:05:00 GMT", "date": "Sat, 21 Nov 2026 10:00:00 GMT"}
    assert rate_limited("openai", headers, "slow down").retry_after_s == 300.0
    assert rate_limited("openai", {"retry-after-ms": "soon"}, "x").retry_after_s is None
