"""Sessions held by a model through `overture skills chat --answers`, against loopback fakes
that speak the real streamed OpenAI and Anthropic APIs with tool calls: the loaded context is
the opening turn, the model's text streams to the person, it reads a loaded file, proposes a
write the person accepts, and finishes; every turn is metered and the budget is checked."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from overture.cli.main import cli
from overture.llm.base import Usage
from overture.llm.pricing import PriceTable
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT
from tests.fake_models import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    FakeModel,
    Script,
    Turn,
    last_user_text,
    serve,
    tool_results,
)
from tests.unit.test_integrations_apis import FakeApi

DATA = Path(__file__).resolve().parents[1] / "data" / "vaults"
CONFIGURED = {"openai": "gpt-4o", "anthropic": ANTHROPIC_MODEL}
ANSWERED_BY = {"openai": OPENAI_MODEL, "anthropic": ANTHROPIC_MODEL}
TODAY = "---\ndate: 2026-12-01\n---\n# Tuesday 2026-12-01\n\n## Top 3\n- [x] Ship it\n- [ ] Answer Jonas\n"
# skill → (the file the model reads, the note it writes, how)
PLAN = {
    "planning-daily": ("Areas/People/EstherS.md", "Captive/Today.md", "replace"),
    "planning-weekly": ("Areas/People/EstherS.md", "Captive/Week.md", "replace"),
    "review-daily": ("Captive/Today.md", "Captive/Today.md", "append"),
}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE, "OVERTURE_LLM_PROVIDER", "OVERTURE_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "second"
    shutil.copytree(DATA / "periodic", root)
    (root / "Captive" / "Today.md").write_text(TODAY)
    return root


@pytest.fixture
def running() -> Iterator[list[FakeApi]]:
    apis: list[FakeApi] = []
    yield apis
    for api in apis:
        api.__exit__(None, None, None)


def script(skill: str) -> Script:
    read, note, mode = PLAN[skill]
    return [
        lambda body: Turn(text="Good morning, Robin. Which outcome matters most today?"),
        lambda body: Turn(text="Let me look at the note.", calls=(("read_file", {"path": read}),)),
        lambda body: Turn(
            text="Here is the change.",
            calls=(
                (
                    "propose_write",
                    {"path": note, "content": f"## Plan\n- [ ] {last_user_text(body)}\n", "mode": mode},
                ),
            ),
        ),
        lambda body: Turn(calls=(("finish", {"decisions": [f"Chose '{last_user_text(body)}' first"]}),)),
    ]


def chat(
    kind: str, skill: str, vault: Path, tmp_path: Path, running: list[FakeApi], answers: str, *extra: str
) -> tuple[Result, FakeModel]:
    api, model = serve(kind, script(skill))
    running.append(api.__enter__())
    file = tmp_path / "answers.yaml"
    file.write_text(answers)
    env = {
        "OVERTURE_LLM_PROVIDER": kind,
        "OVERTURE_LLM_MODEL": CONFIGURED[kind],
        "OVERTURE_LLM_API_KEY": "sk-test",
        "OVERTURE_LLM_BASE_URL": f"{api.url}/v1" if kind == "openai" else api.url,
    }
    args = ["skills", "chat", skill, "--folder", str(DATA / "periodic-skills"), "--vault", str(vault)]
    args += ["--date", "2026-12-01", "--timezone", "Europe/Berlin", "--answers", str(file), *extra]
    return CliRunner().invoke(cli, args, env=env), model


def system_and_opening(kind: str, body: dict[str, Any]) -> tuple[str, str]:
    if kind == "openai":
        return body["messages"][0]["content"], body["messages"][1]["content"]
    return body["system"], body["messages"][0]["content"][0]["text"]


def tool_names(kind: str, body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] if kind == "openai" else t["name"] for t in body["tools"]]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("skill", sorted(PLAN))
def test_a_model_holds_the_session_with_tools(
    kind: str, skill: str, vault: Path, tmp_path: Path, running: list[FakeApi]
) -> None:
    result, model = chat(
        kind, skill, vault, tmp_path, running, "reply: [The cutover sign-off]\nwrite: [yes]\n"
    )
    assert result.exit_code == 0, result.output
    first = model.requests[0]
    assert first["stream"] is True and tool_names(kind, first) == ["read_file", "propose_write", "finish"]
    if kind == "openai":
        assert first["stream_options"] == {"include_usage": True}
    system, opening = system_and_opening(kind, first)
    assert f'holding the skill "{skill}"' in system and "## Validate" in system
    assert opening.startswith(f"Loading context for {skill}:")
    read, note, mode = PLAN[skill]
    assert last_user_text(model.requests[1]) == "The cutover sign-off"
    assert (vault / read).read_text().strip()[:40] in tool_results(model.requests[2])[0]
    assert (
        tool_results(model.requests[3])[-1]
        == f"The user agreed; {note} will be written when the session ends."
    )
    written = (vault / note).read_text()
    proposed = "## Plan\n- [ ] The cutover sign-off\n"
    assert written == (TODAY.rstrip("\n") + "\n\n" + proposed if mode == "append" else proposed)
    assert "Good morning, Robin. Which outcome matters most today?\n" in result.output  # streamed
    usage = Usage(input_tokens=4000, output_tokens=240)
    cost = PriceTable.load().cost_usd(kind, CONFIGURED[kind], usage)
    assert cost is not None
    done = {"replace": "Updated", "append": "Appended to"}[mode]
    block = result.output.split("**Actions Taken:**\n", 1)[1].split("\n\n", 1)[0]
    assert block.splitlines() == [
        f"- {done} {note.rsplit('/', 1)[1]} in Captive",
        "- Chose 'The cutover sign-off' first",
        f"- User completed the {skill} session",
        f"- Model: 4 calls to {kind} {ANSWERED_BY[kind]}, 4000 input + 240 output tokens, ${cost:.6f}",
    ]
    assert "**Status:** Complete" in result.output


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_the_budget_stops_the_session_before_the_next_turn(
    kind: str, vault: Path, tmp_path: Path, running: list[FakeApi]
) -> None:
    """One turn costs more than the budget: the model is not asked again, nothing is written,
    and the summary names the budget."""
    before = (vault / "Captive" / "Today.md").read_text()
    result, model = chat(
        kind, "planning-daily", vault, tmp_path, running, "reply: [x]\n", "--budget-usd", "0.001"
    )
    assert result.exit_code == 0, result.output
    assert len(model.requests) == 1
    assert (vault / "Captive" / "Today.md").read_text() == before
    assert "- Session: stopped at the budget ($0.00" in result.output
    assert "**Status:** Complete (degraded)" in result.output
    assert "- Model: 1 call to " in result.output


def test_a_write_the_person_refuses_is_not_made_and_the_model_is_told(
    vault: Path, tmp_path: Path, running: list[FakeApi]
) -> None:
    before = (vault / "Captive" / "Today.md").read_text()
    result, model = chat("openai", "planning-daily", vault, tmp_path, running, "reply: [x]\nwrite: [no]\n")
    assert result.exit_code == 0, result.output
    assert (vault / "Captive" / "Today.md").read_text() == before
    assert tool_results(model.requests[3])[-1] == "The user said no; nothing was written."
    assert "- Declined the proposed write of Captive/Today.md\n" in result.output
    assert json.loads(json.dumps(model.requests[3]))["model"] == "gpt-4o"
