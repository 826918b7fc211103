"""A whole skill run on a copy of the sample vault: loading, the offline draft, the summary, and
degraded runs (calendar down, a vault file missing, a person without a note)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest

from overture.packs.planner import SAMPLE_VAULT, SKILLS
from overture.skills.context.dates import DateExpressionError
from overture.skills.environment import (
    ENV_CALENDAR,
    ENV_TIMEZONE,
    ENV_VAULT,
    SkillEnvironment,
    build_environment,
)
from overture.skills.orchestrate import SkillRun, run_skill
from overture.skills.prose.llm import LoadedContext, ProseResult
from overture.skills.prose.vault_tools import VaultTools
from overture.skills.providers.calendar import CalendarEvent, CallableCalendar, IcsCalendar
from overture.skills.skillfile import load_skill, parse_skill
from overture.skills.summary import RunStatus, Summary, render_summary

MONDAY_MORNING = datetime(2026, 2, 16, 7, 0, tzinfo=UTC)
CAPTIVE = "00_Brain/Captive"


def copy_vault(tmp_path: Path) -> Path:
    """The sample vault, copied so a test never writes into the repository."""
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root)
    return root


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return copy_vault(tmp_path)


def run(name: str, env: SkillEnvironment, date_expr: str | None = "tomorrow", apply: bool = True) -> SkillRun:
    skill = load_skill(SKILLS / name / "SKILL.md")
    return asyncio.run(run_skill(skill, env, MONDAY_MORNING, date_expr, apply_writes=apply))


def test_planning_daily_for_tomorrow_loads_everything_and_drafts_today(vault: Path) -> None:
    """Tuesday's plan: 2 events, Week.md, Sarah's note, two projects, the profile; Today.md written."""
    result = run("planning-daily", build_environment(vault=vault, timezone="Europe/London"))
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.context == (
        "Calendar: 2 events for 2026-02-17",
        "Week.md: Loaded from Captive [00_Brain/Captive/Week.md]",
        "Today.md: Loaded from Captive (for 2026-02-16) [00_Brain/Captive/Today.md]",
        "People: Sarah Chen (1:1 at 14:00) [02_Areas/People/Sarah Chen.md]",
        "Projects: Backend Hiring, Q1 Roadmap [01_Projects/Backend Hiring.md, 01_Projects/Q1 Roadmap.md]",
        "Directives: User preferences loaded (profile.md) [00_Brain/Systemic/Directives/profile.md]",
    )
    assert result.summary.actions == (
        "Updated Today.md in Captive",
        "Session prose not run: no language model is configured (offline provider)",
    )
    today = (vault / CAPTIVE / "Today.md").read_text()
    assert today.startswith("---\ndate: 2026-02-17\n")
    assert "## Schedule\n- 09:00-09:15: Team standup\n- 14:00-14:30: 1:1 with Sarah Chen\n" in today
    assert "### Sarah Chen (14:00)\n- Feedback on the Q1 roadmap draft\n" in today
    assert "## Priorities (from Week.md)\n- [ ] Get sign-off on the Q1 roadmap\n" in today
    assert "Book the design review" not in today


def test_the_loaded_context_reads_as_the_seeds_example(vault: Path) -> None:
    """ "Loading context for planning-daily:", then the calendar, Week.md, the person, directives."""
    result = run("planning-daily", build_environment(vault=vault, timezone="Europe/London"), apply=False)
    assert result.loading.startswith(
        "Loading context for planning-daily:\n\n"
        "Date: 2026-02-17 (tomorrow, scope day, time zone Europe/London)\n\n"
        "Calendar Events (2026-02-17):\n- 09:00-09:15: Team standup\n- 14:00-14:30: 1:1 with Sarah Chen\n\n"
        "Week.md:\n---\nweek: 2026-W08\n"
    )
    assert "\n\nSarah Chen (Person):\n---\naliases: [Sarah]\n" in result.loading
    assert "\n\nUser Directives:\n---\nname: Alex Rivera\n" in result.loading
    assert (vault / CAPTIVE / "Today.md").read_text().startswith("---\ndate: 2026-02-16\n")


def test_planning_weekly_drafts_week_md_from_the_weeks_workdays(vault: Path) -> None:
    """This week: 11 events, 3 1:1s (Priya found by alias), Month.md priorities; Week.md written."""
    result = run("planning-weekly", build_environment(vault=vault, timezone="UTC"), date_expr=None)
    assert result.date is not None and result.date.workdays[0] == date(2026, 2, 16)
    assert result.summary.context[0] == "Calendar: 11 events for week of 2026-02-16"
    assert result.summary.context[2].startswith(
        "People: Sarah Chen (1:1 at Tue 14:00), Priya Patel (1:1 at Wed 15:00), "
        "Marcus Reid (1:1 at Thu 11:00)"
    )
    week = (vault / CAPTIVE / "Week.md").read_text()
    assert "week: 2026-W08\ndates: 2026-02-16 to 2026-02-22\n" in week
    assert "## Thu 2026-02-19\n- All day: Team offsite\n" in week
    assert "## Priorities (from Month.md)\n- [ ] Q1 roadmap agreed" in week


def test_review_daily_appends_a_review_to_today(vault: Path) -> None:
    """Today's review: one of three tasks done, two carried forward, appended to Today.md."""
    result = run("review-daily", build_environment(vault=vault, timezone="UTC"), date_expr="today")
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.actions[0] == "Appended to Today.md in Captive"
    today = (vault / CAPTIVE / "Today.md").read_text()
    assert today.startswith("---\ndate: 2026-02-16\n")
    assert today.endswith(
        "## Review (2026-02-16, drafted offline)\n- Done: 1 of 3 tasks\n- Carry forward:\n"
        "  - [ ] Shortlist three backend candidates\n  - [ ] Answer Marcus about the on-call rota\n"
        "- Meetings: 2\n"
    )


def test_calendar_down_degrades_and_names_calendar_and_people(vault: Path) -> None:
    """The calendar raises: Calendar and People are unavailable and named; the run still completes."""

    def down(start: date, end: date, tz: tzinfo) -> list[CalendarEvent]:
        raise ConnectionError("calendar.example: connection refused")

    env = build_environment(vault=vault, calendar=CallableCalendar(down), timezone="UTC")
    result = run("planning-daily", env)
    assert result.summary.status is RunStatus.DRAFTED
    refused = "ConnectionError: calendar.example: connection refused"
    assert result.summary.context[0] == f"Calendar: ⚠ Unavailable ({refused})"
    assert result.summary.unavailable == (
        "Calendar: ConnectionError: calendar.example: connection refused",
        "People: calendar unavailable: ConnectionError: calendar.example: connection refused",
    )
    markdown = result.markdown
    assert "**Status:** Drafted (no session)\n\n**Unavailable:**\n- Calendar: ConnectionError" in markdown
    today = (vault / CAPTIVE / "Today.md").read_text()
    assert f"## Schedule\n- ⚠ Calendar unavailable ({refused})" in today


def test_no_calendar_configured_is_named_too(vault: Path) -> None:
    """A vault without calendar files and no other source: "no calendar is configured"."""
    shutil.rmtree(vault / "00_Brain/Systemic/Calendars")
    result = run("planning-daily", build_environment(vault=vault, timezone="UTC"))
    assert result.summary.unavailable[0] == "Calendar: no calendar is configured"
    assert result.summary.status is RunStatus.DRAFTED


def test_a_missing_vault_file_degrades_and_is_named(vault: Path) -> None:
    """Week.md deleted: "does not exist yet in Captive", the rest loads, Today.md is still drafted."""
    (vault / CAPTIVE / "Week.md").unlink()
    result = run("planning-daily", build_environment(vault=vault, timezone="UTC"))
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.context[1] == "Week.md: ⚠ Unavailable (Week.md does not exist yet in Captive)"
    assert result.summary.unavailable == ("Week.md: Week.md does not exist yet in Captive",)
    assert "- (no Week.md to take priorities from)" in (vault / CAPTIVE / "Today.md").read_text()


def test_a_person_without_a_note_degrades_and_is_named(vault: Path) -> None:
    """A 1:1 with Jordan Blake, who has no People note: Sarah loads, Jordan is named as missing."""
    ics = vault / "00_Brain/Systemic/Calendars/extra.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:j@t\nDTSTAMP:20260101T000000Z\n"
        "DTSTART:20260217T100000\nDTEND:20260217T103000\nSUMMARY:1:1 with Jordan Blake\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )
    result = run("planning-daily", build_environment(vault=vault, timezone="UTC"))
    assert result.summary.status is RunStatus.DRAFTED
    assert result.summary.context[3] == (
        "People: Jordan Blake (1:1 at 10:00, ⚠ no note), "
        "Sarah Chen (1:1 at 14:00) [02_Areas/People/Sarah Chen.md]"
    )
    assert result.summary.unavailable == ("People: no People note for Jordan Blake",)
    assert "### Jordan Blake\n- ⚠ no People note yet" in (vault / CAPTIVE / "Today.md").read_text()


def test_a_missing_vault_folder_degrades_every_vault_need(tmp_path: Path) -> None:
    """The vault folder does not exist: each vault need is named; no note is written anywhere."""
    calendar = IcsCalendar([SAMPLE_VAULT / "00_Brain/Systemic/Calendars/work.ics"])
    env = build_environment(vault=tmp_path / "nope", calendar=calendar, timezone="UTC")
    result = run("planning-daily", env)
    assert result.summary.status is RunStatus.DRAFTED
    named = [u.split(":")[0] for u in result.summary.unavailable]
    assert named == ["Week.md", "Today.md", "People", "Projects", "Directives"]
    assert result.summary.context[0] == "Calendar: 2 events for 2026-02-17"
    assert result.summary.actions[0].startswith("Could not write Today.md: ")
    assert not (tmp_path / "nope").exists()


def test_an_unrecognised_bullet_is_reported_and_a_classifier_model_can_place_it(tmp_path: Path) -> None:
    """Offline, "The team's standup notes" is reported; a model that classifies it as directives loads it."""
    skill = parse_skill(
        "---\nname: odd\norchestrated: true\n---\n## Context\n- The team's standup notes\n## Go\nGo.\n"
    )
    env = build_environment(vault=copy_vault(tmp_path), timezone="UTC")
    offline = asyncio.run(run_skill(skill, env, MONDAY_MORNING))
    assert offline.summary.context == ('Not understood: "The team\'s standup notes" (line 6)',)
    assert offline.summary.unavailable == ('"The team\'s standup notes": no need type recognises it',)
    assert offline.summary.status is RunStatus.DRAFTED

    class Classifier:
        def classify_need(self, text: str, kinds: Mapping[str, str]) -> str | None:
            return "directives" if "directives" in kinds else None

        def execute(self, prose: str, context: LoadedContext, tools: VaultTools) -> ProseResult:
            return ProseResult("ok", ("User completed the session",), provider="fake", model="m")

    placed = asyncio.run(run_skill(skill, replace(env, model=Classifier()), MONDAY_MORNING))
    assert placed.summary.status is RunStatus.DRAFTED
    assert placed.summary.context[0].startswith("Directives: User preferences loaded (profile.md)")
    assert placed.summary.actions == ("User completed the session",)


def test_a_skill_without_the_flag_runs_directly_with_no_context(tmp_path: Path) -> None:
    """No orchestration: nothing is loaded, the whole body is the prose, and the summary says so."""
    seen: dict[str, Any] = {}

    class Model:
        async def execute(self, prose: str, context: LoadedContext, tools: VaultTools) -> ProseResult:
            seen.update(prose=prose, text=context.text, results=context.results)
            tools.write("Inbox.md", "hello")
            return ProseResult("hi", provider="fake", model="m")

    skill = parse_skill("---\nname: hello\n---\n## Context\n- Calendar events\n\nSay hello.\n")
    env = replace(build_environment(vault=copy_vault(tmp_path)), model=Model())
    result = asyncio.run(run_skill(skill, env, MONDAY_MORNING))
    assert seen == {"prose": "## Context\n- Calendar events\n\nSay hello.", "text": "", "results": ()}
    assert result.summary.context == ("None: the skill runs directly (no orchestrated Context section)",)
    assert result.summary.actions == ("Created Inbox.md in .",)
    assert result.summary.status is RunStatus.DRAFTED
    assert (tmp_path / "vault" / "Inbox.md").read_text() == "hello"


def test_a_bad_date_argument_is_an_error_not_a_degraded_run(vault: Path) -> None:
    """--date someday is the caller's mistake: DateExpressionError, nothing written."""
    with pytest.raises(DateExpressionError, match="not understood"):
        run("planning-daily", build_environment(vault=vault), date_expr="someday")
    assert (vault / CAPTIVE / "Today.md").read_text().startswith("---\ndate: 2026-02-16\n")


def test_the_summary_renders_in_the_seeds_format() -> None:
    """The seed's degraded example, line for line, plus the list of what was unavailable."""
    summary = Summary(
        skill="planning-daily",
        status=RunStatus.DEGRADED,
        context=(
            "Calendar: ⚠ Unavailable (fetch-calendar failed)",
            "Week.md: Loaded successfully",
            "People: No 1:1s scheduled",
            "Directives: User preferences loaded",
        ),
        actions=("Created Today.md without calendar context",),
        unavailable=("Calendar: fetch-calendar failed",),
    )
    assert render_summary(summary) == (
        "---\n**Orchestrator Summary: planning-daily**\n\n**Context Loaded:**\n"
        "- Calendar: ⚠ Unavailable (fetch-calendar failed)\n- Week.md: Loaded successfully\n"
        "- People: No 1:1s scheduled\n- Directives: User preferences loaded\n\n"
        "**Actions Taken:**\n- Created Today.md without calendar context\n\n"
        "**Status:** Complete (degraded)\n\n**Unavailable:**\n- Calendar: fetch-calendar failed\n---"
    )


def test_the_run_as_json_carries_the_step_output_fields(vault: Path) -> None:
    """name, status, context (with counts and sources), actions, unavailable, summary markdown, date."""
    data = run("planning-daily", build_environment(vault=vault, timezone="UTC"), apply=False).as_json()
    assert (data["name"], data["status"], data["unavailable"]) == (
        "planning-daily",
        "Drafted (no session)",
        [],
    )
    assert data["context"][0] == {
        "need": "Calendar",
        "kind": "calendar",
        "text": "Calendar events for the day",
        "availability": "loaded",
        "summary": "2 events for 2026-02-17",
        "count": 2,
        "sources": [str(vault / "00_Brain/Systemic/Calendars/work.ics")],
        "problems": [],
        "ms": data["context"][0]["ms"],
    }
    assert data["summary"].startswith("---\n**Orchestrator Summary: planning-daily**")
    assert data["date"]["target_date"] == "2026-02-17"
    assert data["writes"] == [{"path": "00_Brain/Captive/Today.md", "mode": "updated"}]
    assert data["model"] == {"provider": "offline", "model": "none", "ran": False}
