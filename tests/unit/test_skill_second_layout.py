"""Skills and a vault written by someone else for their own rituals (tests/data/vaults/): the
Captive/Periodic/Systemic layout with templates, ``FirstNameL.md`` people, dated project files
and hub files, and SKILL.md files with an unquoted ``: `` in the description, the flag under
``metadata:``, a ``## Validate`` section first and an ``argument-hint``. Every Context bullet
must map to the right need and source, no template is loaded as a note, and every 1:1 person
is found, per skill."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT, build_environment
from overture.skills.orchestrate import SkillRun, run_skill
from overture.skills.providers.names import PersonKeys, match_person
from overture.skills.skillfile import SkillFile, load_skills
from overture.skills.summary import RunStatus

DATA = Path(__file__).resolve().parents[1] / "data" / "vaults"
SKILLS = DATA / "periodic-skills"
# Tuesday 1 December 2026, 07:00 in Berlin; the week is ISO week 49.
TUESDAY = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SUNDAY = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(DATA / "periodic", root)
    return root


def skill(name: str) -> SkillFile:
    loaded = load_skills(SKILLS)
    assert loaded.problems == {}
    return loaded.skills[name]


def run(name: str, vault: Path, now: datetime = TUESDAY, date_expr: str | None = "today") -> SkillRun:
    env = build_environment(vault=vault, timezone="Europe/Berlin")
    return asyncio.run(run_skill(skill(name), env, now, date_expr, dry_run=True))


def mapping(result: SkillRun, vault: Path) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Per Context bullet: its need kind, label, availability and the files it was read from
    (relative to the vault)."""
    prefix = f"{vault}/"
    return [
        (r.need.kind, r.need.label, r.availability.value, tuple(s.removeprefix(prefix) for s in r.sources))
        for r in result.results
    ]


def assert_no_template_loaded(result: SkillRun) -> None:
    sources = [s for r in result.results for s in r.sources]
    assert not [s for s in sources if "Templates" in s]
    assert "{{date" not in result.loading


ICS = ("Systemic/Calendars/northwind.ics",)
PEOPLE = (
    "Areas/People/EstherS.md",
    "Areas/People/TomasK.md",
    "Areas/People/Mei.md",
    "Areas/People/jonas-weber.md",
)


def test_the_folder_reads_as_the_agent_tools_read_it() -> None:
    """An unquoted ': ' in a description, the flag under metadata:, the argument-hint, and the
    whole body after Context (Validate first, then the sections that write) executed."""
    daily = skill("planning-daily")
    assert daily.description.startswith("Morning ritual: turn the calendar")
    assert daily.runs_orchestrated and daily.argument_hint == "[today|tomorrow|YYYY-MM-DD]"
    titles = [s.title for s in daily.steps]
    assert titles == ["Validate", "Planning Session", "Write Today.md", "Close"]
    assert daily.prose_text.startswith("## Validate\n")
    for heading in ("## Planning Session", "### Focus", "## Write Today.md", "## Close"):
        assert heading in daily.prose_text
    assert all(skill(n).runs_orchestrated for n in ("planning-weekly", "review-daily"))


def test_planning_daily_maps_every_bullet_to_its_need_and_source(vault: Path) -> None:
    result = run("planning-daily", vault)
    assert result.date.target_date.isoformat() == "2026-12-01"
    assert mapping(result, vault) == [
        ("calendar", "Calendar", "loaded", ICS),
        ("vault_file", "Week.md", "partial", ("Captive/Week.md",)),
        ("vault_file", "Today.md", "absent", ()),
        ("periodic", "Daily note", "loaded", ("Periodic/Daily/2026-11-30.md",)),
        ("people", "People", "loaded", PEOPLE),
        (
            "projects",
            "Projects",
            "loaded",
            ("Projects/2026-10-05 Billing Migration.md", "Projects/2026-11-16 Pricing Page.md"),
        ),
        (
            "directives",
            "Directives",
            "loaded",
            ("Systemic/Directives/meetings.md", "Systemic/Directives/working-style.md"),
        ),
        ("vault_config", "Vault configuration", "loaded", ("CLAUDE.md",)),
    ]
    assert result.unrecognised == ()
    assert_no_template_loaded(result)
    context = dict(line.split(": ", 1) for line in result.summary.context)
    assert context["Calendar"] == "5 events for 2026-12-01"
    assert context["Week.md"] == "⚠ for week 7, not week 49 [Captive/Week.md]"
    assert context["Today.md"] == "Does not exist yet in Captive (asked for only if it exists)"
    assert context["People"].startswith(
        "Esther Schmidt (1:1 at 10:00; Billing migration sync at 11:00), "
        "Tomás Kovač (1:1 at 14:00; Billing migration sync at 11:00), Mei Lin (1:1 at 16:00), "
        "Jonas Weber (Billing migration sync at 11:00)"
    )
    assert context["Projects"].startswith("Billing Migration, Pricing Page [")
    assert result.summary.unavailable == ("Week.md: stale, for week 7, not week 49",)
    assert result.summary.status is RunStatus.DRAFTED
    assert "Would create Today.md in Captive" in result.summary.actions
    assert not (vault / "Captive" / "Today.md").exists()


def test_planning_weekly_takes_the_week_from_the_skill(vault: Path) -> None:
    """Run for "tomorrow", the weekly skill plans tomorrow's week: a week of calendar, the last
    three weekly archives, last month's note, the week's 1:1 people; Month.md is said not to
    exist (its template is not loaded in its place)."""
    result = run("planning-weekly", vault, now=MONDAY, date_expr="tomorrow")
    assert (result.date.scope.value, result.date.start.isoformat()) == ("week", "2026-11-30")
    assert mapping(result, vault) == [
        ("calendar", "Calendar", "loaded", ICS),
        ("vault_file", "Month.md", "unavailable", ()),
        (
            "periodic",
            "Weekly archives",
            "loaded",
            ("Periodic/Weekly/2026-W48.md", "Periodic/Weekly/2026-W47.md", "Periodic/Weekly/2026-W46.md"),
        ),
        ("periodic", "Monthly note", "loaded", ("Periodic/Monthly/2026-11.md",)),
        ("people", "People", "loaded", PEOPLE),
        (
            "projects",
            "Projects",
            "loaded",
            ("Projects/2026-10-05 Billing Migration.md", "Projects/2026-11-16 Pricing Page.md"),
        ),
        (
            "directives",
            "Directives",
            "loaded",
            ("Systemic/Directives/meetings.md", "Systemic/Directives/working-style.md"),
        ),
        ("vault_config", "Vault configuration", "loaded", ("CLAUDE.md",)),
    ]
    assert_no_template_loaded(result)
    assert result.summary.context[0] == "Calendar: 12 events for week of 2026-11-30"
    assert result.summary.unavailable == (
        "Month.md: Month.md does not exist yet in Captive "
        "(the template Systemic/Templates/month.md is not the note)",
    )
    people = result.summary.context[4]
    assert "Jonas Weber (1:1 at Wed 15:00)" in people and "Esther Schmidt (1:1 at Tue 10:00)" in people


def test_planning_weekly_without_a_date_plans_the_upcoming_week(vault: Path) -> None:
    """On a Sunday evening, "the upcoming week" is the week from tomorrow."""
    result = run("planning-weekly", vault, now=SUNDAY, date_expr=None)
    assert (result.date.scope.value, result.date.start.isoformat()) == ("week", "2026-11-30")


def test_review_daily_maps_every_bullet_and_never_reads_the_template(vault: Path) -> None:
    result = run("review-daily", vault)
    assert mapping(result, vault) == [
        ("vault_file", "Today.md", "unavailable", ()),
        ("periodic", "Daily note", "absent", ()),
        ("calendar", "Calendar", "loaded", ICS),
        ("vault_file", "Week.md", "partial", ("Captive/Week.md",)),
        (
            "directives",
            "Directives",
            "loaded",
            ("Systemic/Directives/meetings.md", "Systemic/Directives/working-style.md"),
        ),
    ]
    assert_no_template_loaded(result)
    assert result.summary.unavailable[0] == (
        "Today.md: Today.md does not exist yet in Captive "
        "(the template Systemic/Templates/today.md is not the note)"
    )


def test_review_daily_of_an_archived_day_loads_that_days_note(vault: Path) -> None:
    """Re-reviewing 30 November: the existing daily archive is that day's own note."""
    result = run("review-daily", vault, date_expr="2026-11-30")
    periodic = next(r for r in result.results if r.need.kind == "periodic")
    assert periodic.sources == ("Periodic/Daily/2026-11-30.md",)


@pytest.mark.parametrize(
    ("attendee", "stem"),
    [
        ("Esther Schmidt", "EstherS"),
        ("esther.schmidt@northwind.example", "EstherS"),
        ("Tomas Kovac", "TomasK"),
        ("Mei Lin", "Mei"),
        ("mei.lin@northwind.example", "Mei"),
        ("Jonas Weber", "jonas-weber"),
        ("Schmidt, Esther", "EstherS"),
        ("Dana Whitfield", None),
    ],
)
def test_attendees_match_notes_by_front_matter_initials_and_slugs(attendee: str, stem: str | None) -> None:
    notes = [
        PersonKeys.of("EstherS", {}),
        PersonKeys.of("TomasK", {}),
        PersonKeys.of("Mei", {"name": "Mei Lin", "email": "mei.lin@northwind.example"}),
        PersonKeys.of("jonas-weber", {}),
        PersonKeys.of("Esther Lang", {}),
    ]
    found = match_person(attendee, notes)
    assert (found.stem if found else None) == stem
