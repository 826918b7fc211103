"""Real providers inside real jobs: an ``ai: true`` step asks a loopback fake that speaks the
OpenAI (or Anthropic) API, on SQLite and PostgreSQL; the cost lands in the ledger and the
execution metadata, a 429 defers the job five minutes, and a spent budget stops the call."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import BaseModel

from overture.app import App
from overture.clock import FakeClock
from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.llm.anthropic_provider import AnthropicProvider
from overture.llm.base import LLMProvider, LLMRequest
from overture.llm.factory import ask
from overture.llm.openai_compat import OpenAICompatibleProvider
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import cost_ledger
from tests.unit.test_integrations_apis import FakeApi, Reply
from tests.unit.test_llm_anthropic import message
from tests.unit.test_llm_openai import Script, chat_completion

SEQUENCE = """\
event_type: email_received
active_hours: ignore
steps:
  - name: classify
    uses: skill:classify-email
    ai: true
    with: {subject: "{{ event.payload.subject }}"}
"""


class Classification(BaseModel):
    category: str
    reply_needed: bool


ANSWER = {"category": "meeting_request", "reply_needed": True}


def registry(provider: LLMProvider) -> Registry:
    """One sequence whose single ai step classifies an email through ``provider``."""
    reg = Registry()

    @reg.skill("classify-email")
    def classify(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Classify an email with the language model."""
        request = LLMRequest(
            "classify-email", "Classify the email.", {"subject": inputs["subject"]}, Classification
        )
        return ask(ctx, provider, request).model_dump()

    reg.add_sequence(load_sequence_text(SEQUENCE, "email_received.yaml"))
    return reg


def openai_reply() -> Reply:
    return Reply(body=chat_completion(json.dumps(ANSWER), prompt=2000, completion=100, cached=500))


def anthropic_reply() -> Reply:
    body = message(ANSWER, input_tokens=1500, output_tokens=100, cache_read=500, tool_name="classify-email")
    return Reply(body=body)


# (provider kind, reply, model the response names, prompt tokens in the ledger, cost in micro-dollars)
CASES = {
    "openai": (
        openai_reply,
        "gpt-4o-2024-08-06",
        2000,
        round((1500 * 2.5e-06 + 500 * 1.25e-06 + 100 * 1e-05) * 1e6),
    ),
    "anthropic": (
        anthropic_reply,
        "claude-sonnet-4-6",
        2000,
        round((1500 * 3e-06 + 500 * 3e-07 + 100 * 1.5e-05) * 1e6),
    ),
}


def make_provider(kind: str, api: FakeApi) -> LLMProvider:
    if kind == "openai":
        return OpenAICompatibleProvider(
            model="gpt-4o", api_key="sk-test", base_url=f"{api.url}/v1", timeout_s=5
        )
    return AnthropicProvider(model="claude-sonnet-4-6", api_key="sk-ant-test", base_url=api.url, timeout_s=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


@pytest.fixture
def build_app(db_url: str, clock: FakeClock) -> Iterator[Callable[[LLMProvider], App]]:
    """Makes the App under test (org acme, user ana always active) and closes it afterwards."""
    apps: list[App] = []
    providers: list[Any] = []

    def build(provider: LLMProvider) -> App:
        app = App(Settings(database_url=db_url, packs=[]), clock=clock, registry=registry(provider))
        apps.append(app)
        providers.append(provider)
        app.migrate()
        app.admin.add_org("acme", "Acme")
        app.admin.add_user("acme", "ana", "Ana", active_hours=None)
        return app

    yield build
    for app in apps:
        app.close()
    for provider in providers:
        provider.close()


def emit(app: App, subject: str = "Can we meet Tuesday?") -> str:
    result = app.emit(
        {"type": "email_received", "org_id": "acme", "user_id": "ana", "payload": {"subject": subject}}
    )
    assert result.job_id is not None
    return result.job_id


def ledger(app: App) -> list[dict[str, Any]]:
    with app.store.read() as conn:
        rows = conn.execute(sa.select(cost_ledger).order_by(cost_ledger.c.id)).mappings().all()
    return [dict(r) for r in rows]


@pytest.fixture
def served() -> Iterator[tuple[FakeApi, Script]]:
    """A fake API whose script each test sets; one server answers both wire formats' paths."""
    script = Script(openai_reply())
    with FakeApi(script) as api:
        yield api, script
    script.release.set()


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_ai_step_cost_reaches_the_ledger_and_the_metadata(
    build_app: Callable[[LLMProvider], App], clock: FakeClock, served: tuple[FakeApi, Script], kind: str
) -> None:
    """The step's answer is its output; the call's tokens and price are one cost_ledger row,
    counted by cost_since and reported as the job's total_ai_cost."""
    api, script = served
    reply, model, prompt, micros = CASES[kind]
    script.replies = [reply()]
    app = build_app(make_provider(kind, api))
    job_id = emit(app)
    app.run_until_idle()
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
        steps = jobq.steps_of(conn, job_id)
        spent = jobq.cost_since(conn, "acme", clock.now() - timedelta(days=1))
    assert job is not None and job.status.value == "completed"
    assert [(s.step_name, s.status.value, s.output, s.cost_micros) for s in steps] == [
        ("classify", "completed", ANSWER, micros)
    ]
    [row] = ledger(app)
    assert (row["org_id"], row["job_id"], row["step_index"], row["provider"], row["model"]) == (
        "acme",
        job_id,
        0,
        kind,
        model,
    )
    assert (row["input_tokens"], row["output_tokens"], row["cost_micros"]) == (prompt, 100, micros)
    assert spent == micros
    assert job.execution_metadata is not None
    assert job.execution_metadata["total_ai_cost"] == pytest.approx(micros / 1e6)
    assert "Can we meet Tuesday?" in api.seen[0].body.decode()


def test_429_defers_the_job_five_minutes_then_it_resumes(
    build_app: Callable[[LLMProvider], App], clock: FakeClock, served: tuple[FakeApi, Script]
) -> None:
    """A 429 (Retry-After shorter than the floor) defers the job 300 s with nothing billed;
    after the wait the step runs again and completes."""
    api, script = served
    limited = Reply(
        429,
        {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}},
        {"Retry-After": "20"},
    )
    script.replies = [limited, openai_reply()]
    app = build_app(make_provider("openai", api))
    job_id = emit(app)
    app.run_until_idle()
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
        steps = jobq.steps_of(conn, job_id)
    assert job is not None and job.status.value == "deferred"
    assert job.run_after == clock.now() + timedelta(seconds=300)
    assert [(s.status.value, (s.error or "")[:30]) for s in steps] == [
        ("deferred", "rate limited: openai rate limi")
    ]
    assert ledger(app) == [] and len(api.seen) == 1

    clock.advance(299)
    app.run_until_idle()
    assert len(api.seen) == 1
    clock.advance(2)
    app.run_until_idle()
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None and job.status.value == "completed" and len(api.seen) == 2
    assert len(ledger(app)) == 1


def test_spent_budget_halts_before_the_model_is_called(
    build_app: Callable[[LLMProvider], App], clock: FakeClock, served: tuple[FakeApi, Script]
) -> None:
    """Once the ledger reaches the org's budget, the next ai step halts without a request."""
    api, _script = served
    app = build_app(make_provider("openai", api))
    app.admin.set_budget("acme", "day", 0.005)
    first, second = emit(app, "first"), emit(app, "second")
    app.run_until_idle()
    with app.store.read() as conn:
        statuses = [getattr(jobq.get_job(conn, j), "status", None) for j in (first, second)]
    assert [s.value if s else None for s in statuses] == ["completed", "halted"]
    assert len(api.seen) == 1
