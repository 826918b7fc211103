"""Prose skills run by a model inside sequence steps, on SQLite and PostgreSQL: the model's
calls are recorded on the step, so their cost reaches the cost ledger and the AI budget gate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.engine.registry import Registry
from overture.packs.planner import SKILLS
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT
from overture.skills.step import register_prose_skills
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import cost_ledger
from tests.unit.test_integrations_apis import FakeApi
from tests.unit.test_skill_model import PLAN, PROSE, TODAY, Answers, answer
from tests.unit.test_skill_orchestrate import copy_vault

CAPTIVE = Path("00_Brain/Captive")
COST_MICROS = 3800  # 1200 prompt tokens at $2.50/M + 80 completion tokens at $10/M (gpt-4o)
AI_PLAN = """\
event_type: ai_plan
steps:
  - name: plan
    uses: skill:planning-daily
    ai: true
    with: {date: tomorrow}
"""


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample vault named by $OVERTURE_VAULT; the working folder is tmp_path, so
    the planner pack's own working vault is never made inside the repository."""
    monkeypatch.chdir(tmp_path)
    root = copy_vault(tmp_path)
    monkeypatch.setenv(ENV_VAULT, str(root))
    for name in (ENV_CALENDAR, ENV_TIMEZONE, "OVERTURE_LLM_PROVIDER", "OVERTURE_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi(Answers({PROSE: answer(PLAN)})) as fake:
        yield fake


def llm(api: FakeApi) -> dict[str, Any]:
    return {
        "llm_provider": "openai",
        "llm_model": "gpt-4o",
        "llm_api_key": "sk-test",
        "llm_base_url": f"{api.url}/v1",
    }


def started(app: App) -> App:
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None, timezone="Europe/London")
    return app


def emit(app: App, event_type: str, payload: dict[str, Any]) -> str:
    result = app.emit({"type": event_type, "org_id": "acme", "user_id": "ana", "payload": payload})
    assert result.status == "accepted" and result.job_id is not None, result
    return result.job_id


def ledger(app: App) -> list[dict[str, Any]]:
    with app.store.read() as conn:
        rows = conn.execute(sa.select(cost_ledger).order_by(cost_ledger.c.id)).mappings().all()
    return [dict(r) for r in rows]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 2, 16, 12, 0, tzinfo=UTC))


def test_a_model_run_prose_step_records_its_cost_in_the_ledger(
    db_url: str, vault: Path, api: FakeApi, clock: FakeClock
) -> None:
    """The planner pack with an openai provider in the App's settings: daily_plan's step runs
    the prose through the model, its cost is one ledger row and the job's total, and the
    model's Today.md is written by the outbox."""
    app = started(App(Settings(database_url=db_url, packs=["planner"], **llm(api)), clock=clock))
    try:
        job_id = emit(app, "daily_plan", {"date": "tomorrow"})
        app.run_until_idle()
        with app.store.read() as conn:
            job = jobq.get_job(conn, job_id)
            steps = jobq.steps_of(conn, job_id)
        rows = ledger(app)
    finally:
        app.close()
    assert job is not None and job.status.value == "completed"
    plan = steps[0]
    assert (plan.step_name, plan.status.value, plan.cost_micros) == ("plan", "completed", COST_MICROS)
    assert plan.output["status"] == "Drafted (no session)" and plan.output["usage"]["calls"] == 1
    assert plan.output["reply"] == PLAN["reply_markdown"]
    [row] = rows
    assert (row["org_id"], row["job_id"], row["step_index"], row["provider"], row["model"]) == (
        "acme",
        job_id,
        0,
        "openai",
        "gpt-4o-2024-08-06",
    )
    assert (row["input_tokens"], row["output_tokens"], row["cost_micros"]) == (1200, 80, COST_MICROS)
    assert job.execution_metadata is not None
    assert job.execution_metadata["total_ai_cost"] == pytest.approx(COST_MICROS / 1e6)
    assert (vault / CAPTIVE / "Today.md").read_text() == TODAY


def test_the_budget_gate_sees_a_prose_steps_spending(
    db_url: str, vault: Path, api: FakeApi, clock: FakeClock
) -> None:
    """An ai prose step spends past the org's daily budget; the next job halts before the model
    is asked."""
    registry = Registry()
    register_prose_skills(registry, SKILLS, Settings(**llm(api)), vault=vault)
    registry.add_sequence(load_sequence_text(AI_PLAN, "ai_plan.yaml"))
    app = started(App(Settings(database_url=db_url, packs=[]), clock=clock, registry=registry))
    try:
        app.admin.set_budget("acme", "day", 0.003)
        first, second = emit(app, "ai_plan", {"n": 1}), emit(app, "ai_plan", {"n": 2})
        app.run_until_idle()
        with app.store.read() as conn:
            statuses = [getattr(jobq.get_job(conn, j), "status", None) for j in (first, second)]
        rows = ledger(app)
    finally:
        app.close()
    assert [s.value if s else None for s in statuses] == ["completed", "halted"]
    assert len(api.seen) == 1 and [r["cost_micros"] for r in rows] == [COST_MICROS]
