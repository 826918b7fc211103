"""Slack signature v0 and interaction payloads, signed with the official SDK's own tool."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from overture.integrations.apis import WebhookRejected
from overture.integrations.slack_signing import SlackVerifier, parse_interaction

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TS = 1_763_726_400
NOW = datetime.fromtimestamp(TS, UTC)

# The fields of a button click in a message, in Slack's shape (the values
# follow bolt-python's block_actions fixture).
BLOCK_ACTIONS: dict[str, Any] = {
    "type": "block_actions",
    "user": {"id": "W111", "username": "primary-owner", "name": "primary-owner", "team_id": "T111"},
    "api_app_id": "A111",
    "token": "verification_token",
    "container": {"type": "message", "message_ts": "111.222", "channel_id": "C111", "is_ephemeral": False},
    "trigger_id": "111.222.valid",
    "team": {"id": "T111", "domain": "workspace-domain", "enterprise_id": "E111", "enterprise_name": "Org"},
    "channel": {"id": "C111", "name": "test-channel"},
    "message": {"ts": "111.222", "bot_id": "B111", "text": "Approve the follow-up?", "blocks": []},
    "state": {"values": {}},
    "response_url": "https://hooks.slack.com/actions/T111/111/random-value",
    "actions": [
        {
            "action_id": "approve",
            "block_id": "decision",
            "text": {"type": "plain_text", "text": "Approve & send", "emoji": True},
            "value": "pa_01HZX",
            "style": "primary",
            "type": "button",
            "action_ts": "1596530385.194939",
        }
    ],
}

VIEW_SUBMISSION: dict[str, Any] = {
    "type": "view_submission",
    "team": {"id": "T111", "domain": "workspace-domain"},
    "user": {"id": "W111", "username": "primary-owner", "name": "primary-owner", "team_id": "T111"},
    "api_app_id": "A111",
    "token": "verification_token",
    "trigger_id": "111.222.valid",
    "view": {
        "id": "V111",
        "team_id": "T111",
        "type": "modal",
        "blocks": [],
        "private_metadata": '{"action_id": "pa_01HZX"}',
        "callback_id": "edit-draft",
        "state": {"values": {"body": {"body_input": {"type": "plain_text_input", "value": "Hi Sam, ..."}}}},
        "hash": "1596530361.3wRYuk3R",
        "title": {"type": "plain_text", "text": "Edit draft"},
    },
    "response_urls": [],
}


def form(payload: dict[str, Any]) -> bytes:
    """The wire body Slack sends: one form field, ``payload``, URL-encoded JSON."""
    return f"payload={quote(json.dumps(payload))}".encode()


def signed(body: bytes, ts: int = TS, secret: str = SECRET) -> dict[str, str]:
    """Headers as Slack sends them, signed by the official SDK."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
    assert signature is not None
    return {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": str(ts)}


class _At(Clock):
    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def now(self) -> float:
        return self._moment.timestamp()


def sdk_accepts(body: bytes, headers: dict[str, str], now: datetime) -> bool:
    return SignatureVerifier(SECRET, clock=_At(now)).is_valid_request(body, headers)


def test_a_request_signed_by_the_sdk_is_accepted() -> None:
    """The official SDK's signature over the raw form body verifies."""
    body = form(BLOCK_ACTIONS)
    headers = signed(body)
    SlackVerifier(SECRET).verify(body, headers, NOW)
    assert sdk_accepts(body, headers, NOW)


def test_our_signature_is_the_sdks() -> None:
    """Both compute the same v0 signature for the same timestamp and body."""
    body = form(VIEW_SUBMISSION)
    assert SlackVerifier(SECRET).signature(str(TS), body) == signed(body)["X-Slack-Signature"]


@pytest.mark.parametrize(
    "headers",
    [
        {"x-slack-signature": "{sig}", "x-slack-request-timestamp": "{ts}"},
        {"X-SLACK-SIGNATURE": "{sig}", "X-Slack-Request-Timestamp": "{ts}"},
    ],
)
def test_header_names_are_case_insensitive(headers: dict[str, str]) -> None:
    """ASGI servers lower-case header names; other callers may not."""
    body = form(BLOCK_ACTIONS)
    good = signed(body)
    filled = {k: v.format(sig=good["X-Slack-Signature"], ts=TS) for k, v in headers.items()}
    SlackVerifier(SECRET).verify(body, filled, NOW)


@pytest.mark.parametrize("offset_s", [-300, 0, 300])
def test_timestamps_inside_the_window_are_accepted(offset_s: int) -> None:
    """Up to five minutes of skew either way is fine."""
    body = form(BLOCK_ACTIONS)
    SlackVerifier(SECRET).verify(body, signed(body), NOW + timedelta(seconds=offset_s))


def _forged_body(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body.replace(b"approve", b"reject_"), signed(body)


# The SDK raises on these instead of answering False; ours refuses them with a reason.
SDK_CRASHES = {"letters in timestamp", "non-ascii signature"}


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no signature", "missing_signature"),
        ("no timestamp", "missing_timestamp"),
        ("empty signature", "missing_signature"),
        ("letters in timestamp", "malformed_timestamp"),
        ("signed timestamp", "malformed_timestamp"),
        ("replayed 301 s later", "stale_timestamp"),
        ("replayed a day later", "stale_timestamp"),
        ("from the future", "stale_timestamp"),
        ("v1 signature", "unsupported_version"),
        ("wrong secret", "bad_signature"),
        ("tampered body", "bad_signature"),
        ("signature of another timestamp", "bad_signature"),
        ("truncated signature", "bad_signature"),
        ("non-ascii signature", "bad_signature"),
    ],
)
def test_forged_stale_and_unsigned_requests_are_refused(case: str, reason: str) -> None:
    """Each failure is a 401 with a precise reason, and the SDK refuses the same request."""
    body = form(BLOCK_ACTIONS)
    headers, now = signed(body), NOW
    sig = headers["X-Slack-Signature"]
    if case == "no signature":
        del headers["X-Slack-Signature"]
    elif case == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif case == "empty signature":
        headers["X-Slack-Signature"] = ""
    elif case == "letters in timestamp":
        headers["X-Slack-Request-Timestamp"] = "17637264OO"
    elif case == "signed timestamp":
        headers["X-Slack-Request-Timestamp"] = f"+{TS}"
    elif case == "replayed 301 s later":
        now = NOW + timedelta(seconds=301)
    elif case == "replayed a day later":
        now = NOW + timedelta(days=1)
    elif case == "from the future":
        now = NOW - timedelta(seconds=301)
    elif case == "v1 signature":
        headers["X-Slack-Signature"] = "v1=" + sig[3:]
    elif case == "wrong secret":
        headers = signed(body, secret="another-secret")
    elif case == "tampered body":
        body, headers = _forged_body(body)
    elif case == "signature of another timestamp":
        headers = {**signed(body, ts=TS - 10), "X-Slack-Request-Timestamp": str(TS)}
    elif case == "truncated signature":
        headers["X-Slack-Signature"] = sig[:-1]
    elif case == "non-ascii signature":
        headers["X-Slack-Signature"] = sig[:-1] + "é"
    with pytest.raises(WebhookRejected) as caught:
        SlackVerifier(SECRET).verify(body, headers, now)
    assert (caught.value.status, caught.value.reason) == (401, reason)
    if case in SDK_CRASHES:
        with pytest.raises((ValueError, TypeError)):
            sdk_accepts(body, headers, now)
    else:
        assert not sdk_accepts(body, headers, now)


def test_stale_reason_says_how_stale() -> None:
    body = form(BLOCK_ACTIONS)
    with pytest.raises(WebhookRejected, match="is 900 s from now; at most 300 s"):
        SlackVerifier(SECRET).verify(body, signed(body), NOW + timedelta(minutes=15))


@pytest.mark.parametrize("secret", ["", None, b"bytes"])
def test_an_unusable_secret_fails_at_construction(secret: Any) -> None:
    """A misconfigured secret is found at start-up, not on the first click."""
    with pytest.raises(ValueError, match="signing secret"):
        SlackVerifier(secret)


def test_block_actions_button_click() -> None:
    """Who clicked which button on which message, and where to answer."""
    interaction = parse_interaction(form(BLOCK_ACTIONS))
    assert interaction.type == "block_actions"
    assert (interaction.user_id, interaction.user_name, interaction.team_id) == (
        "W111",
        "primary-owner",
        "T111",
    )
    assert interaction.enterprise_id == "E111"
    assert (interaction.action_id, interaction.value) == ("approve", "pa_01HZX")
    assert interaction.action is not None and interaction.action.block_id == "decision"
    assert (interaction.channel_id, interaction.message_ts) == ("C111", "111.222")
    assert interaction.response_url == "https://hooks.slack.com/actions/T111/111/random-value"
    assert interaction.trigger_id == "111.222.valid"
    assert interaction.view is None and interaction.private_metadata is None


def test_view_submission_reads_inputs_and_private_metadata() -> None:
    """A modal submission carries the pending action id in private_metadata and the edits
    under view.state.values[block_id][action_id]."""
    interaction = parse_interaction(form(VIEW_SUBMISSION))
    assert interaction.type == "view_submission"
    assert interaction.private_metadata == '{"action_id": "pa_01HZX"}'
    assert interaction.view is not None and interaction.view.callback_id == "edit-draft"
    assert interaction.input_value("body", "body_input") == "Hi Sam, ..."
    assert interaction.input_value("body", "nope") is None
    assert interaction.input_value("nope", "body_input") is None
    assert interaction.actions == () and interaction.action_id is None and interaction.value is None
    assert interaction.response_url is None


def test_checkboxes_report_selected_values() -> None:
    """The select pattern: a checkbox per item, the chosen values read from the action."""
    payload = {
        **BLOCK_ACTIONS,
        "actions": [
            {
                "type": "checkboxes",
                "action_id": "pick",
                "block_id": "tasks",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "Send deck"}, "value": "task-1"},
                    {"text": {"type": "plain_text", "text": "Book demo"}, "value": "task-3"},
                ],
                "action_ts": "1596530385.1",
            }
        ],
    }
    action = parse_interaction(form(payload)).action
    assert action is not None and action.selected_values == ("task-1", "task-3")


def test_org_wide_install_and_modal_buttons() -> None:
    """``team`` is null for org-wide installs (the user's team stands in); a button inside a
    modal has a view container and no channel or message."""
    payload = {
        **BLOCK_ACTIONS,
        "team": None,
        "container": {"type": "view", "view_id": "V222"},
        "view": {"id": "V222", "callback_id": "edit-draft", "private_metadata": "pa_1"},
    }
    del payload["channel"], payload["message"], payload["response_url"]
    interaction = parse_interaction(form(payload))
    assert (interaction.team_id, interaction.enterprise_id) == ("T111", None)
    assert (interaction.channel_id, interaction.message_ts, interaction.response_url) == (None, None, None)
    assert interaction.private_metadata == "pa_1"


def test_other_interaction_types_parse_for_the_route_to_ignore() -> None:
    """A view_closed or shortcut is still readable; the route acks it and does nothing."""
    interaction = parse_interaction(form({"type": "view_closed", "user": {"id": "U1"}, "view": {"id": "V1"}}))
    assert (interaction.type, interaction.user_id) == ("view_closed", "U1")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "malformed_body"),
        (b"", "missing_payload"),
        (b"token=x&team_id=T1", "missing_payload"),
        (b"payload=", "malformed_payload"),
        (b"payload=%7Bnot-json", "malformed_payload"),
        (form([1, 2]), "malformed_payload"),  # type: ignore[arg-type]
        (form({"type": "block_actions"}), "invalid_payload"),
        (form({"user": {"id": "W1"}}), "invalid_payload"),
        (
            form({"type": "block_actions", "user": {"id": "W1"}, "actions": [{"type": "button"}]}),
            "invalid_payload",
        ),
    ],
)
def test_malformed_payloads_are_refused(body: bytes, reason: str) -> None:
    """A signed but unreadable body is a 400 with a reason, never a half-parsed decision."""
    with pytest.raises(WebhookRejected) as caught:
        parse_interaction(body)
    assert (caught.value.status, caught.value.reason) == (400, reason)


def test_invalid_payload_names_the_field() -> None:
    with pytest.raises(WebhookRejected, match=r"payload\.user: Field required"):
        parse_interaction(form({"type": "block_actions"}))
