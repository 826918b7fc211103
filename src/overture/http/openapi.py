"""The OpenAPI document, finished so that it says what the service does.

FastAPI documents validation errors as ``application/json`` ``HTTPValidationError``; this
service answers them (and every other error) as ``application/problem+json``. The event
body is read by hand for precise errors, so its schema is added here from the engine's
own wire model, with the event types this service knows. And what every body must be to be
stored (no NUL in any text or key, at any depth) is stated on every request schema, so that
a client generating requests from the document makes only ones the service accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from overture.core.events import EventIn
from overture.http import lean
from overture.http.api.models import Problem
from overture.http.problem import MEDIA_TYPE, problems

_REF_TEMPLATE = "#/components/schemas/{model}"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
#: The request bodies' schemas, on which the storage rules are stated.
_REQUEST_SCHEMAS = frozenset({"EventIn", "DecisionIn", "OrgIn", "UserIn"})
_NO_NUL = "^[^\\u0000]*$"
#: Any JSON value both databases store: no NUL in a string or a key, at any depth.
_STORABLE = "StorableValue"
_STORABLE_REF = {"$ref": _REF_TEMPLATE.format(model=_STORABLE)}
_STORABLE_SCHEMA = {
    "description": "Any JSON value without NUL characters in its strings and keys.",
    "anyOf": [
        {"type": "string", "pattern": _NO_NUL},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": _STORABLE_REF},
        {"type": "object", "propertyNames": {"pattern": _NO_NUL}, "additionalProperties": _STORABLE_REF},
    ],
}
_RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}


def storable(schema: Any) -> None:
    """State the storage rules on a request schema, in place: strings without a pattern or a
    set of values get one refusing NUL, objects' keys too, and any-valued parts become
    ``StorableValue``."""
    if isinstance(schema, list):
        for item in schema:
            storable(item)
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
        schema["pattern"] = _NO_NUL
    if kind == "object" and "additionalProperties" in schema and schema["additionalProperties"] is not False:
        schema.setdefault("propertyNames", {"pattern": _NO_NUL})
        if schema["additionalProperties"] in (True, {}):
            schema["additionalProperties"] = _STORABLE_REF
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            for child in value.values():
                storable(child)
        elif (
            key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties") and value is not _STORABLE_REF
        ):
            storable(value)


def finish(document: dict[str, Any], event_types: Sequence[str] = ()) -> dict[str, Any]:
    """Add the Problem and EventIn schemas (``type`` one of ``event_types`` when given); state
    the storage rules on request schemas; document every 422 as problem+json, and a 429 (with
    ``Retry-After``) wherever authentication can fail."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, EventIn):
        schema = model.model_json_schema(ref_template=_REF_TEMPLATE)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    if event_types:
        schemas["EventIn"]["properties"]["type"]["enum"] = sorted(event_types)
    for name, schema in schemas.items():
        if name in _REQUEST_SCHEMAS:
            storable(schema)
    schemas[_STORABLE] = _STORABLE_SCHEMA
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
    """FastAPI with the finished OpenAPI document at /openapi.json, and the routes named by
    ``lean_routes`` answered on a shorter stack (see ``overture.http.lean``)."""

    lean_routes: lean.Routes = {}
    _lean: dict[tuple[str, str], ASGIApp] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.lean_routes:
            if self._lean is None:
                self._lean = lean.stacks(self, self.lean_routes)
            app = self._lean.get((scope["method"], scope["path"]))
            if app is not None:
                scope["app"] = self
                await app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            app = getattr(self.state, "overture", None)
            types = sorted(app.registry.sequences) if app is not None else []
            self.openapi_schema = finish(super().openapi(), types)
        return self.openapi_schema
