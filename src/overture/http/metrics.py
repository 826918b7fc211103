"""Prometheus metrics read from the database at scrape time, in a registry of this app's own.

Every process sharing the database reports the same numbers, so any API process can be
scraped. The figures: events by outcome, jobs by status, queue depth (jobs runnable now),
pending approvals, and a histogram of step durations from ``job_steps``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from overture.app import App
from overture.core.records import JobStatus
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import events, job_steps, sequence_jobs

STEP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 150.0)
_RUNNABLE = (JobStatus.PENDING.value, JobStatus.DEFERRED.value)


# The three reads below belong with the other named operations in overture.storage;
# they live here until the metrics have a storage module of their own.


def events_by_outcome(conn: sa.Connection) -> dict[str, int]:
    q = sa.select(events.c.outcome, sa.func.count()).group_by(events.c.outcome)
    return {r[0]: int(r[1]) for r in conn.execute(q)}


def runnable_jobs(conn: sa.Connection, now: datetime) -> int:
    """Jobs a worker could claim now: the queue depth."""
    q = sa.select(sa.func.count()).where(
        sequence_jobs.c.status.in_(_RUNNABLE), sequence_jobs.c.run_after <= now
    )
    return int(conn.execute(q).scalar() or 0)


def step_duration_buckets(
    conn: sa.Connection, bounds_ms: Sequence[float]
) -> dict[str, tuple[list[int], int, float]]:
    """Per step status: cumulative counts at or under each bound, the total count, the sum (ms)."""
    ms = job_steps.c.duration_ms
    columns = [sa.func.sum(sa.case((ms <= b, 1), else_=0)) for b in bounds_ms]
    q = sa.select(job_steps.c.status, sa.func.count(), sa.func.sum(ms), *columns).group_by(job_steps.c.status)
    return {r[0]: ([int(c or 0) for c in r[3:]], int(r[1]), float(r[2] or 0.0)) for r in conn.execute(q)}


class OvertureCollector(Collector):
    """Reads the numbers from the database on each scrape."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        now = self.app.clock.now()
        with self.app.store.read() as conn:
            outcomes = events_by_outcome(conn)
            statuses = jobq.count_jobs_by_status(conn)
            depth = runnable_jobs(conn, now)
            pending = actionq.count_pending(conn)
            steps = step_duration_buckets(conn, [b * 1000 for b in STEP_BUCKETS_S])

        received = CounterMetricFamily(
            "overture_events", "Events received, by what the gates decided.", labels=["outcome"]
        )
        for outcome, n in sorted(outcomes.items()):
            received.add_metric([outcome], n)
        yield received

        jobs = GaugeMetricFamily("overture_jobs", "Jobs by status.", labels=["status"])
        for status in JobStatus:
            jobs.add_metric([status.value], statuses.get(status.value, 0))
        yield jobs

        yield GaugeMetricFamily(
            "overture_queue_depth", "Jobs runnable now, waiting for a worker.", value=depth
        )
        yield GaugeMetricFamily(
            "overture_pending_approvals", "Pending actions waiting for a human decision.", value=pending
        )

        durations = HistogramMetricFamily(
            "overture_step_duration_seconds", "Duration of step attempts, by outcome.", labels=["status"]
        )
        for step_status, (cumulative, count, total_ms) in sorted(steps.items()):
            buckets = [(str(b), c) for b, c in zip(STEP_BUCKETS_S, cumulative, strict=True)]
            durations.add_metric([step_status], [*buckets, ("+Inf", count)], total_ms / 1000)
        yield durations


def registry_for(app: App) -> CollectorRegistry:
    """A registry of this app's own: two apps in one process never share metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OvertureCollector(app))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of ``registry``."""
    return generate_latest(registry)
