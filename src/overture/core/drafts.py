"""What a person may change in a draft, and whether the change is acceptable: pure rules.

Slack's edit modal and the web inbox's edit form show the same fields and refuse the same
mistakes, field by field, so a person sees the error next to what they typed. The approvals
path itself only checks that edited fields exist; these rules are about the content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

#: Draft fields a person edits, in the order they are shown, with their labels.
LABELS = {"to": "Recipient", "subject": "Subject", "body": "Body"}
#: The longest value any edit form accepts (Slack's plain_text_input maximum).
MAX_CHARS = 3000
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


def editable_fields(draft: Mapping[str, Any]) -> list[str]:
    """The text fields of ``draft`` a person edits: recipient, subject and body when present."""
    return [name for name in LABELS if isinstance(draft.get(name), str)]


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def is_address(value: str) -> bool:
    """One email address, bare or as ``Name <address>``."""
    text = value.strip()
    if not text or "," in text or ";" in text:
        return False
    _, address = parseaddr(text)
    return bool(address) and _ADDRESS.match(address) is not None


def check_edits(draft: Mapping[str, Any], edits: Mapping[str, Any]) -> dict[str, str]:
    """The problems with ``edits`` to ``draft``, as ``{field: message}``; empty when acceptable."""
    errors: dict[str, str] = {}
    allowed = set(editable_fields(draft))
    for name, value in edits.items():
        if name not in allowed:
            errors[name] = f"{label(name)} cannot be edited here."
        elif not isinstance(value, str):
            errors[name] = f"{label(name)} must be text."
        elif len(value) > MAX_CHARS:
            errors[name] = f"{label(name)} is too long: at most {MAX_CHARS} characters."
        elif name == "to" and not is_address(value):
            errors[name] = "Enter one valid email address, like dana@example.com."
        elif name == "body" and not value.strip():
            errors[name] = "The body cannot be empty."
    return errors


def changed(draft: Mapping[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields whose value differs from the draft's (an edit records what changed)."""
    return {k: v for k, v in edits.items() if draft.get(k) != v}
