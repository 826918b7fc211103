"""A console skill session reaches every server process, on SQLite and PostgreSQL: two apps
on one database stand for two HTTP worker processes. The session started on one is shown,
answered and streamed on the other; one whose holder stopped is reported lost."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import SystemClock
from overture.settings import Settings
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT
from overture.skills.step import register_prose_skills
from overture.storage.tables.skill_sessions import skill_sessions
from tests.acceptance.test_console_skill_vaults import (
    DATA,
    SKILLS,
    _field,
    answer_until_over,
    signed_in,
    start,
)
from tests.acceptance.test_http_server import served
from tests.approvals_app import make


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def two(db_url: str, tmp_path: Path) -> Iterator[tuple[App, str, str, Path]]:
    """Two apps (two processes' worth of state) on one database, each served on loopback."""
    vault = tmp_path / "vault"
    shutil.copytree(DATA / "periodic", vault)
    with ExitStack() as stack:
        bases: list[str] = []
        apps: list[App] = []
        for _ in range(2):
            app = (
                make(db_url, SystemClock(), None) if not apps else App(apps[0].settings, clock=SystemClock())
            )
            stack.callback(app.close)
            if not apps:
                app.admin.add_user(
                    "acme", "robin", "Robin", timezone="Europe/Berlin", email="robin@acme.test"
                )
            register_prose_skills(app.registry, SKILLS, Settings(llm_provider="offline"), vault=vault)
            apps.append(app)
            bases.append(stack.enter_context(served(app)))
        yield apps[0], bases[0], bases[1], vault


def test_a_session_started_on_one_process_is_answered_on_another(two: tuple[App, str, str, Path]) -> None:
    app, first, second, vault = two
    with signed_in(app, first, "robin") as one:
        started = start(one, "planning-daily")
        path = started.url.path
        assert "/skills/sessions/" in path
    with signed_in(app, second, "robin") as other:
        # The session asks its first question in the background on the first process: the
        # page on the second shows it once it is asked (a reload, as a person would).
        deadline = time.monotonic() + 15
        page = other.get(path)
        while "Are they all still happening?" not in page.text and time.monotonic() < deadline:
            time.sleep(0.1)
            page = other.get(path)
        assert page.status_code == 200 and "Are they all still happening?" in page.text
        with other.stream("GET", f"{path}/events") as events:
            first_event = next(line for line in events.iter_lines() if line.startswith("data: "))
        assert json.loads(first_event.removeprefix("data: "))["kind"] in {"say", "ask"}
        text = answer_until_over(other, page, {"priorities": "2; Book the retro room"})
        assert "Session over: Complete" in text
        listed = other.get("/skills").text
        assert f'href="{path}"' in listed and "<small>over</small>" in listed
    assert "- [ ] Book the retro room" in (vault / "Captive" / "Today.md").read_text()


def test_a_session_whose_holder_stopped_is_lost_not_waiting(two: tuple[App, str, str, Path]) -> None:
    app, first, second, _vault = two
    with signed_in(app, first, "robin") as one:
        path = start(one, "planning-daily").url.path
    stale = SystemClock().now() - timedelta(minutes=5)
    with app.store.write() as conn:  # the holder stopped beating five minutes ago
        conn.execute(sa.update(skill_sessions).values(holder="gone", seen_at=stale))
    with signed_in(app, second, "robin") as other:
        page = other.get(path)
        assert "The session was lost" in page.text
        sent = other.post(
            f"{path}/answer", data={"csrf": _field(page.text, "csrf"), "text": "3", "action": "send"}
        )
        assert sent.status_code == 303  # nothing to answer: back to the page, which says so
        assert "<small>lost</small>" in other.get("/skills").text
