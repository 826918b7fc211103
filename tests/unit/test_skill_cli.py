"""``overture skills list`` and ``overture skills run``, invoked on a group built in the test."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from overture.cli.skills import register
from overture.packs.planner import SAMPLE_VAULT
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT

CAPTIVE = Path("00_Brain/Captive")


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample vault; the environment names no other vault, calendar or zone."""
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root)
    return root


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    cli = click.Group("overture")
    register(cli)
    return CliRunner().invoke(cli, ["skills", *args], env=env)


def test_skills_list_shows_the_planner_skills() -> None:
    """The three planner skills, each orchestrated, with their descriptions."""
    result = invoke("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["planning-daily", "planning-weekly", "review-daily"]
    assert all(" orchestrated " in line for line in lines)
    listed = json.loads(invoke("list", "--json").output)
    assert listed[0]["context"][0] == "Calendar events for the day"


def test_run_planning_daily_for_tomorrow_on_the_sample_vault(vault: Path) -> None:
    """`skills run planning-daily --date tomorrow` prints the summary and drafts Today.md for tomorrow."""
    before = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    result = invoke("run", "planning-daily", "--date", "tomorrow", "--vault", str(vault), "--timezone", "UTC")
    after = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("---\n**Orchestrator Summary: planning-daily**\n")
    assert "**Status:** Drafted (no session)\n" in result.output
    calendar_line = next(line for line in result.output.splitlines() if line.startswith("- Calendar: "))
    assert calendar_line.endswith((f"for {before}", f"for {after}"))
    assert result.output.rstrip().endswith(f"wrote {vault / CAPTIVE / 'Today.md'}")
    week_line = next(line for line in result.output.splitlines() if line.startswith("- Week.md: "))
    assert week_line.startswith(
        (
            "- Week.md: Loaded from Captive",
            "- Week.md: ⚠ for week 8, not week",
            "- Week.md: ⚠ for week 8 of 2026, not week",
        )
    )
    today = (vault / CAPTIVE / "Today.md").read_text()
    assert today.startswith((f"---\ndate: {before}\n", f"---\ndate: {after}\n"))


def test_run_with_a_fixed_date_as_json(vault: Path) -> None:
    """--date 2026-02-17 --json: the exact context of that Tuesday, and the vault used."""
    result = invoke(
        "run",
        "planning-daily",
        "--date",
        "2026-02-17",
        "--vault",
        str(vault),
        "--timezone",
        "Asia/Tokyo",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["name"], data["status"], data["vault"]) == (
        "planning-daily",
        "Drafted (no session)",
        str(vault),
    )
    assert data["date"]["target_date"] == "2026-02-17" and data["date"]["timezone"] == "Asia/Tokyo"
    assert [c["summary"] for c in data["context"]][:3] == [
        "2 events for 2026-02-17",
        "Loaded from Captive",
        "Loaded from Captive (for 2026-02-16)",
    ]
    assert data["writes"] == [{"path": "00_Brain/Captive/Today.md", "mode": "updated"}]


def test_the_vault_comes_from_the_environment_when_not_given(vault: Path) -> None:
    """$OVERTURE_VAULT names the vault when --vault is absent; --dry-run writes nothing."""
    original = (vault / CAPTIVE / "Week.md").read_text()
    result = invoke(
        "run", "planning-weekly", "--date", "next week", "--dry-run", "--json", env={ENV_VAULT: str(vault)}
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["vault"], data["dry_run"]) == (str(vault), True)
    assert data["writes"] == [{"path": "00_Brain/Captive/Week.md", "mode": "updated"}]
    assert "Would update Week.md in Captive" in data["actions"]
    assert (vault / CAPTIVE / "Week.md").read_text() == original
    text = invoke("run", "planning-weekly", "--date", "next week", "--dry-run", env={ENV_VAULT: str(vault)})
    assert "- Would update Week.md in Captive\n" in text.output and "Updated" not in text.output
    assert text.output.rstrip().endswith(f"would write {vault / CAPTIVE / 'Week.md'}")
    assert (vault / CAPTIVE / "Week.md").read_text() == original


def test_one_unreadable_skill_is_named_and_the_others_still_run(vault: Path, tmp_path: Path) -> None:
    """A folder with a skill whose front matter cannot be read: `list` and `run` of another
    skill work and name the broken one on stderr; asking for the broken one names its problem."""
    from overture.packs.planner import SKILLS

    folder = tmp_path / "skills"
    shutil.copytree(SKILLS, folder)
    (folder / "broken").mkdir()
    (folder / "broken" / "SKILL.md").write_text("---\nname: broken\ndescription: [never closed\n---\nHi.\n")
    listed = invoke("list", "--folder", str(folder))
    assert listed.exit_code == 0
    assert "skipped skill 'broken': " in listed.stderr and "not valid YAML" in listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()][:3] == [
        "planning-daily",
        "planning-weekly",
        "review-daily",
    ]
    ran = invoke("run", "planning-daily", "--folder", str(folder), "--vault", str(vault), "--dry-run")
    assert ran.exit_code == 0 and "**Status:** Drafted (no session)" in ran.stdout
    asked = invoke("run", "broken", "--folder", str(folder), "--vault", str(vault))
    assert asked.exit_code == 2 and "skill 'broken' could not be read: " in asked.output


def test_a_calendar_given_on_the_command_line_replaces_the_vaults(vault: Path, tmp_path: Path) -> None:
    """--calendar points at another .ics; its events are the ones loaded."""
    ics = tmp_path / "other.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:x@t\nDTSTAMP:20260101T000000Z\n"
        "DTSTART:20260217T120000\nDTEND:20260217T130000\nSUMMARY:Lunch with the board\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )
    result = invoke(
        "run",
        "planning-daily",
        "--date",
        "2026-02-17",
        "--vault",
        str(vault),
        "--calendar",
        str(ics),
        "--json",
    )
    data = json.loads(result.output)
    assert data["context"][0]["summary"] == "1 event for 2026-02-17"
    assert data["context"][0]["sources"] == [str(ics)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("run", "planning-yearly"),
            "no skill named 'planning-yearly' (known: planning-daily, planning-weekly",
        ),
        (("run", "planning-daily", "--date", "someday"), "date 'someday': not understood"),
        (("run", "planning-daily", "--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("list", "--folder", "/nonexistent/skills"), "--folder /nonexistent/skills: not a folder"),
    ],
)
def test_mistakes_exit_2_with_one_clear_line(vault: Path, args: tuple[str, ...], message: str) -> None:
    """An unknown skill, date, zone or folder: exit code 2 and the reason on stderr."""
    result = invoke(*args, "--vault", str(vault)) if args[0] == "run" else invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert (vault / CAPTIVE / "Today.md").read_text().startswith("---\ndate: 2026-02-16\n")


def test_a_per_user_vault_template_needs_user(vault: Path, tmp_path: Path) -> None:
    """With $OVERTURE_VAULT=…/{user}, --user picks whose vault; without it, a clear refusal;
    a user id that would leave the folder names no vault."""
    shutil.move(vault, tmp_path / "robin")
    template = {ENV_VAULT: str(tmp_path / "{user}")}
    ran = invoke("run", "planning-daily", "--dry-run", "--json", "--user", "robin", env=template)
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["vault"] == str(tmp_path / "robin")
    missing = invoke("run", "planning-daily", "--dry-run", env=template)
    assert missing.exit_code == 2 and "pass --user or --vault" in missing.output
    escape = invoke("run", "planning-daily", "--dry-run", "--user", "..", env=template)
    assert escape.exit_code == 2 and "cannot name a vault folder" in escape.output
    robin = str(tmp_path / "robin")
    shared = invoke("run", "planning-daily", "--dry-run", "--user", "robin", "--vault", robin)
    assert shared.exit_code == 2 and "--user picks a vault only when" in shared.output
