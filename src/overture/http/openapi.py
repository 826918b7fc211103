"""The OpenAPI document, finished so that it says what the service does.

FastAPI documents validation errors as ``application/json`` ``HTTPValidationError``; this
service answers them (and every other error) as ``application/problem+json``. The event
body is read by hand for precise errors, so its schema is added here from the engine's
own wire model.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from overture.core.events import EventIn
from overture.http.problem import MEDIA_TYPE, Problem, problems

_REF_TEMPLATE = "#/components/schemas/{model}"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
_RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Add the Problem and EventIn schemas; document every 422 as problem+json, and a 429 (with
    ``Retry-After``) wherever authentication can fail."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, EventIn):
        schema = model.model_json_schema(ref_template=_REF_TEMPLATE)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            invalid = responses.get("422")
            if invalid is not None and MEDIA_TYPE not in invalid.get("content", {}):
                responses["422"] = problems(422)[422]
            if "401" in responses:  # failed authentication is throttled wherever it is checked
                throttled = responses.setdefault("429", problems(429)[429])
                throttled.setdefault("headers", {"Retry-After": _RETRY_AFTER})
    for name in _FASTAPI_422:
        schemas.pop(name, None)
    return document


class OvertureAPI(FastAPI):
    """FastAPI with the finished OpenAPI document at /openapi.json."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = finish(super().openapi())
        return self.openapi_schema
