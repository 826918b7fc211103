"""Traces: a span per ingest, per job run and per step, exported over OTLP only when configured.

Spans carry names and ids (event type, step, org, job, event), never a payload: no email
address or transcript text reaches a collector. While tracing is off each hook returns one
shared object that does nothing, so the engine's hot path pays a call and a global read per
span, and OpenTelemetry is not even imported.

A job run is a trace of its own (the worker claims it later, maybe elsewhere); its span
carries the ``overture.event_id`` that the ingest span recorded, and the follow-ups a step
queues are ingested inside that step's span.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from overture import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer

    from overture.core.records import Event, Job
    from overture.sequences import Step
    from overture.settings import Settings

SERVICE_NAME = "overture"

# Attribute names (one namespace, so a collector's query finds them all).
EVENT_TYPE = "overture.event_type"
EVENT_SOURCE = "overture.event_source"
EVENT_ID = "overture.event_id"
ORG_ID = "overture.org_id"
JOB_ID = "overture.job_id"
PARENT_JOB_ID = "overture.parent_job_id"
STEP = "overture.step"
STEP_INDEX = "overture.step_index"
STEP_USES = "overture.step_uses"
OUTCOME = "overture.outcome"
REASON = "overture.reason"
JOB_STATUS = "overture.job_status"
STEP_STATUS = "overture.step_status"


class SpanLike(Protocol):
    """What the hooks do with a span: add what became of the work."""

    def set_attribute(self, key: str, value: str | int) -> None: ...

    def set_attributes(self, attributes: dict[str, str | int]) -> None: ...


class _Off:
    """The span while tracing is off: entering, leaving and setting attributes do nothing."""

    __slots__ = ()

    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_attribute(self, key: str, value: str | int) -> None:
        return None

    def set_attributes(self, attributes: dict[str, str | int]) -> None:
        return None


OFF = _Off()


class _Tracing:
    """Where spans go: an OpenTelemetry tracer and its provider while tracing is on."""

    __slots__ = ("provider", "tracer")

    def __init__(self) -> None:
        self.provider: TracerProvider | None = None
        self.tracer: Tracer | None = None


_on = _Tracing()


def configure(provider: TracerProvider | None) -> None:
    """Send spans through ``provider`` from now on; None turns tracing off.

    Tests pass a provider with an in-memory exporter; ``configure_from`` builds the OTLP one.
    The process's global OpenTelemetry provider is left alone.
    """
    _on.provider = provider
    _on.tracer = provider.get_tracer("overture", __version__) if provider is not None else None


def provider() -> TracerProvider | None:
    """The provider spans go through, or None while tracing is off."""
    return _on.provider


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector given by its base URL (or already by that URL)."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def configure_from(settings: Settings) -> bool:
    """Turn tracing on when ``otlp_endpoint`` is set: spans batched to the collector over
    OTLP/HTTP. Standard ``OTEL_*`` variables still apply (headers, service name)."""
    if not settings.otlp_endpoint:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.version": __version__})
    if not os.environ.get("OTEL_SERVICE_NAME") and "service.name=" not in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    ):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    made = TracerProvider(resource=resource)  # flushed and shut down at exit
    made.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint))))
    configure(made)
    return True


def current_ids() -> tuple[str, str] | None:
    """The trace and span ids (hex) of the span in progress here, for a log line; None if none."""
    if _on.tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def ingest_span(event: Event) -> AbstractContextManager[SpanLike]:
    """A span around gating and recording one event."""
    tracer = _on.tracer
    if tracer is None:
        return OFF
    attributes = {EVENT_TYPE: event.type, EVENT_SOURCE: event.source, ORG_ID: event.org_id}
    if event.parent_job_id:
        attributes[PARENT_JOB_ID] = event.parent_job_id
    return tracer.start_as_current_span(f"ingest {event.type}", attributes=attributes)


def job_span(job: Job) -> AbstractContextManager[SpanLike]:
    """A span around one run of a claimed job, until it pauses, ends or is handed back."""
    tracer = _on.tracer
    if tracer is None:
        return OFF
    attributes: dict[str, str | int] = {
        EVENT_TYPE: job.event_type,
        ORG_ID: job.org_id,
        JOB_ID: job.id,
        EVENT_ID: job.event_id,
        "overture.first_step": job.current_step,
        "overture.chain_depth": job.chain_depth,
    }
    if job.parent_job_id:
        attributes[PARENT_JOB_ID] = job.parent_job_id
    return tracer.start_as_current_span(f"job {job.event_type}", attributes=attributes)


def step_span(job: Job, step: Step) -> AbstractContextManager[SpanLike]:
    """A span around one step: running it and committing what it produced."""
    tracer = _on.tracer
    if tracer is None:
        return OFF
    attributes: dict[str, str | int] = {
        EVENT_TYPE: job.event_type,
        STEP: step.name,
        STEP_INDEX: step.index,
        STEP_USES: step.uses,
        ORG_ID: job.org_id,
        JOB_ID: job.id,
    }
    return tracer.start_as_current_span(f"step {step.name}", attributes=attributes)
