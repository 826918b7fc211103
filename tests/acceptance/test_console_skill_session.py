"""A skill session in the console, in real headless Chromium at phone size, against the app
served by uvicorn: start planning-daily on the second vault layout, answer each question as
it streams in, and find Today.md written; another person cannot open the session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from overture.app import App
from overture.clock import SystemClock
from overture.engine.admin.tokens import Tokens
from overture.settings import Settings
from overture.skills.step import register_prose_skills
from tests.acceptance.test_console_browser import ARTIFACTS, PHONE, browser, fits, sign_in  # noqa: F401
from tests.acceptance.test_http_server import served
from tests.approvals_app import make
from tests.fake_models import serve
from tests.integration.test_skill_model_sessions import script

DATA = Path(__file__).resolve().parents[1] / "data" / "vaults"


@contextmanager
def serving(tmp_path: Path, settings: Settings) -> Iterator[tuple[App, str, Path]]:
    """The app with the second layout's skills on a copy of its vault, served on loopback;
    Robin works in Berlin."""
    vault = tmp_path / "vault"
    shutil.copytree(DATA / "periodic", vault)
    app = make(f"sqlite:///{tmp_path / 'overture.db'}", SystemClock(), None)
    app.admin.add_user("acme", "robin", "Robin", timezone="Europe/Berlin", email="robin@acme.test")
    register_prose_skills(app.registry, DATA / "periodic-skills", settings, vault=vault)
    try:
        with served(app) as base:
            yield app, base, vault
    finally:
        app.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[App, str, Path]]:
    with serving(tmp_path, Settings(llm_provider="offline")) as running:
        yield running


def start(chromium: Any, app: App, base: str, skill: str) -> tuple[Any, Any]:
    """Robin signs in on a phone and starts ``skill`` for 1 December 2026."""
    secret = Tokens(app.store, app.clock).create("acme", "robin").secret
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, base, secret)
    page.get_by_role("link", name="Skills").click()
    page.get_by_label("Date").first.fill("2026-12-01")
    page.get_by_role("button", name=f"Start {skill}").click()
    page.wait_for_url(f"{base}/skills/sessions/*")
    return context, page


def over(page: Any) -> str:
    page.wait_for_function(
        "() => document.getElementById('transcript').textContent.includes('Session over')", timeout=20_000
    )
    return str(page.locator("#transcript").inner_text())


def asked(page: Any, question: str) -> None:
    """Wait until ``question`` is the one asked."""
    page.wait_for_function(
        "q => document.getElementById('question').textContent.includes(q)", arg=question, timeout=20_000
    )


def reply(page: Any, question: str, text: str = "") -> None:
    """Wait for ``question`` to be the one asked, then answer it."""
    asked(page, question)
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
    asked(page, "Write Captive/Today.md now?")
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
        form = http.get("/signin")  # the client keeps the sign-in form's nonce cookie
        assert http.post("/signin", data={"token": other, "nonce": _nonce(form.text)}).status_code == 303
        assert "Skills" in http.get("/skills").text
        assert http.get(session_url.removeprefix(base)).status_code == 404
        assert http.get(session_url.removeprefix(base) + "/events").status_code == 404


def _nonce(html: str) -> str:
    marker = 'name="nonce" value="'
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_a_model_session_streams_its_turns_into_the_page(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    """With a model (a loopback fake of the streamed OpenAI API), the model's text arrives in
    pieces and is shown as one turn; its proposed write is confirmed on the page."""
    api, model = serve("openai", script("planning-daily"))
    with api:
        settings = Settings(
            llm_provider="openai",
            llm_model="gpt-4o",
            llm_api_key=SecretStr("sk-test"),
            llm_base_url=f"{api.url}/v1",
        )
        with serving(tmp_path, settings) as (app, base, vault):
            context, page = start(browser, app, base, "planning-daily")
            reply(page, "Your answer", "The cutover sign-off")
            reply(page, "Write Captive/Today.md?")
            text = over(page)
            assert "Good morning, Robin. Which outcome matters most today?" in text
            assert page.locator("li.t-stream").count() >= 3 and fits(page)
            assert "Session over: Complete (degraded)" in text
            context.close()
    assert (vault / "Captive" / "Today.md").read_text() == "## Plan\n- [ ] The cutover sign-off\n"
    assert len(model.requests) == 4 and model.requests[0]["stream"] is True
