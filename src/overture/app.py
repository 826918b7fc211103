"""App: the one object that wires settings, clock, store, registry and services. No globals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from overture.clock import Clock, SystemClock
from overture.core.events import parse_event
from overture.core.ingest_rate import IngestRate
from overture.core.records import Event, IngestResult, JobStatus
from overture.core.wire import EventRejected, EventResult, JobOutcome, WaitTimedOut
from overture.engine.admin.console_sessions import ConsoleSessions, Lifetimes
from overture.engine.admin.tenancy import Admin
from overture.engine.admin.tokens import Tokens
from overture.engine.admin.views import action_view, job_detail
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
from overture.engine.run.signals import JobSignals, settled, waited_enough
from overture.engine.run.worker import Worker
from overture.errors import NotFound
from overture.integrations.slack_api import SlackApi
from overture.integrations.slack_channel import SlackChannel
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store

log = logging.getLogger("overture")

if TYPE_CHECKING:
    import sqlalchemy as sa


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
        self.signals = JobSignals()  # this process's workers say when they have run a job
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

    def ingest(self, event: Event, authorise: Callable[[sa.Connection], None] | None = None) -> IngestResult:
        """Gate and record an event already validated (``parse_event``): it is not checked again.
        ``authorise`` refuses a sender in the ingest's own transaction (see ``Ingestor.ingest``)."""
        return self.ingestor.ingest(event, self.clock.now(), authorise)

    async def ingest_async(
        self, event: Event, authorise: Callable[[sa.Connection], None] | None = None
    ) -> IngestResult:
        """``ingest`` awaited on an event loop, sharing the same group commit."""
        return await self.ingestor.ingest_async(event, self.clock.now(), authorise)

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
            on_run=self.signals.ran,
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

    def run_event(self, event: dict[str, Any] | Event, *, timeout: float = 60.0) -> JobOutcome:
        """Ingest one event and run its job in this thread until it ends or waits for a person,
        then say where it stands (``run_job``).

        A deferred event's job is not waited for (``outcome.deferred``); a duplicate's original
        job is. Raises ``EventRejected`` for a rejected event.
        """
        result = self.emit(event) if isinstance(event, dict) else self.ingest(event)
        receipt = EventResult.model_validate(result.as_dict())
        if result.status == "rejected":
            raise EventRejected(self.outcome(None, receipt))
        if result.job_id is None or result.status == "deferred":
            return self.outcome(result.job_id, receipt)
        return self.run_job(result.job_id, timeout=timeout, receipt=receipt)

    def run_job(
        self, job_id: str, *, timeout: float = 60.0, receipt: EventResult | None = None
    ) -> JobOutcome:
        """Run a worker in this thread until the job ends or waits for a person: the worker's
        signal (``App.signals``) says when, so storage is not polled. Other runnable jobs may run
        on the way, as under any worker. A job deferred past ``timeout`` is returned as it stands
        (``outcome.deferred``); ``WaitTimedOut`` when it has not settled in ``timeout`` seconds."""
        with self.store.read() as conn:
            state = jobq.job_state(conn, job_id)
        if state is None:
            raise NotFound(f"no job {job_id!r}")
        if not waited_enough(*state, self.clock.now() + timedelta(seconds=timeout)):
            worker = self.worker(concurrency=1)
            worker.idle_horizon_s = timeout  # a retry after a back-off is waited for

            def seen(_job_id: str, status: JobStatus | None) -> None:
                if status is None or settled(status):
                    worker.stop()

            unwatch = self.signals.watch(job_id, seen)
            deadline = threading.Timer(timeout, worker.stop)
            deadline.daemon = True
            deadline.start()
            try:
                worker.run(until_idle=True)
            finally:
                deadline.cancel()
                unwatch()
        outcome = self.outcome(job_id, receipt)
        if not (outcome.settled or outcome.deferred):
            raise WaitTimedOut(outcome, timeout)
        return outcome

    def outcome(self, job_id: str | None, event: EventResult | None = None) -> JobOutcome:
        """Where a job stands now: its detail, and its pending approvals when it waits for one."""
        job: dict[str, Any] | None = None
        approvals: list[dict[str, Any]] = []
        if job_id is not None:
            with self.store.read() as conn:
                found = jobq.get_job(conn, job_id)
                if found is not None:
                    job = job_detail(conn, found)
                    if found.status == JobStatus.AWAITING_APPROVAL:
                        pending = actionq.list_actions(conn, job_id=job_id)
                        approvals = [action_view(a) for a in pending]
        return JobOutcome.model_validate({"event": event, "job": job, "approvals": approvals})

    def close(self) -> None:
        self.store.close()
