"""A skill session in the console, in real headless Chromium at phone size, against the app
served by uvicorn: start planning-daily on the second vault layout, answer each question as
it streams in, and find Today.md written; another person cannot open the session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from overture.app import App
from overture.clock import SystemClock
from overture.engine.admin.tokens import Tokens
from overture.settings import Settings
from overture.skills.step import register_prose_skills
from tests.acceptance.test_console_browser import ARTIFACTS, PHONE, browser, fits, sign_in  # noqa: F401
from tests.acceptance.test_http_server import served
from tests.approvals_app import make

DATA = Path(__file__).resolve().parents[1] / "data" / "vaults"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[App, str, Path]]:
    vault = tmp_path / "vault"
    shutil.copytree(DATA / "periodic", vault)
    app = make(f"sqlite:///{tmp_path / 'overture.db'}", SystemClock(), None)
    app.admin.add_user("acme", "robin", "Robin", timezone="Europe/Berlin", email="robin@acme.test")
    register_prose_skills(
        app.registry, DATA / "periodic-skills", Settings(llm_provider="offline"), vault=vault
    )
    try:
        with served(app) as base:
            yield app, base, vault
    finally:
        app.close()


def reply(page: Any, question: str, text: str = "") -> None:
    """Wait for ``question`` to be the one asked, then answer it."""
    page.wait_for_function(
        "q => document.getElementById('question').textContent.includes(q)", arg=question, timeout=20_000
    )
    page.get_by_label(question, exact=False).fill(text)
    page.get_by_role("button", name="Send").click()


def test_a_planning_session_on_a_phone(browser: Any, live: tuple[App, str, Path]) -> None:  # noqa: F811
    app, base, vault = live
    ARTIFACTS.mkdir(exist_ok=True)
    secret = Tokens(app.store, app.clock).create("acme", "robin").secret
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, base, secret)
    page.get_by_role("link", name="Skills").click()
    assert "Morning ritual: turn the calendar" in page.locator("ul.skills").inner_text() and fits(page)

    page.get_by_label("Date").first.fill("2026-12-01")
    page.get_by_role("button", name="Start planning-daily").click()
    page.wait_for_url(f"{base}/skills/sessions/*")
    reply(page, "Are they all still happening?", "3")
    transcript = page.locator("#transcript")
    assert "- Week.md: ⚠ for week 7, not week 49" in transcript.inner_text()
    reply(page, "Which priorities for the day", "2; Book the retro room")
    reply(page, "bring to Esther Schmidt", "the headcount numbers")
    reply(page, "bring to Tomás Kovač")
    reply(page, "bring to Mei Lin")
    reply(page, "Focus block 09:15-10:00")
    reply(page, "Focus block 10:30-12:00", "drop")
    assert "I will write Captive/Today.md:" in transcript.inner_text()
    reply(page, "Write Captive/Today.md now?")
    page.wait_for_function(
        "() => document.getElementById('transcript').textContent.includes('Session over')", timeout=20_000
    )
    text = transcript.inner_text()
    assert "- For the 1:1 with Esther Schmidt: bring the headcount numbers" in text
    assert "Session over: Complete (degraded)" in text and fits(page)
    today = (vault / "Captive" / "Today.md").read_text()
    assert "- [ ] Book the retro room" in today and "Billing migration sync" not in today
    page.screenshot(path=str(ARTIFACTS / "console-skill-session-phone.png"), full_page=True)
    session_url = page.url
    context.close()

    other = Tokens(app.store, app.clock).create("acme", "eve").secret
    with httpx.Client(base_url=base, timeout=10) as http:
        form = http.get("/")  # the client keeps the sign-in form's nonce cookie
        assert http.post("/signin", data={"token": other, "nonce": _nonce(form.text)}).status_code == 303
        assert "Skills" in http.get("/skills").text
        assert http.get(session_url.removeprefix(base)).status_code == 404
        assert http.get(session_url.removeprefix(base) + "/events").status_code == 404


def _nonce(html: str) -> str:
    marker = 'name="nonce" value="'
    return html.split(marker, 1)[1].split('"', 1)[0]
