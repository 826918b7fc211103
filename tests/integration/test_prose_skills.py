"""Prose skills as sequence steps, on SQLite and PostgreSQL: the summary is the step's output and
vault writes are outbox effects, carried out once after the step is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.engine.registry import Registry
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.skills.context.needs import NeedRegistry, NeedType
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT
from overture.skills.providers.calendar import CalendarEvent, CallableCalendar
from overture.skills.step import VAULT_WRITE, register_prose_skills
from overture.storage.queries import jobs as jobq
from tests.unit.test_skill_orchestrate import copy_vault

CAPTIVE = "00_Brain/Captive"


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample vault, named by $OVERTURE_VAULT before any App loads the planner pack."""
    root = copy_vault(tmp_path)
    monkeypatch.setenv(ENV_VAULT, str(root))
    monkeypatch.delenv(ENV_CALENDAR, raising=False)
    monkeypatch.delenv(ENV_TIMEZONE, raising=False)
    return root


def planner_app(db_url: str, clock: FakeClock, registry: Registry | None = None) -> App:
    app = App(Settings(database_url=db_url, packs=["planner"]), clock=clock, registry=registry)
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None, timezone="Europe/London")
    app.admin.add_user("acme", "kiri", "Kiri", active_hours=None, timezone="Pacific/Kiritimati")
    return app


@pytest.fixture
def app(db_url: str, vault: Path) -> Iterator[App]:
    # Noon in London on Monday 16 Feb 2026; already 02:00 on Tuesday in Kiritimati.
    application = planner_app(db_url, FakeClock(datetime(2026, 2, 16, 12, 0, tzinfo=UTC)))
    yield application
    application.close()


def steps(app: App, job_id: str | None) -> list[Any]:
    with app.store.read() as conn:
        return jobq.steps_of(conn, job_id or "")


def emit(app: App, event_type: str, payload: dict[str, Any], user: str = "ana") -> str | None:
    result = app.emit({"type": event_type, "org_id": "acme", "user_id": user, "payload": payload})
    assert result.status == "accepted", result
    return result.job_id


def test_planning_daily_runs_as_a_step_and_its_summary_is_the_output(app: App, vault: Path) -> None:
    """daily_plan for tomorrow: the plan step stores the summary JSON, the notify step reads it,
    and Today.md is written once, by the outbox, after the step was recorded."""
    job_id = emit(app, "daily_plan", {"date": "tomorrow"})
    app.run_until_idle()
    recorded = steps(app, job_id)
    assert [(s.step_name, s.status.value) for s in recorded] == [
        ("plan", "completed"),
        ("tell-user", "completed"),
    ]
    output = recorded[0].output
    assert (output["name"], output["status"], output["unavailable"]) == (
        "planning-daily",
        "Drafted (no session)",
        [],
    )
    assert output["date"]["target_date"] == "2026-02-17" and output["date"]["timezone"] == "Europe/London"
    assert output["context"][0]["summary"] == "2 events for 2026-02-17"
    assert output["actions"][0] == "Updated Today.md in Captive"
    assert output["summary"].startswith("---\n**Orchestrator Summary: planning-daily**\n")
    assert "- People: Sarah Chen (1:1 at 14:00)" in output["summary"]
    assert (vault / CAPTIVE / "Today.md").read_text().startswith("---\ndate: 2026-02-17\n")
    assert recorded[1].output["notified"] == "ana"


def test_without_a_date_the_skill_default_and_the_users_zone_decide(app: App, vault: Path) -> None:
    """No date: planning-daily means today in the user's zone; Kiritimati is already on Tuesday."""
    london = emit(app, "daily_plan", {}, user="ana")
    kiri = emit(app, "daily_plan", {}, user="kiri")
    app.run_until_idle()
    assert steps(app, london)[0].output["date"]["target_date"] == "2026-02-16"
    assert steps(app, kiri)[0].output["date"]["target_date"] == "2026-02-17"
    assert steps(app, kiri)[0].output["date"]["timezone"] == "Pacific/Kiritimati"


def test_a_degraded_run_completes_the_step_and_names_what_was_missing(app: App, vault: Path) -> None:
    """Week.md missing: the step still completes, drafted, Week.md named."""
    (vault / CAPTIVE / "Week.md").unlink()
    job_id = emit(app, "daily_plan", {"date": "2026-02-17"})
    app.run_until_idle()
    output = steps(app, job_id)[0].output
    assert output["status"] == "Drafted (no session)"
    assert output["unavailable"] == ["Week.md: Week.md does not exist yet in Captive"]
    assert "**Status:** Drafted (no session)" in output["summary"]


def test_vault_writes_are_outbox_effects_done_once(app: App, vault: Path) -> None:
    """review-daily appends once: the effect row is sent, and running the worker again adds nothing."""
    job_id = emit(app, "daily_review", {"date": "today"})
    app.run_until_idle()
    app.run_until_idle()
    today = (vault / CAPTIVE / "Today.md").read_text()
    assert today.count("## Review (2026-02-16, drafted offline)") == 1
    with app.store.read() as conn:
        rows = jobq.outbox_of(conn, job_id or "")
    assert [(r["kind"], r["status"]) for r in rows] == [(VAULT_WRITE, "sent")]


def test_a_registry_built_by_hand_runs_a_prose_skill_with_a_pack_need_type(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack folder of one SKILL.md, a custom "open deals" need, and a callable calendar, wired
    into a Registry by hand: the morning_brief step's output carries all three."""
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)
    skills = tmp_path / "skills" / "morning-brief"
    skills.mkdir(parents=True)
    (skills / "SKILL.md").write_text(
        "---\nname: morning-brief\ndescription: A brief for the morning.\norchestrated: true\n---\n"
        "## Context\n\n- Calendar events for the day\n- Open deals in the pipeline\n\n"
        "## Brief\n\nSummarise the day and the deals.\n"
    )

    def meetings(start: date, end: date, tz: tzinfo) -> list[CalendarEvent]:
        return [CalendarEvent("Pipeline review", datetime(2026, 2, 16, 15, tzinfo=UTC))]

    needs = NeedRegistry.builtin()
    needs.add(NeedType("deals", "Deals", (r"\bdeals\b",), provider=lambda need, env: ["Acme", "Globex"]))
    registry = Registry()
    register_prose_skills(
        registry,
        tmp_path / "skills",
        Settings(),
        vault=copy_vault(tmp_path),
        calendar=CallableCalendar(meetings),
        needs=needs,
    )
    registry.add_sequence(
        load_sequence_text(
            "event_type: morning_brief\nsteps:\n  - name: brief\n    uses: skill:morning-brief\n",
            "morning_brief.yaml",
        )
    )
    assert registry.problems() == []
    application = planner_app(db_url, FakeClock(datetime(2026, 2, 16, 7, 0, tzinfo=UTC)), registry)
    try:
        job_id = emit(application, "morning_brief", {})
        application.run_until_idle()
        output = steps(application, job_id)[0].output
    finally:
        application.close()
    assert output["name"] == "morning-brief" and output["status"] == "Drafted (no session)"
    assert [c["summary"] for c in output["context"]] == ["1 event for 2026-02-16", "2 loaded"]
    assert registry.descriptions[next(iter(registry.descriptions))] == "A brief for the morning."


def test_the_crm_calendar_beats_the_vault_calendar_in_a_step(app: App) -> None:
    """When the CRM holds the user's meetings, the planning step reads them instead of the .ics files."""
    from overture.storage.tables.crm import calendar_events

    with app.store.write() as conn:
        conn.execute(
            calendar_events.insert().values(
                id="ev-1",
                org_id="acme",
                user_id="ana",
                external_id="g-1",
                title="1:1 with Priya Patel",
                starts_at=datetime(2026, 2, 17, 10, 0, tzinfo=UTC),
                ends_at=datetime(2026, 2, 17, 10, 30, tzinfo=UTC),
                all_day=False,
                location="",
                attendees=[{"name": "Priya Patel", "email": "priya@example.com"}],
                status="confirmed",
                updated_at=datetime(2026, 2, 16, tzinfo=UTC),
            )
        )
    job_id = emit(app, "daily_plan", {"date": "tomorrow"})
    app.run_until_idle()
    output = steps(app, job_id)[0].output
    [calendar] = [need for need in output["context"] if need["kind"] == "calendar"]
    assert calendar["count"] == 1  # the vault's .ics has several events that day; the CRM has one
    assert "Priya Patel (1:1 at 10:00)" in output["summary"]


def test_with_a_vault_per_user_each_job_writes_its_own_users_vault(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$OVERTURE_VAULT=…/{user}: Ana's review lands in Ana's vault; Kiri's stays as it was."""
    vaults = tmp_path / "vaults"
    vaults.mkdir()
    for user in ("ana", "kiri"):
        copy_vault(tmp_path).rename(vaults / user)
    kiri_before = (vaults / "kiri" / CAPTIVE / "Today.md").read_text()
    monkeypatch.setenv(ENV_VAULT, str(vaults / "{user}"))
    monkeypatch.delenv(ENV_CALENDAR, raising=False)
    monkeypatch.delenv(ENV_TIMEZONE, raising=False)
    app = planner_app(db_url, FakeClock(datetime(2026, 2, 16, 12, 0, tzinfo=UTC)))
    try:
        job_id = emit(app, "daily_review", {"date": "today"})
        app.run_until_idle()
        with app.store.read() as conn:
            rows = jobq.outbox_of(conn, job_id or "")
    finally:
        app.close()
    assert [(r["kind"], r["status"]) for r in rows] == [(VAULT_WRITE, "sent")]
    assert "## Review (2026-02-16, drafted offline)" in (vaults / "ana" / CAPTIVE / "Today.md").read_text()
    assert (vaults / "kiri" / CAPTIVE / "Today.md").read_text() == kiri_before
