"""The dedupe key of an event: its idempotency key, the declared payload fields, or the payload."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from overture.core.records import Event
from overture.sequences import DedupeSpec

DEFAULT_WINDOW = timedelta(hours=1)
IDEMPOTENCY_WINDOW = timedelta(hours=24)


def _field(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def dedupe_key(event: Event, spec: DedupeSpec | None) -> str:
    """Same user, same type and same identifying content give the same key."""
    if event.idempotency_key:
        material: Any = ["idempotency", event.idempotency_key]
    elif spec is not None and spec.fields:
        material = ["fields", {f: _field(event.payload, f) for f in spec.fields}]
    else:
        material = ["payload", event.payload]
    blob = json.dumps([event.type, event.user_id, material], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def dedupe_window(event: Event, spec: DedupeSpec | None) -> timedelta:
    """How far back an identical event makes this one a duplicate."""
    window = spec.window if spec is not None else DEFAULT_WINDOW
    return max(window, IDEMPOTENCY_WINDOW) if event.idempotency_key else window
