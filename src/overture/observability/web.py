"""Server spans for the HTTP service (OpenTelemetry's FastAPI instrumentation), while tracing is on.

Each request is a span named by its route, parent of the ingest span an event or webhook opens.
The probes and /metrics are left out (a scraper would fill the traces with them), and so are
the ASGI send/receive sub-spans. URLs on the span go through the same redaction as the logs'
(passed in by the HTTP layer, which owns it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from overture.observability import tracing

if TYPE_CHECKING:
    from fastapi import FastAPI

Redact = Callable[[str], str]

UNTRACED_PATHS = "/healthz,/readyz,/metrics"
# Attributes of the server span that can hold the query string (older and newer conventions).
_URLS = ("http.url", "url.full")
_TARGETS = ("http.target",)
_HOST = "http://host"


def _redacting(redact: Redact) -> Callable[[Any, dict[str, Any]], None]:
    """A server-request hook that rewrites the span's URL attributes through ``redact``."""

    def hook(span: Any, scope: dict[str, Any]) -> None:
        if not span or not span.is_recording() or not scope.get("query_string"):
            return
        attributes = getattr(span, "attributes", None) or {}
        for name, value in attributes.items():
            if not isinstance(value, str):
                continue
            if name in _URLS:
                span.set_attribute(name, redact(value))
            elif name in _TARGETS:  # a request target: redacted as the path of a URL
                span.set_attribute(name, redact(_HOST + value).removeprefix(_HOST))
            elif name == "url.query":
                span.set_attribute(name, redact(f"{_HOST}/?{value}").partition("?")[2])

    return hook


def instrument(api: FastAPI, redact: Redact) -> bool:
    """Trace ``api``'s requests through the configured provider, URLs passed through
    ``redact``; False (and nothing done) when tracing is off."""
    provider = tracing.provider()
    if provider is None:
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        api,
        tracer_provider=provider,
        server_request_hook=_redacting(redact),
        excluded_urls=UNTRACED_PATHS,
        exclude_spans=["receive", "send"],
    )
    return True
