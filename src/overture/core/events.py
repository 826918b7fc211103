"""Validating incoming events: precise errors, nothing half-accepted."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from overture.core.records import Event
from overture.core.storable import check_storable
from overture.errors import FieldsInvalid, ValidationFailed

MAX_PAYLOAD_BYTES = 256 * 1024
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"


class EventIn(BaseModel):
    """The wire shape of an event (docs/concepts.md, "Events")."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    source: str = Field(default="api", pattern=r"^[a-z][a-z0-9_]*(:[a-z0-9_.-]+)?$", max_length=64)
    org_id: str = Field(pattern=_ID)
    user_id: str = Field(pattern=_ID)
    payload: dict[str, Any] = Field(default_factory=dict)
    parent_job_id: str | None = Field(default=None, pattern=_ID)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    occurred_at: datetime | None = None
    not_before: datetime | None = None

    @field_validator("payload")
    @classmethod
    def _payload_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(json.dumps(value, separators=(",", ":")).encode())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"payload is not JSON-serialisable: {exc}") from None
        if size > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}")
        return value

    @field_validator("occurred_at", "not_before", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError("must be an ISO 8601 date-time") from None
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("must carry a time zone offset (e.g. Z or +02:00)")
        return value


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(field, message)`` per problem, in the order pydantic found them."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "event"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "string_pattern_mismatch":
            msg = f"invalid value {err.get('input')!r} (expected pattern {err['ctx']['pattern']})"
        problems.append((where, msg))
    return problems


def parse_event(data: Any, now: datetime) -> Event:
    """Validate raw event data (a dict from JSON) into an Event, or raise ValidationFailed."""
    if not isinstance(data, dict):
        raise ValidationFailed(f"event: expected a JSON object, got {type(data).__name__}")
    check_storable(data, "event")
    try:
        model = EventIn.model_validate(data)
    except ValidationError as exc:
        raise FieldsInvalid(validation_problems(exc)) from None
    return Event(
        type=model.type,
        source=model.source,
        org_id=model.org_id,
        user_id=model.user_id,
        payload=model.payload,
        occurred_at=model.occurred_at or now,
        parent_job_id=model.parent_job_id,
        idempotency_key=model.idempotency_key,
        not_before=model.not_before,
    )
