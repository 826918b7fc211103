"""What a person may change in a draft, and which changes are refused, field by field."""

from __future__ import annotations

import pytest

from overture.core.drafts import changed, check_edits, editable_fields, is_address

DRAFT = {"to": "dana@example.com", "subject": "Hi", "body": "Text", "contact_id": "c1", "n": 3}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("dana@example.com", True),
        ("Dana Diaz <dana@example.co.uk>", True),
        ("dana@", False),
        ("dana at example.com", False),
        ("a@b.com, c@d.com", False),
        ("", False),
        ("dana@example", False),
    ],
)
def test_one_address_bare_or_named(value: str, ok: bool) -> None:
    """A recipient is exactly one address, with or without a display name."""
    assert is_address(value) is ok


def test_only_the_text_fields_are_editable() -> None:
    """Recipient, subject and body, in that order; ids and numbers are not for people to edit."""
    assert editable_fields(DRAFT) == ["to", "subject", "body"]
    assert check_edits(DRAFT, {"contact_id": "c2"}) == {"contact_id": "Contact id cannot be edited here."}


def test_each_mistake_is_reported_on_its_field() -> None:
    """A bad address, an empty body and an over-long subject are three errors, one per field."""
    errors = check_edits(DRAFT, {"to": "nope", "body": "  ", "subject": "x" * 3001})
    assert errors == {
        "to": "Enter one valid email address, like dana@example.com.",
        "body": "The body cannot be empty.",
        "subject": "Subject is too long: at most 3000 characters.",
    }
    assert check_edits(DRAFT, {"to": "x@y.org", "body": "New"}) == {}


def test_changed_keeps_only_what_differs() -> None:
    """Submitting a form unchanged is no edit at all."""
    assert changed(DRAFT, {"to": "dana@example.com", "body": "New"}) == {"body": "New"}
