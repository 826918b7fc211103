"""Signing in to the console in real headless Chromium, at phone and desktop width, against the
app served by uvicorn on loopback: a deep link survives sign-in, a one-time link works once and
then says clearly that it was used, and sign-out ends the session (its cookie, put back into a
fresh browser, opens nothing). Screenshots go under ./artifacts/.
"""

from __future__ import annotations

from typing import Any

import pytest

from overture.app import App
from overture.engine.admin.tokens import Tokens
from overture.http.console.urls import link_url
from tests.acceptance.test_console_browser import ARTIFACTS, PHONE, browser, fits, live, start

__all__ = ["browser", "live"]  # the fixtures, shared with the console's other browser tests

DESKTOP = {"width": 1280, "height": 800}
SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]


def context_at(browser: Any, size: dict[str, int]) -> Any:
    if size == PHONE:
        return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    return browser.new_context(viewport=size)


@pytest.mark.parametrize("size", SIZES)
def test_a_deep_link_survives_sign_in(browser: Any, live: tuple[App, str], size: dict[str, int]) -> None:
    """An approval opened signed out (as from Slack or Gmail) asks to sign in, then shows it."""
    app, base = live
    ARTIFACTS.mkdir(exist_ok=True)
    action = start(app, "mail")
    secret = Tokens(app.store, app.clock).create("acme", "ana").secret
    context = context_at(browser, size)
    page = context.new_page()
    page.goto(f"{base}/actions/{action.id}")
    assert page.url.startswith(f"{base}/signin?next=/actions/{action.id}")
    assert fits(page)
    page.screenshot(path=str(ARTIFACTS / f"console-signin-{size['width']}.png"), full_page=True)
    page.get_by_label("Token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/actions/{action.id}")
    assert "Follow-up to Dana" in page.locator("main").inner_text()
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_one_time_link_works_once_then_says_so(
    browser: Any, live: tuple[App, str], size: dict[str, int]
) -> None:
    """The link shows whose it is and signs in with one press, landing on the page it names;
    opened again in another browser it says it was used, and signs no one in."""
    app, base = live
    ARTIFACTS.mkdir(exist_ok=True)
    action = start(app, "mail")
    issued = app.sessions.issue_link("ana", "acme", via="cli", by="cli")
    url = link_url(base, issued.code, f"/actions/{action.id}")
    first = context_at(browser, size)
    page = first.new_page()
    page.goto(url)
    assert "This link signs in Ana (Acme)" in page.locator("main").inner_text() and fits(page)
    page.screenshot(path=str(ARTIFACTS / f"console-link-{size['width']}.png"), full_page=True)
    page.get_by_role("button", name="Sign in as Ana").click()
    page.wait_for_url(f"{base}/actions/{action.id}")
    assert "Follow-up to Dana" in page.locator("main").inner_text()
    first.close()

    second = context_at(browser, size)
    again = second.new_page()
    response = again.goto(url)
    assert response is not None and response.status == 410
    assert "already used" in again.get_by_role("alert").inner_text() and fits(again)
    again.screenshot(path=str(ARTIFACTS / f"console-link-used-{size['width']}.png"), full_page=True)
    again.goto(f"{base}/")
    assert again.url == f"{base}/signin"
    second.close()


def test_sign_out_ends_the_session(browser: Any, live: tuple[App, str]) -> None:
    """After Sign out, the session's cookie put into a fresh browser is sent to sign-in."""
    app, base = live
    ARTIFACTS.mkdir(exist_ok=True)
    secret = Tokens(app.store, app.clock).create("acme", "ana").secret
    context = context_at(browser, DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/")
    page.get_by_label("Token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    [cookie] = [c for c in context.cookies() if c["name"] == "overture_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["value"] != secret
    page.get_by_role("link", name="Ana").click()
    page.wait_for_url(f"{base}/sessions")
    assert "this browser" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "console-sessions.png"), full_page=True)
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{base}/signin")
    context.close()

    stolen = browser.new_context(viewport=DESKTOP)
    stolen.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    other = stolen.new_page()
    other.goto(f"{base}/jobs")
    assert other.url == f"{base}/signin?next=/jobs"
    stolen.close()
