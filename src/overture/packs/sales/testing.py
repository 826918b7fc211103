"""Helpers for testing with the sales pack: an App on the pack with the seed org loaded, the
story's moments, and readers for what a sequence produced. Shipped with the pack (as structlog
ships ``structlog.testing``) so tests and the demo share them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from overture.app import App
from overture.clock import Clock
from overture.core.records import Job, PendingAction, StepRecord
from overture.core.step_context import StepContext
from overture.engine.registry import ProviderRequest
from overture.engine.run.context import TIER2_KEYS
from overture.packs.sales.seed import generate as seed
from overture.packs.sales.seed.builder import SeedSummary
from overture.sequences import StepKind
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from overture.storage.queries import tenancy

ORG = "northwind"
STORY_DAY = date(2026, 11, 20)
MAYA = f"{ORG}.maya"


def local(day: date, hour: int, minute: int = 0, zone: str = "America/New_York") -> datetime:
    """A wall-clock moment in ``zone`` as UTC (the story's clock readings)."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)


def sales_app(database_url: str, clock: Clock, outbox_dir: Path, **overrides: Any) -> App:
    """A migrated App running only the sales pack, its outbox folder at ``outbox_dir``."""
    settings = Settings(database_url=database_url, packs=["sales"], outbox_dir=outbox_dir, **overrides)
    app = App(settings, clock=clock)
    app.migrate()
    return app


def load_seed(app: App, day: date = STORY_DAY, number: int = 1, org: str = ORG) -> SeedSummary:
    """The seed org on the app's database, its week around ``day``."""
    return seed.load(app.store, app.admin, org, number, day)


def event(type_: str, payload: dict[str, Any], user: str = MAYA, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "org_id": ORG, "user_id": user, "payload": payload, **extra}


def jobs(app: App, event_type: str | None = None) -> list[Job]:
    with app.store.read() as conn:
        found = jobq.list_jobs(conn, org_id=ORG, limit=1000)
    chosen = (j for j in found if event_type in (None, j.event_type))
    return sorted(chosen, key=lambda j: (j.created_at, j.chain_depth))


def steps(app: App, job_id: str) -> list[StepRecord]:
    with app.store.read() as conn:
        return jobq.steps_of(conn, job_id)


def step_statuses(app: App, job_id: str) -> list[tuple[str, str]]:
    """(step name, status) of each step's last attempt, in order."""
    last: dict[str, str] = {}
    for record in steps(app, job_id):
        last[record.step_name] = record.status.value
    return list(last.items())


def output(app: App, job_id: str, step_name: str) -> Any:
    with app.store.read() as conn:
        return jobq.recorded_outputs(conn, job_id).get(step_name)


def pending(app: App, job_id: str) -> PendingAction:
    """The job's pending action (the gate it waits at)."""
    job = next(j for j in jobs(app) if j.id == job_id)
    with app.store.read() as conn:
        action = actionq.action_for_step(conn, job_id, job.current_step)
    if action is None:
        raise AssertionError(f"job {job_id} waits at no approval")
    return action


def notifications(app: App, user: str = MAYA) -> list[dict[str, Any]]:
    with app.store.read() as conn:
        return noteq.for_user(conn, user)


def outbox(app: App, job_id: str) -> list[dict[str, Any]]:
    with app.store.read() as conn:
        return jobq.outbox_of(conn, job_id)


def step_context(
    app: App,
    payload: dict[str, Any] | None = None,
    *,
    user: str = MAYA,
    sources: tuple[str, ...] = ("crm",),
    step_name: str = "step",
) -> StepContext:
    """A StepContext loaded the way the engine loads one: tier 1 for ``user``, tier 2 through
    the pack's providers when the payload names a contact, deal or meeting, and the named
    tier-3 sources (a failing one is None, as the loader leaves it)."""
    payload = dict(payload or {})
    with app.store.read() as conn:
        row = tenancy.get_user(conn, user, ORG)
    assert row is not None, f"no user {user}"
    context: dict[str, Any] = {
        "tier1": {"user": {"id": row.id, "name": row.name, "email": row.email, "timezone": row.timezone}}
    }
    if any(payload.get(key) for key in TIER2_KEYS):
        request = ProviderRequest(app.store, ORG, user, payload, context)
        context["tier2"] = {name: provider(request) for name, provider in app.registry.tier2.items()}
    loaded: dict[str, Any] = {}
    for name in sources:
        try:
            loaded[name] = app.registry.tier3[name](ProviderRequest(app.store, ORG, user, payload, context))
        except Exception:
            loaded[name] = None
    context["tier3"] = loaded
    now = app.clock.now()
    event_data = {"type": "test", "payload": payload, "occurred_at": now.isoformat()}
    return StepContext(
        job_id="test-job",
        org_id=ORG,
        user_id=user,
        step_name=step_name,
        step_index=0,
        attempt=1,
        now=now,
        event=event_data,
        context=context,
        outputs={},
        idempotency_key=f"test-job:0:{step_name}",
    )


def run_step(app: App, uses: str, inputs: dict[str, Any], ctx: StepContext) -> Any:
    """Call a registered skill, function or CRM action (``skill:KEY``) as a step would."""
    kind, _, key = uses.partition(":")
    handler = app.registry.handler(StepKind(kind), key)
    assert handler is not None, f"nothing registered as {uses}"
    return handler(ctx, inputs)


def told(app: App, step: str, user: str = MAYA) -> list[str]:
    """The texts a user was sent by notify steps named ``step`` (inform-only messages)."""
    return [n["body"]["text"] for n in notifications(app, user) if n["body"].get("step") == step]
