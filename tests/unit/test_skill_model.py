"""Prose skills run by a configured model, against a loopback fake speaking the real OpenAI Chat
Completions JSON: the prose executed with the loaded context, writes confined to the vault,
unrecognised Context bullets classified, and failures degrading instead of aborting."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from overture.cli.skills import register
from overture.packs.planner import SAMPLE_VAULT, SKILLS
from overture.settings import Settings
from overture.skills.context.classifier import ModelNeedClassifier
from overture.skills.context.needs import NeedRegistry, NeedType
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT, build_environment
from overture.skills.orchestrate import SkillRun, run_skill
from overture.skills.prose.llm import OfflineProseModel
from overture.skills.prose.model import ModelProseModel
from overture.skills.skillfile import SkillFile, load_skill, parse_skill
from overture.skills.summary import RunStatus
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen
from tests.unit.test_llm_openai import chat_completion

MONDAY_MORNING = datetime(2026, 2, 16, 7, 0, tzinfo=UTC)
CAPTIVE = Path("00_Brain/Captive")
PROSE = "skill-prose"
CLASSIFY = "classify-context-need"
TODAY = "---\ndate: 2026-02-17\n---\n# Tuesday 2026-02-17\n\n## Plan\n- 14:00 1:1 with Sarah Chen\n"
PLAN = {
    "reply_markdown": "Good morning, Alex! Tomorrow has one 1:1, with Sarah Chen at 14:00.",
    "writes": [{"path": "00_Brain/Captive/Today.md", "content": TODAY, "mode": "replace"}],
    "actions_taken": ["Highlighted the 1:1 with Sarah Chen", "User completed daily planning session"],
}
SERVER_ERROR = {"error": {"message": "The server had an error", "type": "server_error"}}
MODEL_LINE = "Model: 1 call to openai gpt-4o-2024-08-06, 1200 input + 80 output tokens, $0.003800"


class Answers:
    """Answers each Chat Completions request by its task (the json_schema name) and keeps the
    requests, so one fake serves the classifier and the prose at once."""

    def __init__(self, replies: dict[str, Reply]) -> None:
        self.replies = replies
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, seen: Seen) -> Reply:
        sent: dict[str, Any] = json.loads(seen.body)
        task = str(sent["response_format"]["json_schema"]["name"])
        self.asked.append((task, sent))
        return self.replies[task]

    def sent(self, task: str) -> dict[str, Any]:
        return next(body for name, body in self.asked if name == task)


def answer(value: dict[str, Any]) -> Reply:
    return Reply(body=chat_completion(json.dumps(value), prompt=1200, completion=80))


def llm_settings(api: FakeApi) -> Settings:
    return Settings(
        llm_provider="openai",
        llm_model="gpt-4o",
        llm_api_key=SecretStr("sk-test"),
        llm_base_url=f"{api.url}/v1",
    )


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE, "OVERTURE_LLM_PROVIDER", "OVERTURE_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """The sample vault, copied so a test never writes into the repository."""
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root)
    return root


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Reply]], tuple[FakeApi, Answers]]]:
    """Starts a fake model server answering by task; stops it after the test."""
    running: list[FakeApi] = []

    def start(replies: dict[str, Reply]) -> tuple[FakeApi, Answers]:
        answers = Answers(replies)
        api = FakeApi(answers).__enter__()
        running.append(api)
        return api, answers

    yield start
    for api in running:
        api.__exit__(None, None, None)


def run(skill: SkillFile, vault: Path, settings: Settings, needs: NeedRegistry | None = None) -> SkillRun:
    env = build_environment(vault=vault, timezone="Europe/London", settings=settings, needs=needs)
    try:
        return asyncio.run(run_skill(skill, env, MONDAY_MORNING, "tomorrow"))
    finally:
        env.close()


def planning_daily() -> SkillFile:
    return load_skill(SKILLS / "planning-daily" / "SKILL.md")


def test_settings_choose_the_model_backed_implementations(vault: Path) -> None:
    """openai settings give the model prose runner and classifier; offline gives the offline model."""
    online = build_environment(
        vault=vault, settings=Settings(llm_provider="openai", llm_model="m", llm_api_key=SecretStr("k"))
    )
    assert isinstance(online.model, ModelProseModel) and isinstance(online.classifier, ModelNeedClassifier)
    assert online.model.provider is online.classifier.provider
    online.close()
    offline = build_environment(vault=vault, settings=Settings(llm_provider="offline"))
    assert isinstance(offline.model, OfflineProseModel) and offline.classifier is None


def test_planning_daily_executed_by_the_model_writes_today(vault: Path, serve: Any) -> None:
    """The model gets the prose and the loaded context; its Today.md lands in Captive and the
    summary lists its actions, the write, the call's cost, and Complete."""
    api, answers = serve({PROSE: answer(PLAN)})
    result = run(planning_daily(), vault, llm_settings(api))
    assert (vault / CAPTIVE / "Today.md").read_text() == TODAY
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.actions == (
        "Updated Today.md in Captive",
        "Highlighted the 1:1 with Sarah Chen",
        "User completed daily planning session",
        MODEL_LINE,
    )
    assert "**Status:** Drafted (no session)\n---" in result.markdown
    assert result.output.completed and result.output.text == PLAN["reply_markdown"]
    sent = answers.sent(PROSE)
    system, user = sent["messages"][0]["content"], json.loads(sent["messages"][1]["content"])
    assert "Write Today.md to Captive with the plan" in system
    assert "Loading context for planning-daily:" in system and "Sarah Chen (Person):" in system
    assert user["notes_the_skill_writes"] == [
        {"path": "00_Brain/Captive/Today.md", "mode": "replace", "exists": True}
    ]
    assert user["date"]["target_date"] == "2026-02-17"
    data = result.as_json()
    assert data["usage"] == {
        "calls": 1,
        "models": ["openai gpt-4o-2024-08-06"],
        "input_tokens": 1200,
        "output_tokens": 80,
        "cost_usd": 0.0038,
        "cost_unknown": False,
    }
    assert data["model"] == {"provider": "openai", "model": "gpt-4o-2024-08-06", "ran": True}


def test_writes_outside_the_vault_are_refused_and_the_run_degrades(
    vault: Path, tmp_path: Path, serve: Any
) -> None:
    """../outside.md, an absolute path and a symlink out are refused and named; nothing lands
    outside the vault, the in-vault write still happens, named as a problem of the drafted run."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (vault / "escape").symlink_to(elsewhere, target_is_directory=True)
    absolute = tmp_path / "absolute.md"
    plan = {
        **PLAN,
        "writes": [
            {"path": "../outside.md", "content": "x", "mode": "create"},
            {"path": str(absolute), "content": "x", "mode": "replace"},
            {"path": "escape/linked.md", "content": "x", "mode": "create"},
            *PLAN["writes"],
        ],
    }
    api, _ = serve({PROSE: answer(plan)})
    result = run(planning_daily(), vault, llm_settings(api))
    assert not (tmp_path / "outside.md").exists() and not absolute.exists()
    assert list(elsewhere.iterdir()) == []
    assert (vault / CAPTIVE / "Today.md").read_text() == TODAY
    assert [w.path for w in result.writes] == ["00_Brain/Captive/Today.md"]
    assert result.summary.status is RunStatus.DRAFTED
    refused = [u for u in result.summary.unavailable if u.startswith("Vault write: Refused to write")]
    assert len(refused) == 3
    assert "'../outside.md': paths must be relative to the vault and may not use '..'" in refused[0]
    assert repr(str(absolute)) in refused[1] and "outside the vault" in refused[2]
    assert "- Refused to write '../outside.md'" in result.markdown
    assert "**Status:** Drafted (no session)" in result.markdown


ODD_SKILL = (
    "---\nname: pipeline-brief\norchestrated: true\n---\n"
    "## Context\n\n- Calendar events for the day\n- What is moving in the sales pipeline\n\n"
    "## Brief\n\nSummarise the day and the pipeline.\n"
)


def deals_registry() -> NeedRegistry:
    needs = NeedRegistry.builtin()
    needs.add(
        NeedType("deals", "Deals", (r"\bdeals\b",), provider=lambda need, env: ["Acme renewal", "Globex"])
    )
    return needs


def test_an_unrecognised_bullet_is_classified_by_the_model_and_fulfilled(vault: Path, serve: Any) -> None:
    """The pattern table misses "the sales pipeline"; the model places it as the pack's deals
    need, which is fulfilled and loaded for the prose; the run is Complete."""
    classified = answer({"kind": "deals", "reason": "The pipeline is the open deals."})
    api, answers = serve({CLASSIFY: classified, PROSE: answer({"reply_markdown": "Two deals move."})})
    result = run(parse_skill(ODD_SKILL), vault, llm_settings(api), deals_registry())
    assert result.unrecognised == ()
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.context[1] == "Deals: 2 loaded"
    assert result.summary.actions[0] == (
        'Classified "What is moving in the sales pipeline" as Deals: The pipeline is the open deals.'
    )
    assert result.summary.actions[-1].startswith("Model: 2 calls to openai gpt-4o-2024-08-06, 2400 input")
    asked = json.loads(answers.sent(CLASSIFY)["messages"][1]["content"])
    assert asked["bullet"] == "What is moving in the sales pipeline"
    assert {"kind": "deals", "label": "Deals"} in asked["need_kinds"]
    assert '"Acme renewal"' in answers.sent(PROSE)["messages"][0]["content"]


def test_a_failing_classifier_leaves_the_bullet_not_understood(vault: Path, serve: Any) -> None:
    """The classifier's call gets a 500: the bullet is reported as not understood with the
    reason, the run goes on, and the prose still runs."""
    api, _ = serve({CLASSIFY: Reply(500, SERVER_ERROR), PROSE: answer({"reply_markdown": "Quiet day."})})
    result = run(parse_skill(ODD_SKILL), vault, llm_settings(api), deals_registry())
    assert [b.text for b in result.unrecognised] == ["What is moving in the sales pipeline"]
    assert result.summary.context[-1] == 'Not understood: "What is moving in the sales pipeline" (line 8)'
    assert result.summary.unavailable == (
        '"What is moving in the sales pipeline": no need type recognises it',
    )
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.actions[0] == (
        'Could not place "What is moving in the sales pipeline": the model could not classify it '
        "(openai answered 500: The server had an error)"
    )
    assert result.output.completed and result.output.text == "Quiet day."


def test_a_failing_prose_call_degrades_and_writes_nothing(vault: Path, serve: Any) -> None:
    """The model answers 500 to the prose: nothing is written, the session is named as not run,
    and the drafted run names the failure, with everything it loaded."""
    before = (vault / CAPTIVE / "Today.md").read_text()
    api, _ = serve({PROSE: Reply(500, SERVER_ERROR)})
    result = run(planning_daily(), vault, llm_settings(api))
    assert (vault / CAPTIVE / "Today.md").read_text() == before and result.writes == ()
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.unavailable == (
        "Session: the model call failed (openai answered 500: The server had an error)",
    )
    assert result.summary.context[0] == "Calendar: 2 events for 2026-02-17"
    assert not result.output.completed and result.calls == ()


def test_the_cli_runs_the_skill_with_the_configured_provider(vault: Path, serve: Any) -> None:
    """OVERTURE_LLM_* point `skills run` at the model: the reply is printed before the summary,
    which shows the cost; --json carries the usage."""
    api, _ = serve({PROSE: answer(PLAN)})
    cli = click.Group("overture")
    register(cli)
    env = {
        "OVERTURE_LLM_PROVIDER": "openai",
        "OVERTURE_LLM_MODEL": "gpt-4o",
        "OVERTURE_LLM_API_KEY": "sk-test",
        "OVERTURE_LLM_BASE_URL": f"{api.url}/v1",
    }
    args = [
        "skills",
        "run",
        "planning-daily",
        "--date",
        "2026-02-17",
        "--vault",
        str(vault),
        "--timezone",
        "UTC",
    ]
    text = CliRunner().invoke(cli, args, env=env)
    assert text.exit_code == 0, text.output
    assert text.output.startswith(
        f"{PLAN['reply_markdown']}\n\n---\n**Orchestrator Summary: planning-daily**"
    )
    assert f"- {MODEL_LINE}\n" in text.output and "**Status:** Drafted (no session)\n" in text.output
    assert (vault / CAPTIVE / "Today.md").read_text() == TODAY
    as_json = CliRunner().invoke(cli, [*args, "--json", "--dry-run"], env=env)
    data = json.loads(as_json.output)
    assert (data["usage"]["calls"], data["usage"]["cost_usd"]) == (1, 0.0038)
    assert data["reply"] == PLAN["reply_markdown"]
