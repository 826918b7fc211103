"""Traces of real work, caught by OpenTelemetry's in-memory exporter: the sales pack's story
call (`meeting_ended`) posted over HTTP and run by the worker is a request span holding its
ingest span, then a job span holding one span per step, with the follow-ups it queued ingested
inside the step that queued them. Spans carry names and ids only: no email address and no word
of the transcript. With a collector configured, spans leave over OTLP/HTTP (a loopback
collector decodes them); with none, nothing is traced."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from overture.app import App
from overture.clock import FakeClock
from overture.engine.admin.tokens import Tokens
from overture.observability import tracing
from overture.packs.sales import testing as t
from overture.settings import Settings
from overture.storage.tables.crm import transcripts
from tests.conftest import MECHANICS, event
from tests.integration.test_http_api import in_process, issue


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test, every finished span kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.configure(provider)
    yield exporter
    tracing.configure(None)
    provider.shutdown()


def tree(spans: Sequence[ReadableSpan]) -> str:
    """The spans as an indented tree per trace, children in start order, with the attributes
    that say what each span was about."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    ids = {s.context.span_id for s in spans if s.context}
    for s in sorted(spans, key=lambda s: s.start_time or 0):
        parent = s.parent.span_id if s.parent and s.parent.span_id in ids else None
        by_parent.setdefault(parent, []).append(s)
    shown = ("overture.step_status", "overture.job_status", "overture.outcome")
    lines: list[str] = []

    def walk(span: ReadableSpan, depth: int) -> None:
        attributes = span.attributes or {}
        notes = [f"{k.removeprefix('overture.')}={attributes[k]}" for k in shown if k in attributes]
        lines.append("  " * depth + span.name + (f"  [{', '.join(notes)}]" if notes else ""))
        for child in by_parent.get(span.context.span_id if span.context else None, []):
            walk(child, depth + 1)

    for root in by_parent.get(None, []):
        walk(root, 0)
    return "\n".join(lines)


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    found = [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]
    return sorted(found, key=lambda s: s.start_time or 0)


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


@pytest.fixture
def sales(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = t.sales_app(db_url, FakeClock(t.local(t.STORY_DAY, 10, 50)), tmp_path / "outbox")
    yield app
    app.close()


def test_a_meeting_ended_run_is_a_tree_of_ingest_job_and_step_spans(
    sales: App, spans: InMemorySpanExporter
) -> None:
    """The story call over HTTP, then the worker: request -> ingest; job -> steps in sequence
    order -> the follow-ups' ingests; each span with event type, step, org and job ids."""
    seed = t.load_seed(sales)
    secret = Tokens(sales.store, sales.clock).create(t.ORG, t.MAYA).secret
    with in_process(sales) as api:
        payload = {"meeting_id": seed.meetings["story"]}
        sent = api.post(
            "/v1/events",
            json=t.event("meeting_ended", payload, source="webhook:meetingbaas"),
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert sent.status_code == 202, sent.text
    job_id = sent.json()["job_id"]
    sales.run_until_idle()
    finished = spans.get_finished_spans()
    print(tree(finished))  # the span tree, for a reader running with -s

    (request,) = [s for s in finished if s.kind == SpanKind.SERVER]
    assert request.name == "POST /v1/events"
    (ingest,) = children(finished, request)
    assert ingest.name == "ingest meeting_ended"
    assert dict(ingest.attributes or {}) == {
        "overture.event_type": "meeting_ended",
        "overture.event_source": "webhook:meetingbaas",
        "overture.org_id": t.ORG,
        "overture.outcome": "accepted",
        "overture.event_id": sent.json()["event_id"],
        "overture.job_id": job_id,
    }

    (job,) = named(finished, "job meeting_ended")
    assert job.parent is None  # the worker's run is a trace of its own, tied by the event id
    attributes = dict(job.attributes or {})
    assert attributes["overture.job_id"] == job_id and attributes["overture.org_id"] == t.ORG
    assert attributes["overture.event_id"] == sent.json()["event_id"]
    assert attributes["overture.job_status"] == "awaiting_approval"
    steps = children(finished, job)
    expected = [(name, status) for name, status in t.step_statuses(sales, job_id)]
    assert [
        (s.name.removeprefix("step "), (s.attributes or {})["overture.step_status"]) for s in steps
    ] == expected
    for index, step in enumerate(steps):
        assert {k: v for k, v in (step.attributes or {}).items() if k != "overture.step_status"} == {
            "overture.event_type": "meeting_ended",
            "overture.step": step.name.removeprefix("step "),
            "overture.step_index": index,
            "overture.step_uses": (step.attributes or {})["overture.step_uses"],
            "overture.org_id": t.ORG,
            "overture.job_id": job_id,
        }
    queued = {s.name: [c.name for c in children(finished, s)] for s in steps if children(finished, s)}
    assert queued == {
        "step queue-proposal": ["ingest proposal_generation"],
        "step queue-find-times": ["ingest calendar_find_times"],
    }
    for follow_up in ("proposal_generation", "calendar_find_times"):
        (child_job,) = named(finished, f"job {follow_up}")
        assert (child_job.attributes or {})["overture.parent_job_id"] == job_id

    with sales.store.read() as conn:
        said = [seg["text"] for row in conn.execute(sa.select(transcripts.c.segments)) for seg in row[0]]
    values = [str(v) for s in finished for v in (s.attributes or {}).values()]
    assert said and values
    assert not [v for v in values if "@" in v]
    assert not [v for v in values for words in said if words in v or (len(v) > 20 and v in words)]


def test_server_spans_keep_query_values_out(app: App, spans: InMemorySpanExporter) -> None:
    """A request's query string reaches the span with its values redacted; probes make no span."""
    org = issue(app, "acme")
    with in_process(app) as api:
        assert api.get("/v1/jobs?status=pending&note=ana@acme.test", headers=org).status_code == 200
        assert api.get("/healthz?probe=1").status_code == 200
    (request,) = spans.get_finished_spans()
    assert request.name == "GET /v1/jobs"
    url = str((request.attributes or {})["http.url"])
    assert url.endswith("/v1/jobs?[redacted]") and "ana@" not in url


def test_nothing_is_traced_unless_tracing_is_configured(app: App) -> None:
    """Off by default: the hooks hand back the one do-nothing span and no provider exists."""
    assert tracing.provider() is None
    assert not tracing.configure_from(Settings(database_url="sqlite://"))
    app.emit(event("five_steps"))
    assert app.run_until_idle() == 1
    with tracing.step_span(None, None) as span:  # type: ignore[arg-type]  # never read while off
        assert span is tracing.OFF


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector on loopback: keeps each export request it is sent."""

    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, *args: Any) -> None:
        return None


def test_a_configured_collector_receives_the_spans_over_otlp(db_url: str) -> None:
    """`otlp_endpoint` set: a job's spans are exported as OTLP protobuf to <endpoint>/v1/traces,
    named for the service."""
    handler = type("Keep", (Collector,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings = Settings(
        database_url=db_url, packs=[MECHANICS], otlp_endpoint=f"http://127.0.0.1:{server.server_port}"
    )
    app = App(settings)
    try:
        assert tracing.configure_from(settings)
        app.admin.add_org("acme", "Acme")
        app.admin.add_user("acme", "ana", "Ana", active_hours=None)
        app.emit(event("five_steps"))
        app.run_until_idle()
        provider = tracing.provider()
        assert provider is not None and provider.force_flush()
    finally:
        tracing.configure(None)
        app.close()
        server.shutdown()
        server.server_close()
    assert handler.received, "the collector was sent nothing"
    names: list[str] = []
    services: set[str] = set()
    for path, content_type, body in handler.received:
        assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            services |= {
                a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"
            }
            names += [s.name for scope in resource_spans.scope_spans for s in scope.spans]
    assert services == {"overture"}
    assert "ingest five_steps" in names and "job five_steps" in names
    assert sum(n.startswith("step ") for n in names) == 5
