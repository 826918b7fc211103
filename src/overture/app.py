"""App: the one object that wires settings, clock, store, registry and services. No globals."""

from __future__ import annotations

import logging
import threading
from typing import Any

from overture.clock import Clock, SystemClock
from overture.core.events import parse_event
from overture.core.ingest_rate import IngestRate
from overture.core.records import Event, IngestResult
from overture.engine.admin.console_sessions import ConsoleSessions, Lifetimes
from overture.engine.admin.tenancy import Admin
from overture.engine.admin.tokens import Tokens
from overture.engine.humans.approvals import Approvals
from overture.engine.humans.delivery import Delivery
from overture.engine.intake.followups import FollowupFlusher
from overture.engine.intake.ingest import Ingestor
from overture.engine.intake.scheduler import Scheduler
from overture.engine.packs import load_packs
from overture.engine.registry import Registry
from overture.engine.run.context import ContextLoader
from overture.engine.run.effects import EffectRetries
from overture.engine.run.lanes import worker_name
from overture.engine.run.outbox import OutboxDispatcher
from overture.engine.run.runner import Runner, RunnerConfig
from overture.engine.run.worker import Worker
from overture.integrations.slack_api import SlackApi
from overture.integrations.slack_channel import SlackChannel
from overture.settings import Settings
from overture.storage.store import Store

log = logging.getLogger("overture")


class App:
    """Holds everything a command, a worker or an HTTP handler needs."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.clock: Clock = clock or SystemClock()
        self.store = Store(self.settings.database_url, sqlite_synchronous=self.settings.sqlite_synchronous)
        self.registry = registry if registry is not None else load_packs(self.settings.packs, self.settings)
        rate = self.settings.org_ingest_rate
        self.ingestor = Ingestor(
            self.store,
            self.registry,
            self.settings.max_chain_depth,
            ingest_rate=IngestRate.parse(rate) if rate else None,
        )
        self.approvals = Approvals(self.store, self.clock)
        self.admin = Admin(self.store, self.clock)
        self.contexts = ContextLoader(self.store, self.registry, self.clock, self.settings.tier1_cache_ttl_s)
        self.followups = FollowupFlusher(self.ingestor, self.settings.max_chain_depth)
        self.outbox = OutboxDispatcher(self.store, self.registry, self.clock)
        self.effects = EffectRetries(self.store, self.clock)
        self.tokens = Tokens(self.store, self.clock)
        self.sessions = ConsoleSessions(
            self.store,
            self.clock,
            Lifetimes.of(
                self.settings.console_session_idle_s,
                self.settings.console_session_max_s,
                self.settings.signin_link_ttl_s,
            ),
        )
        self.delivery = Delivery(self.store, self.clock)
        token = self.settings.slack_bot_token
        if token is not None and token.get_secret_value():
            # Slack delivers to people with a Slack id, and shows every decision on its message.
            slack = SlackChannel(
                SlackApi(token.get_secret_value(), self.settings.slack_api_base_url), self.store
            )
            self.delivery.channels[slack.name] = slack
            self.delivery.feeders.append(slack.queue_outcomes)

        self._idle_worker: Worker | None = None
        self._idle_lock = threading.Lock()

    def migrate(self) -> None:
        self.store.migrate()

    def emit(self, data: dict[str, Any]) -> IngestResult:
        """Validate and ingest one event given as a JSON-like dict."""
        return self.ingest(parse_event(data, self.clock.now()))

    def ingest(self, event: Event) -> IngestResult:
        """Gate and record an event already validated (``parse_event``): it is not checked again."""
        return self.ingestor.ingest(event, self.clock.now())

    def runner_config(self) -> RunnerConfig:
        s = self.settings
        return RunnerConfig(
            time_budget_s=s.time_budget_s,
            time_buffer_s=s.time_buffer_s,
            rate_limit_delay_s=s.rate_limit_delay_s,
            max_chain_depth=s.max_chain_depth,
        )

    def worker(self, name: str | None = None, concurrency: int | None = None) -> Worker:
        name = name or worker_name()

        def make_runner() -> Runner:
            return Runner(
                self.store,
                self.registry,
                self.clock,
                self.contexts,
                self.followups,
                self.runner_config(),
                name,
            )

        return Worker(
            store=self.store,
            runner=make_runner(),
            make_runner=make_runner,
            concurrency=concurrency or self.settings.worker_concurrency,
            approvals=self.approvals,
            outbox=self.outbox,
            clock=self.clock,
            lease_s=self.settings.time_budget_s,
            poll_interval_s=self.settings.poll_interval_s,
            name=name,
            delivery=self.delivery,
            max_lost_claims=self.settings.max_lost_claims,
        )

    def scheduler(self, name: str | None = None) -> Scheduler:
        """A scheduler over every schedule the packs and overture.toml declare."""
        return Scheduler(
            self.store, self.ingestor, self.clock, list(self.registry.schedules), name or worker_name()
        )

    def run_until_idle(self, horizon_s: float = 0.0) -> int:
        """Run one worker in this thread until nothing is runnable within ``horizon_s``.

        The worker (its runners, their compiled templates and warm caches) is made once and
        kept for the next call; a call while another thread is in one gets a worker of its own."""
        with self._idle_lock:
            worker, self._idle_worker = self._idle_worker, None
        if worker is None or worker.stopping.is_set():
            worker = self.worker()
        worker.idle_horizon_s = horizon_s
        try:
            return worker.run(until_idle=True)
        finally:
            with self._idle_lock:
                self._idle_worker = self._idle_worker or worker

    def close(self) -> None:
        self.store.close()
