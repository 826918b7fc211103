"""The pure parts of console sign-in: where ``next`` may lead, the links, a session's state and
how a browser is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from overture.engine.admin.console_sessions import session_state
from overture.http.console.agents import describe
from overture.http.console.urls import link_url, safe_next, signin_url
from overture.storage.queries.console_sessions import SessionRow


@pytest.mark.parametrize(
    "value",
    ["/", "/actions/a1", "/jobs?status=failed&user=ana", "/jobs/j1#steps", "/%2F%2Fevil.example"],
)
def test_paths_on_this_site_are_kept(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "https://evil.example/",
        "HTTPS://evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ /evil.example",
        "javascript:alert(1)",
        "evil.example/x",
        "/signin",
        "/signin/link?code=x",
        "/signout",
        "/" + "a" * 2000,
    ],
)
def test_anything_else_is_refused(value: str | None) -> None:
    assert safe_next(value) is None


def test_the_signin_url_remembers_only_a_safe_page() -> None:
    assert signin_url("/actions/a1?said=applied") == "/signin?next=/actions/a1%3Fsaid%3Dapplied"
    assert signin_url("/") == "/signin" and signin_url("//evil.example") == "/signin"


def test_a_link_carries_its_code_and_a_safe_next_in_the_query() -> None:
    assert link_url("https://o.example/", "ovl_x", "/actions/a1") == (
        "https://o.example/signin/link?code=ovl_x&next=/actions/a1"
    )
    assert link_url("https://o.example/console", "ovl_x", "//evil") == (
        "https://o.example/console/signin/link?code=ovl_x"
    )


def test_a_session_is_active_until_idle_too_long_or_past_its_end() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    row = SessionRow("s", "acme", "ana", "token", None, start, start, start + timedelta(hours=10))
    idle = timedelta(hours=1)
    assert session_state(row, start + timedelta(minutes=59), idle) == "active"
    assert session_state(row, start + timedelta(minutes=60), idle) == "expired"
    late = SessionRow(
        "s", "acme", "ana", "token", None, start, start + timedelta(hours=9, minutes=30), row.expires_at
    )
    assert session_state(late, start + timedelta(hours=9, minutes=45), idle) == "active"
    assert session_state(late, start + timedelta(hours=10), idle) == "expired"
    ended = SessionRow(
        "s", "acme", "ana", "token", None, start, start, row.expires_at, start, "revoked", "boss"
    )
    assert session_state(ended, start, idle) == "revoked"


@pytest.mark.parametrize(
    ("agent", "said"),
    [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1",
            "Safari on iPhone",
        ),
        ("Mozilla/5.0 (Windows NT 10.0) Chrome/120.0 Safari/537.36 Edg/120.0", "Edge on Windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0; rv:121.0) Gecko Firefox/121.0", "Firefox on macOS"),
        ("Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36", "Chrome on Android"),
        ("python-httpx/0.27", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_browsers_are_named_as_people_know_them(agent: str | None, said: str) -> None:
    assert describe(agent) == said
