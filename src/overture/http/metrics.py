"""Prometheus metrics read from the database at scrape time, in a registry of this app's own.

Every process sharing the database reports the same numbers, so any API process can be
scraped. What is measured is defined in ``overture.observability.metrics``: events by outcome,
jobs by status, queue depth, pending approvals, and by event type and step the steps run, their
durations, failed jobs, model tokens and spend, effects, and approval decisions by channel;
webhook receipts by source and outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from overture.app import App
from overture.observability import readings
from overture.observability.metrics import STEP_BUCKETS_S, Family, families


class OvertureCollector(Collector):
    """Reads the numbers from the database on each scrape."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterable[Family]:
        now = self.app.clock.now()
        with self.app.store.read() as conn:
            figures = readings.read(conn, now, [b * 1000 for b in STEP_BUCKETS_S])
        return list(families(figures, self.step_name))

    def step_name(self, event_type: str, index: int | None) -> str:
        """The name of step ``index`` of the sequence now loaded for ``event_type``."""
        sequence = self.app.registry.sequences.get(event_type)
        if index is None:
            return ""
        if sequence is None or not 0 <= index < len(sequence.steps):
            return f"#{index}"
        return sequence.steps[index].name


def registry_for(app: App) -> CollectorRegistry:
    """A registry of this app's own: two apps in one process never share metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OvertureCollector(app))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of ``registry``."""
    return generate_latest(registry)
