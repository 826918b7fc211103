"""The Prometheus metrics: their names, labels and help, filled from one scrape's readings.

Labels are the event type and step wherever the figure belongs to a step, so a dashboard can
break any of them down by sequence. A figure that can fall (an effect retried after failing, a
receipt processed after being accepted) is a gauge of where things stand; one that only grows
is a counter. Label values are names from the packs and from Overture, never user data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from overture.core.records import JobStatus
from overture.observability.readings import Readings

STEP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 150.0)

#: (event type, step index) -> the step's name in the loaded sequence
StepName = Callable[[str, int | None], str]

Family = CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily


def families(r: Readings, step_name: StepName) -> Iterator[Family]:
    """Every metric family of one scrape."""
    yield from _queue(r)
    yield from _steps(r, step_name)
    yield from _llm(r, step_name)
    yield from _effects_and_receipts(r, step_name)
    decided = CounterMetricFamily(
        "overture_approval_decisions",
        "Approvals decided, by event type, step, decision (approved, edited, skipped, cancelled, "
        "expired) and the channel it came by (slack, web, api, cli, auto_approve_preference, expiry).",
        labels=["event_type", "step", "action", "channel"],
    )
    for (event_type, step, action, channel), n in sorted(r.decisions.items()):
        decided.add_metric([event_type, step, action, channel], n)
    yield decided


def _queue(r: Readings) -> Iterator[Family]:
    received = CounterMetricFamily(
        "overture_events", "Events received, by what the gates decided.", labels=["outcome"]
    )
    for outcome, n in sorted(r.events_by_outcome.items()):
        received.add_metric([outcome], n)
    yield received

    jobs = GaugeMetricFamily("overture_jobs", "Jobs by status.", labels=["status"])
    for status in JobStatus:
        jobs.add_metric([status.value], r.jobs_by_status.get(status.value, 0))
    yield jobs

    yield GaugeMetricFamily(
        "overture_queue_depth", "Jobs runnable now, waiting for a worker.", value=r.queue_depth
    )
    yield GaugeMetricFamily(
        "overture_pending_approvals",
        "Pending actions waiting for a human decision.",
        value=r.pending_approvals,
    )


def _steps(r: Readings, step_name: StepName) -> Iterator[Family]:
    labels = ["event_type", "step", "status"]
    run = CounterMetricFamily(
        "overture_steps",
        "Step attempts recorded, by event type, step and outcome (completed, failed, skipped, "
        "deferred, awaiting_approval); failed attempts include those retried later.",
        labels=labels,
    )
    durations = HistogramMetricFamily(
        "overture_step_duration_seconds",
        "Duration of step attempts, by event type, step and outcome.",
        labels=labels,
    )
    for key, (cumulative, count, total_ms) in sorted(r.step_durations.items()):
        run.add_metric(list(key), count)
        buckets = [(str(b), c) for b, c in zip(STEP_BUCKETS_S, cumulative, strict=True)]
        durations.add_metric(list(key), [*buckets, ("+Inf", count)], total_ms / 1000)
    yield run
    yield durations

    failed = CounterMetricFamily(
        "overture_job_failures",
        "Jobs that ended failed, by event type and the step they failed at.",
        labels=["event_type", "step"],
    )
    for (event_type, index), n in sorted(r.failed_jobs.items()):
        failed.add_metric([event_type, step_name(event_type, index)], n)
    yield failed


def _llm(r: Readings, step_name: StepName) -> Iterator[Family]:
    labels = ["event_type", "step", "provider", "model"]
    tokens = CounterMetricFamily(
        "overture_llm_tokens",
        "Language-model tokens charged, by event type, step, provider, model and direction "
        "(input or output); calls made outside a job have an empty event type and step.",
        labels=[*labels, "direction"],
    )
    cost = CounterMetricFamily(
        "overture_llm_cost_dollars",
        "Language-model spend in US dollars, by event type, step, provider and model.",
        labels=labels,
    )
    for use in sorted(r.llm, key=lambda u: (u.event_type, u.step_index or -1, u.provider, u.model)):
        step = step_name(use.event_type, use.step_index) if use.event_type else ""
        values = [use.event_type, step, use.provider, use.model]
        tokens.add_metric([*values, "input"], use.input_tokens)
        tokens.add_metric([*values, "output"], use.output_tokens)
        cost.add_metric(values, use.cost_micros / 1_000_000)
    yield tokens
    yield cost


def _effects_and_receipts(r: Readings, step_name: StepName) -> Iterator[Family]:
    effects = GaugeMetricFamily(
        "overture_effects",
        "Outbox effects by the event type and step that queued them, their kind and where they "
        "stand (pending, sending, sent, failed, ...): failed ones wait for `overture effects retry`.",
        labels=["event_type", "step", "kind", "status"],
    )
    ordered = sorted(r.effects.items(), key=lambda kv: (kv[0][0], kv[0][1] or -1, kv[0][2], kv[0][3]))
    for (event_type, index, kind, status), n in ordered:
        step = step_name(event_type, index) if event_type else ""
        effects.add_metric([event_type, step, kind, status], n)
    yield effects

    receipts = GaugeMetricFamily(
        "overture_webhook_receipts",
        "Webhook receipts by source and outcome (an accepted receipt becomes processed or failed "
        "once its work is done).",
        labels=["source", "outcome"],
    )
    for (source, outcome), n in sorted(r.webhook_receipts.items()):
        receipts.add_metric([source, outcome], n)
    yield receipts
