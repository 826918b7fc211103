"""Offline sessions driven by an answers file through `overture skills chat --answers`: per
skill, on the sample vault and on the second layout, asserting the notes written and the
summary (the person's decisions under Actions Taken, and an honest status)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from overture.cli.main import cli
from overture.packs.planner import SAMPLE_VAULT
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT, build_environment
from overture.skills.session.conversation import Question, ScriptedConversation, SessionCancelled
from overture.skills.session.run import run_session
from overture.skills.skillfile import load_skills

DATA = Path(__file__).resolve().parents[1] / "data" / "vaults"
SECOND_SKILLS = DATA / "periodic-skills"
SAMPLE_CAPTIVE = "00_Brain/Captive"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OVERTURE_LLM_PROVIDER", "offline")


@pytest.fixture
def second(tmp_path: Path) -> Path:
    root = tmp_path / "second"
    shutil.copytree(DATA / "periodic", root)
    return root


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE_VAULT, root)
    return root


def chat(tmp_path: Path, vault: Path, skill: str, date: str, answers: str, *extra: str) -> Result:
    """`skills chat` on the second layout's skills (or the built-in ones for the sample vault)."""
    file = tmp_path / f"answers-{skill}-{date}.yaml"
    file.write_text(answers)
    folder = ("--folder", str(SECOND_SKILLS)) if vault.name == "second" else ()
    zone = "Europe/Berlin" if vault.name == "second" else "Europe/London"
    args = ["skills", "chat", skill, "--vault", str(vault), "--date", date, "--timezone", zone]
    return CliRunner().invoke(cli, [*args, *folder, "--answers", str(file), *extra])


def actions(output: str) -> list[str]:
    block = output.split("**Actions Taken:**\n", 1)[1].split("\n\n", 1)[0]
    return [line.removeprefix("- ") for line in block.splitlines()]


DAILY_ANSWERS = """\
meetings: drop 3
priorities: [2, "Book the retro room"]
bring:
  Esther Schmidt: the Q1 headcount numbers
  Tomas Kovac: the rollback window decision (4 h)
focus: [accept, drop]
"""


def test_planning_daily_on_the_second_layout(tmp_path: Path, second: Path) -> None:
    """Meetings confirmed (one dropped), priorities from yesterday's note and the person's own,
    what to bring to each 1:1 (Tomas answered without accents), focus blocks as the directives
    shape them; Today.md written from the answers, the stale Week.md named."""
    result = chat(tmp_path, second, "planning-daily", "2026-12-01", DAILY_ANSWERS)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Loading context for planning-daily (2026-12-01):" in out
    assert "  3. 11:00-12:00: Billing migration sync" in out
    assert "  1. Reply to Jonas about the data retention question (2026-11-30)" in out
    assert "Close the Q1 budget with Esther (Week.md, for week 7, not week 49)" in out
    assert "⚠ Week.md is for week 7, not week 49" in out
    assert "1:1 with Esther Schmidt at 10:00. Their note says is open:\n  - Sign-off on the billing" in out
    today = (second / "Captive" / "Today.md").read_text()
    assert today.startswith("---\ndate: 2026-12-01\n")
    assert "## Top 3\n- [ ] Sign off the billing cutover plan\n- [ ] Book the retro room\n\n" in today
    assert "Billing migration sync" not in today
    assert "- 09:15-10:00: Focus block\n- 10:00-10:30: Esther <> Robin\n" in today
    assert today.count("Focus block") == 1
    assert "### Esther Schmidt (10:00)\n- Bring: the Q1 headcount numbers\n- Also open: Sign-off" in today
    assert "### Tomás Kovač (14:00)\n- Bring: the rollback window decision (4 h)\n" in today
    assert "### Mei Lin (16:00)\n- Bring: Pricing page review on Thursday" in today
    assert actions(out) == [
        "Created Today.md in Captive",
        "Confirmed 4 meetings; dropped Billing migration sync",
        "Top priorities: Sign off the billing cutover plan; Book the retro room",
        "For the 1:1 with Esther Schmidt: bring the Q1 headcount numbers",
        "For the 1:1 with Tomás Kovač: bring the rollback window decision (4 h)",
        "For the 1:1 with Mei Lin: bring Pricing page review on Thursday: needs Esther's input on plan "
        "names; Feedback on the wireframes, round two",
        "Focus block 09:15-10:00 accepted",
        "Focus block 10:30-12:00 dropped",
        "User completed daily planning session",
    ]
    assert (
        "**Status:** Complete (degraded)\n\n**Unavailable:**\n- Week.md: stale, for week 7, not week 49"
        in out
    )
    assert out.rstrip().endswith(f"wrote {second / 'Captive' / 'Today.md'}")


def test_review_then_tomorrows_plan_carry_the_open_items(tmp_path: Path, second: Path) -> None:
    """The evening review carries two items to tomorrow and drops one; the next morning's
    plan offers the carried items first and archives the earlier day before replacing it."""
    assert chat(tmp_path, second, "planning-daily", "2026-12-01", DAILY_ANSWERS).exit_code == 0
    review = chat(
        tmp_path, second, "review-daily", "2026-12-01", "open: [tomorrow, drop]\nfelt: long but clear\n"
    )
    assert review.exit_code == 0, review.output
    today = (second / "Captive" / "Today.md").read_text()
    assert today.endswith(
        "## Review (2026-12-01)\n- Done: 0 of 2\n- Carried (tomorrow):\n"
        "  - [ ] Sign off the billing cutover plan\n- Dropped: Book the retro room\n"
        "- Felt: long but clear\n"
    )
    assert actions(review.output) == [
        "Appended to Today.md in Captive",
        "Done: 0 of 2",
        "Carried to tomorrow: Sign off the billing cutover plan",
        "Dropped: Book the retro room",
        "User completed daily review session",
    ]
    tomorrow = chat(tmp_path, second, "planning-daily", "2026-12-02", "priorities: 1\n", "--dry-run")
    assert tomorrow.exit_code == 0, tomorrow.output
    offered = tomorrow.output.split("On offer for priorities for the day:\n", 1)[1]
    assert offered.startswith("  1. Sign off the billing cutover plan (Today.md)\n")
    assert "Today.md is still the plan for 2026-12-01, and it is not archived yet." in tomorrow.output
    assert "Archive it to Periodic/Daily/2026-12-01.md first? (yes/no)\n> yes" in tomorrow.output
    assert actions(tomorrow.output)[:2] == [
        "Would create 2026-12-01.md in Periodic/Daily",
        "Would update Today.md in Captive",
    ]
    assert not (second / "Periodic" / "Daily" / "2026-12-01.md").exists()
    assert "would write" in tomorrow.output and (second / "Captive" / "Today.md").read_text() == today
    planned = chat(tmp_path, second, "planning-daily", "2026-12-02", "priorities: 1\n")
    assert planned.exit_code == 0, planned.output
    assert (second / "Periodic" / "Daily" / "2026-12-01.md").read_text() == today.rstrip("\n") + "\n"
    assert (second / "Captive" / "Today.md").read_text().startswith("---\ndate: 2026-12-02\n")


def test_planning_weekly_on_the_second_layout(tmp_path: Path, second: Path) -> None:
    """Last week's carried items settled one by one, outcomes agreed (carried first, then last
    month's open goals), 1:1s prepared; Week.md for week 49 written; Month.md named as not
    existing yet."""
    answers = (
        "carry: [accept, accept, drop]\noutcomes: [1, 2, 3]\nbring:\n  Jonas Weber: the retention answer\n"
    )
    result = chat(tmp_path, second, "planning-weekly", "2026-W49", answers)
    assert result.exit_code == 0, result.output
    week = (second / "Captive" / "Week.md").read_text()
    assert week.startswith("---\nweek: 2026-W49\ndates: 2026-11-30 to 2026-12-06\n")
    assert (
        "## Focus\n- [ ] Sign off the billing cutover plan with Esther\n"
        "- [ ] Answer Jonas on data retention\n"
        "- [ ] Billing cutover plan signed off\n" in week
    )
    assert "### Tue 2026-12-01\n- 09:00-09:15: Daily standup\n- 10:00-10:30: Esther <> Robin\n" in week
    assert "### Jonas Weber (Wed 15:00)\n- Bring: the retention answer\n" in week
    assert "Month.md: ⚠ Unavailable (Month.md does not exist yet in Captive" in result.output
    assert actions(result.output)[:5] == [
        "Updated Week.md in Captive",
        "Carried item accepted: Sign off the billing cutover plan with Esther",
        "Carried item accepted: Answer Jonas on data retention",
        "Carried item dropped: Pricing page review on Thursday",
        "Outcomes for the week: Sign off the billing cutover plan with Esther; Answer Jonas on data "
        "retention; Billing cutover plan signed off",
    ]


def test_the_sample_vaults_three_skills(tmp_path: Path, sample: Path) -> None:
    """The built-in skills on the sample vault: everything loaded, so each session is Complete."""
    daily = chat(tmp_path, sample, "planning-daily", "2026-02-17", "priorities: [1, 2]\n")
    assert daily.exit_code == 0, daily.output
    today = (sample / SAMPLE_CAPTIVE / "Today.md").read_text()
    assert "### Sarah Chen (14:00)\n- Bring: Feedback on the Q1 roadmap draft\n" in today
    assert "**Status:** Complete\n" in daily.output
    assert "Shortlist three backend candidates (Today.md)" in daily.output
    review = chat(tmp_path, sample, "review-daily", "2026-02-17", "open: [later]\nfelt: fine\n")
    assert review.exit_code == 0, review.output
    assert "Moved to later this week: " in review.output and "**Status:** Complete\n" in review.output
    weekly = chat(tmp_path, sample, "planning-weekly", "2026-W09", "outcomes: [1]\n")
    assert weekly.exit_code == 0, weekly.output
    week = (sample / SAMPLE_CAPTIVE / "Week.md").read_text()
    assert week.startswith("---\nweek: 2026-W09\n") and "**Status:** Complete\n" in weekly.output


def test_saying_no_writes_nothing_and_the_summary_says_so(tmp_path: Path, second: Path) -> None:
    result = chat(tmp_path, second, "planning-daily", "2026-12-01", "write: no\n")
    assert result.exit_code == 0, result.output
    assert not (second / "Captive" / "Today.md").exists()
    assert "Did not write Today.md (you said no)" in actions(result.output)
    assert "wrote" not in result.output.split("**Status:**", 1)[1]


def test_an_answer_to_no_question_is_refused_and_nothing_is_written(tmp_path: Path, second: Path) -> None:
    result = chat(tmp_path, second, "planning-daily", "2026-12-01", "priorites: [1]\n")
    assert result.exit_code == 2
    assert "answers for questions this session never asked: priorites" in result.output
    assert not (second / "Captive" / "Today.md").exists()


def test_a_cancelled_session_writes_nothing_and_says_cancelled(second: Path) -> None:
    """Ctrl-C at the write question: nothing half-written, status Cancelled."""

    class CancelAtWrite(ScriptedConversation):
        async def ask(self, question: Question) -> str:
            if question.key == "write":
                raise SessionCancelled
            return await super().ask(question)

    skill = load_skills(SECOND_SKILLS).skills["planning-daily"]
    env = build_environment(vault=second, timezone="Europe/Berlin")
    result = asyncio.run(
        run_session(skill, env, datetime(2026, 12, 1, 6, tzinfo=UTC), CancelAtWrite(), "today")
    )
    assert result.summary.status.value == "Cancelled" and result.writes == ()
    assert result.summary.actions[-1] == "Cancelled by the user: nothing was written"
    assert not (second / "Captive" / "Today.md").exists()


def test_a_focus_block_moved_onto_a_meeting_is_kept_and_the_clash_named(tmp_path: Path, second: Path) -> None:
    result = chat(tmp_path, second, "planning-daily", "2026-12-01", "focus: ['15:30', drop]\n", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Focus block moved from 09:15-10:00 to 15:30-16:15 (it overlaps 1 meeting)" in actions(
        result.output
    )
    assert "Would create Today.md in Captive" in actions(result.output)
