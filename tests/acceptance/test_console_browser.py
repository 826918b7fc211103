"""The web inbox in real headless Chromium (Debian's, driven by Playwright) against the app
served by uvicorn on 127.0.0.1 with a worker running: sign in, see the pending draft, edit its
body, approve it, watch the job complete. Screenshots of the inbox and a job page, at desktop and
phone width, are saved under ./artifacts/.

Locally the test is skipped when Chromium or Playwright is missing; in CI (``CI`` set) that is a
failure, so the browser tests can never be skipped there silently.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from overture.app import App
from overture.clock import SystemClock
from overture.core.records import PendingAction
from overture.engine.admin.tokens import Tokens
from overture.storage.queries import approvals as actionq
from tests.acceptance.test_http_server import served, wait_for
from tests.approvals_app import action_now, make

CHROMIUM = os.environ.get("OVERTURE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = {"width": 390, "height": 844}


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(
            f"{why}: CI must run the browser tests (apt-get install -y chromium; pip install playwright)"
        )
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[App, str]]:
    """The app on a fresh SQLite file, served on loopback, with a worker in a thread."""
    app = make(f"sqlite:///{tmp_path / 'overture.db'}", SystemClock(), None)
    worker = app.worker()
    worker.poll_interval_s = 0.05
    thread = threading.Thread(target=worker.run, daemon=True)
    try:
        with served(app) as base:
            thread.start()
            yield app, base
    finally:
        worker.stop()
        thread.join(15)
        app.close()


def start(app: App, event_type: str) -> PendingAction:
    """Emit an event and wait for the running worker to bring its job to the approval gate."""
    job_id = app.emit({"type": event_type, "org_id": "acme", "user_id": "ana", "payload": {}}).job_id

    def waiting() -> PendingAction | None:
        with app.store.read() as conn:
            return next((a for a in actionq.list_actions(conn, "acme") if a.job_id == job_id), None)

    action: PendingAction = wait_for(waiting, f"the {event_type} job to wait for approval")
    return action


def sign_in(page: Any, base: str, secret: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")


def fits(page: Any) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling at this width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_sign_in_edit_approve_and_watch_the_job_complete(browser: Any, live: tuple[App, str]) -> None:
    """The whole web flow in Chromium; screenshots of the inbox and the job page as artifacts."""
    app, base = live
    ARTIFACTS.mkdir(exist_ok=True)
    action = start(app, "mail")
    secret = Tokens(app.store, app.clock).create("acme", "ana").secret
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    sign_in(page, base, secret)
    card = page.locator(f"#a-{action.id}")
    assert "Follow-up to Dana" in card.inner_text()
    assert "Hi Dana, thanks for the call." in card.inner_text() and "dana@example.com" in card.inner_text()
    page.screenshot(path=str(ARTIFACTS / "console-inbox.png"), full_page=True)

    card.get_by_role("link", name="Edit").click()
    body = page.get_by_label("Body")
    assert body.input_value() == "Hi Dana, thanks for the call."
    body.fill("Hi Dana,\n\nThe pricing sheet is attached.\n\nAna")
    page.get_by_role("button", name="Save & approve").click()
    page.wait_for_url(f"{base}/actions/{action.id}?said=applied")
    assert "Edited and approved by Ana via web" in page.locator(".outcome").inner_text()

    page.get_by_role("link", name=f"job {action.job_id}").click()
    page.wait_for_selector("h1 .s-completed", timeout=30_000)  # the page redraws itself until done
    assert "The pricing sheet is attached." in page.locator("ol.steps").inner_text()
    assert action_now(app, action.id).modifications == {
        "body": "Hi Dana,\n\nThe pricing sheet is attached.\n\nAna"
    }
    page.screenshot(path=str(ARTIFACTS / "console-job.png"), full_page=True)
    context.close()


def test_the_console_is_usable_at_phone_width(browser: Any, live: tuple[App, str]) -> None:
    """At 390 px: nothing overflows sideways; Cancel asks in a dialog first, then cancels."""
    app, base = live
    ARTIFACTS.mkdir(exist_ok=True)
    tasks, mail = start(app, "tasks"), start(app, "mail")
    secret = Tokens(app.store, app.clock).create("acme", "ana").secret
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, base, secret)
    assert page.locator("article.card").count() == 2 and fits(page)
    page.screenshot(path=str(ARTIFACTS / "console-inbox-phone.png"), full_page=True)

    dismissed: list[str] = []
    page.once("dialog", lambda dialog: (dismissed.append(dialog.message), dialog.dismiss()))
    page.locator(f"#a-{mail.id}").get_by_role("button", name="Cancel").click()
    wait_for(lambda: dismissed, "the confirmation dialog")
    assert action_now(app, mail.id).status.value == "pending"
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#a-{mail.id}").get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{base}/actions/{mail.id}?said=applied")
    assert action_now(app, mail.id).status.value == "cancelled" and dismissed[0].startswith(
        "Cancel this job?"
    )

    page.goto(f"{base}/actions/{tasks.id}")
    page.get_by_label("Book a demo with their CTO").uncheck()
    page.get_by_role("button", name="Create selected").click()
    page.wait_for_url(f"{base}/actions/{tasks.id}?said=applied")
    page.goto(f"{base}/jobs/{tasks.job_id}")
    page.wait_for_selector("h1 .s-completed", timeout=30_000)
    assert fits(page) and '"t1"' in page.locator("ol.steps").inner_text()
    page.screenshot(path=str(ARTIFACTS / "console-job-phone.png"), full_page=True)
    context.close()
