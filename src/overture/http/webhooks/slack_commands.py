"""The ``/overture`` slash command: ``/overture signin`` answers a one-time sign-in link.

Slack signs the command like an interaction (checked before this runs). The person is the
Overture user whose ``slack_user_id`` is the Slack user in the org of the connected workspace;
the link is bound to them, works once, expires within minutes, and is shown only to them (an
ephemeral answer). Opening it spends nothing, so Slack's link previews cannot use it up.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from overture.app import App
from overture.core.webhooks import Provider
from overture.http.console.urls import link_url
from overture.integrations.apis import malformed
from overture.storage.queries import integrations as store

SIGNIN_WORDS = frozenset({"signin", "sign-in", "login", "link"})


def _field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def read_command(body: bytes) -> tuple[str, str, str]:
    """The workspace, the Slack user and the text of a (verified) command, or 400."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise malformed("malformed_body", "the body is not UTF-8 form data") from None
    team, user = _field(form, "team_id"), _field(form, "user_id")
    if not team or not user:
        raise malformed("missing_fields", "a slash command names its team_id and user_id")
    return team, user, _field(form, "text").lower()


def _say(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, "unfurl_links": False}


def answer(app: App, body: bytes) -> dict[str, Any]:
    """What the person who typed the command sees."""
    team, slack_user, text = read_command(body)
    if text not in SIGNIN_WORDS:
        return _say("Type `/overture signin` for a one-time link that signs you in to the Overture console.")
    with app.store.read() as conn:
        account = store.find_account(conn, Provider.SLACK.value, team)
        user = store.user_by_slack_id(conn, account.org_id, slack_user) if account else None
    if account is None:
        return _say("This Slack workspace is not connected to Overture.")
    if user is None:
        return _say("Your Slack account is not linked to an Overture user: ask an admin to add your Slack id")
    base = app.settings.console_url
    if not base:
        return _say("Sign-in links are not set up here: an admin must set OVERTURE_CONSOLE_URL.")
    issued = app.sessions.issue_link(user.id, account.org_id, via="slack", by=user.id)
    minutes = round(app.settings.signin_link_ttl_s / 60)
    return _say(
        f"Your Overture sign-in link, for you only. It works once, within {minutes} minutes:\n"
        f"<{link_url(base, issued.code)}|Sign in to Overture>"
    )
