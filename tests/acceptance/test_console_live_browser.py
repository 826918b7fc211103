"""The live console in real headless Chromium at phone (390 x 844) and desktop (1280 x 800) size,
against the app served by uvicorn with a worker running: an approval decided in one tab leaves
the other tabs within 2 s without a reload; retry and cancel from a job page; the jobs list's
filters and pages; Approve in sight on a phone; Swagger UI with every other host unreachable.
Screenshots of the inbox, a job page and the jobs list at both sizes go to ./artifacts/.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from overture.app import App
from overture.clock import SystemClock
from overture.engine.admin.tokens import Tokens
from tests.acceptance import test_console_browser as base
from tests.acceptance.test_console_browser import ARTIFACTS, fits, sign_in, start
from tests.acceptance.test_http_server import served, wait_for
from tests.approvals_app import action_now, job_status, make
from tests.integration.test_console_pages import add_broken

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
#: How soon a change made elsewhere must show in an open tab.
LIVE_MS = 2_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (as in test_console_browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        base._unavailable("the playwright package is not installed")
    if not (Path(base.CHROMIUM).exists() or shutil.which(base.CHROMIUM)):
        base._unavailable(f"no Chromium at {base.CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=base.CHROMIUM, args=base.ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[App, str]]:
    """The app on a fresh SQLite file, served on loopback, with a worker in a thread."""
    app = make(f"sqlite:///{tmp_path / 'overture.db'}", SystemClock(), None)
    add_broken(app)
    worker = app.worker()
    worker.poll_interval_s = 0.05
    thread = threading.Thread(target=worker.run, daemon=True)
    try:
        with served(app) as url:
            thread.start()
            yield app, url
    finally:
        worker.stop()
        thread.join(15)
        app.close()


def context_for(browser: Any, size: str) -> Any:
    if size == "phone":
        return browser.new_context(
            viewport=SIZES[size], device_scale_factor=2, is_mobile=True, has_touch=True
        )
    return browser.new_context(viewport=SIZES[size])


def signed_in(browser: Any, app: App, url: str, size: str, user: str = "ana") -> tuple[Any, Any]:
    """A browser context of ``size`` signed in as ``user``, and its first page (on the inbox)."""
    context = context_for(browser, size)
    page = context.new_page()
    sign_in(page, url, Tokens(app.store, app.clock).create("acme", user).secret)
    return context, page


def navigations(page: Any) -> list[str]:
    """The page's main-frame navigations from now on (a reload would add one)."""
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url) if frame == page.main_frame else None)
    return seen


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_decision_in_one_tab_leaves_the_other_tabs_without_a_reload(
    browser: Any, live: tuple[App, str], size: str
) -> None:
    """Tab B approves the draft; within 2 s tab A's inbox no longer shows its card (the other
    card stays) and tab C, on the approval itself, says who approved it and offers no Approve.
    Neither A nor C reloaded."""
    app, url = live
    mail, tasks = start(app, "mail"), start(app, "tasks")
    context, inbox = signed_in(browser, app, url, size)
    inbox.locator(f"#a-{mail.id}").wait_for()
    inbox.evaluate("window.staleTab = true")
    one = context.new_page()
    one.goto(f"{url}/actions/{mail.id}")
    one.evaluate("window.staleTab = true")
    moved = navigations(inbox), navigations(one)
    shoot(inbox, f"console-inbox-{size}")

    other = context.new_page()
    other.goto(f"{url}/")
    other.locator(f"#a-{mail.id}").get_by_role("button", name="Approve & send").click()
    other.wait_for_url(f"{url}/actions/{mail.id}?said=applied")

    inbox.locator(f"#a-{mail.id}").wait_for(state="detached", timeout=LIVE_MS)
    one.locator(".outcome", has_text="Approved by Ana via web").wait_for(timeout=LIVE_MS)
    assert one.get_by_role("button", name="Approve & send").count() == 0
    assert inbox.locator(f"#a-{tasks.id}").count() == 1
    assert "Waiting for you 1" in " ".join(inbox.locator("h1").first.inner_text().split())
    assert inbox.evaluate("window.staleTab") is True and one.evaluate("window.staleTab") is True
    assert moved == ([], [])
    assert action_now(app, mail.id).decided_by == "ana"
    context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_retry_and_cancel_from_a_job_page(browser: Any, live: tuple[App, str], size: str) -> None:
    """A failed job is retried with its button and completes on the page as it watches; a job
    waiting for approval is cancelled with its button, after saying why."""
    app, url = live
    failed = app.emit(
        {"type": "broken", "org_id": "acme", "user_id": "ana", "payload": {"note": size}}
    ).job_id
    assert failed is not None
    wait_for(lambda: job_status(app, failed) == "failed", "the job to fail")
    context, page = signed_in(browser, app, url, size)
    page.goto(f"{url}/jobs/{failed}")
    assert "the CRM answered 500" in page.locator("#timeline").inner_text() and fits(page)
    shoot(page, f"console-job-failed-{size}")
    app.explode = False  # type: ignore[attr-defined]
    page.get_by_role("button", name="Retry job").click()
    page.wait_for_url(f"{url}/jobs/{failed}?said=retried")
    page.locator("h1 .s-completed").wait_for(timeout=30_000)
    assert "after" in page.locator("#timeline").inner_text()
    shoot(page, f"console-job-{size}")

    waiting = start(app, "mail")
    page.goto(f"{url}/jobs/{waiting.job_id}")
    page.get_by_role("link", name="Cancel job…").click()
    page.get_by_label("Why?").fill("the customer called instead")
    page.get_by_role("button", name="Cancel the job").click()
    page.wait_for_url(f"{url}/jobs/{waiting.job_id}?said=cancelled")
    assert page.locator("h1 .s-cancelled").count() == 1
    assert action_now(app, waiting.id).status.value == "cancelled"
    context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_jobs_list_searches_and_pages_past_a_hundred(
    browser: Any, live: tuple[App, str], size: str
) -> None:
    """120 jobs: 50, 50 and 20 a page with Older, and back with Newer; a text search finds one."""
    app, url = live
    for n in range(120):
        app.emit({"type": "tell", "org_id": "acme", "user_id": "ana", "payload": {"text": f"call {n:03d}"}})
    context, page = signed_in(browser, app, url, size)
    page.goto(f"{url}/jobs")
    rows = page.locator("ul.jobs > li")
    assert rows.count() == 50 and fits(page)
    shoot(page, f"console-jobs-{size}")
    first = rows.first.locator("a").first.get_attribute("href")
    page.get_by_role("link", name="Older →").click()
    assert rows.count() == 50
    page.get_by_role("link", name="Older →").click()
    assert rows.count() == 20 and page.get_by_role("link", name="Older →").count() == 0
    page.get_by_role("link", name="← Newer").click()
    page.get_by_role("link", name="← Newer").click()
    assert rows.first.locator("a").first.get_attribute("href") == first

    page.get_by_label("Text in the event").fill("call 007")
    page.get_by_label("Type").select_option("tell")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"{url}/jobs?*")
    assert rows.count() == 1 and page.get_by_label("Text in the event").input_value() == "call 007"
    context.close()


def test_approve_and_send_is_in_sight_on_a_phone(browser: Any, live: tuple[App, str]) -> None:
    """A long draft is folded on a phone, so Approve & send is within the first 844 px of the
    inbox and of the approval's own page; on a desktop the draft shows unfolded."""
    app, url = live
    body = "\n\n".join(f"Paragraph {n}: the terms we discussed, in detail." for n in range(40))
    app.emit({"type": "mail", "org_id": "acme", "user_id": "ana", "payload": {"body": body}})
    action = wait_for(lambda: _pending(app), "the draft to wait for approval")
    context, page = signed_in(browser, app, url, "phone")
    for where in (f"{url}/", f"{url}/actions/{action.id}"):
        page.goto(where)
        button = page.locator(f"#a-{action.id}").get_by_role("button", name="Approve & send")
        box = button.bounding_box()
        assert box is not None and box["y"] + box["height"] <= SIZES["phone"]["height"], where
        assert page.locator("details[data-fold]").first.get_attribute("open") is None
        assert fits(page)
    shoot(page, "console-approval-phone")
    context.close()
    context, page = signed_in(browser, app, url, "desktop")
    assert page.locator("details[data-fold]").first.get_attribute("open") is not None
    assert page.locator(f"#a-{action.id} .body").is_visible()
    context.close()


def _pending(app: App) -> Any:
    from overture.storage.queries import approvals as actionq

    with app.store.read() as conn:
        return next(iter(actionq.list_actions(conn, "acme")), None)


def test_swagger_ui_works_with_every_other_host_unreachable(browser: Any, live: tuple[App, str]) -> None:
    """/docs renders the API's operations with every request to another host refused; none is
    even attempted, and the page breaks no rule of its Content-Security-Policy."""
    _, url = live
    context = browser.new_context(viewport=SIZES["desktop"])
    elsewhere: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(f"{url}/docs")
    page.locator(".opblock").first.wait_for(timeout=30_000)
    assert page.locator(".opblock").count() > 10
    assert "Overture" in page.locator(".info .title").inner_text()
    assert elsewhere == [] and problems == []
    shoot(page, "console-docs-desktop")
    context.close()
