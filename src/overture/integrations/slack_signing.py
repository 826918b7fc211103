"""Slack request signing (v0) and the interaction payloads it protects (docs/integrations/slack.md).

Slack signs ``v0:{timestamp}:{raw body}`` with the app's signing secret (HMAC-SHA256, hex,
prefixed ``v0=``). The check runs on the raw bytes, before anything is parsed, and refuses a
timestamp more than five minutes from now in either direction, so a captured request cannot
be replayed later. Interactions arrive form-encoded with one field, ``payload``, holding JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from overture.integrations import safe_json
from overture.integrations.apis import header, malformed, unauthenticated

VERSION = "v0"
REPLAY_WINDOW_S = 300
BLOCK_ACTIONS = "block_actions"
VIEW_SUBMISSION = "view_submission"


class SlackVerifier:
    """Checks that a request was signed by Slack with our signing secret, recently."""

    def __init__(self, signing_secret: str, *, window_s: int = REPLAY_WINDOW_S) -> None:
        if not isinstance(signing_secret, str) or not signing_secret:
            raise ValueError("the Slack signing secret must be a non-empty string")
        self._key = signing_secret.encode()
        self.window_s = window_s

    def signature(self, timestamp: str, body: bytes) -> str:
        """The ``X-Slack-Signature`` value Slack would send for this timestamp and body."""
        base = f"{VERSION}:{timestamp}:".encode() + body
        return f"{VERSION}=" + hmac.new(self._key, base, hashlib.sha256).hexdigest()

    def verify(self, body: bytes, headers: Mapping[str, str], now: datetime) -> None:
        """Return if the request is authentic and fresh; else raise ``WebhookRejected`` (401)
        whose ``reason`` is one of ``missing_signature``, ``missing_timestamp``,
        ``malformed_timestamp``, ``stale_timestamp``, ``unsupported_version``, ``bad_signature``."""
        signature = header(headers, "X-Slack-Signature")
        timestamp = header(headers, "X-Slack-Request-Timestamp")
        if not signature:
            raise unauthenticated("missing_signature", "the X-Slack-Signature header is missing")
        if not timestamp:
            raise unauthenticated("missing_timestamp", "the X-Slack-Request-Timestamp header is missing")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise unauthenticated(
                "malformed_timestamp", "X-Slack-Request-Timestamp is not a whole number of seconds"
            )
        skew = abs(now.timestamp() - int(timestamp))
        if skew > self.window_s:
            raise unauthenticated(
                "stale_timestamp",
                f"the request timestamp is {skew:.0f} s from now; at most {self.window_s} s is accepted",
            )
        if not signature.startswith(f"{VERSION}="):
            raise unauthenticated("unsupported_version", f"the signature is not a {VERSION} signature")
        expected = self.signature(timestamp, body).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            raise unauthenticated("bad_signature", "the signature does not match the body")


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _User(_Wire):
    id: str
    username: str | None = None
    name: str | None = None
    team_id: str | None = None


class _Team(_Wire):
    id: str
    domain: str | None = None
    enterprise_id: str | None = None


class _Container(_Wire):
    type: str | None = None
    message_ts: str | None = None
    channel_id: str | None = None
    view_id: str | None = None


class _Channel(_Wire):
    id: str


class _Message(_Wire):
    ts: str | None = None


class _Option(_Wire):
    value: str | None = None


class _State(_Wire):
    values: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class SlackAction(_Wire):
    """One element the user acted on: a button (``value``), or checkboxes and multi-selects
    (``selected_values``)."""

    type: str
    action_id: str
    block_id: str | None = None
    value: str | None = None
    action_ts: str | None = None
    selected_options: tuple[_Option, ...] = Field(default=(), repr=False)

    @property
    def selected_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.selected_options if o.value is not None)


class SlackView(_Wire):
    """The modal a ``view_submission`` came from. ``private_metadata`` is where we put the
    pending action id when opening it: a modal has no server-side session."""

    id: str
    callback_id: str | None = None
    private_metadata: str | None = None
    hash: str | None = None
    state: _State = Field(default_factory=_State)


class _Payload(_Wire):
    type: str
    user: _User
    team: _Team | None = None
    api_app_id: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    container: _Container | None = None
    channel: _Channel | None = None
    message: _Message | None = None
    state: _State | None = None
    actions: tuple[SlackAction, ...] = ()
    view: SlackView | None = None


class SlackInteraction(BaseModel):
    """The parts of an interaction payload a decision needs: who clicked what, where."""

    model_config = ConfigDict(frozen=True)

    type: str
    user_id: str
    user_name: str | None
    team_id: str | None
    enterprise_id: str | None
    api_app_id: str | None
    trigger_id: str | None
    response_url: str | None
    channel_id: str | None
    message_ts: str | None
    actions: tuple[SlackAction, ...]
    view: SlackView | None
    state_values: dict[str, dict[str, dict[str, Any]]] = Field(repr=False)

    @property
    def action(self) -> SlackAction | None:
        """The clicked element (a button click carries exactly one)."""
        return self.actions[0] if self.actions else None

    @property
    def action_id(self) -> str | None:
        return self.action.action_id if self.action else None

    @property
    def value(self) -> str | None:
        return self.action.value if self.action else None

    @property
    def private_metadata(self) -> str | None:
        return self.view.private_metadata if self.view else None

    def input_value(self, block_id: str, action_id: str) -> str | None:
        """A plain-text input's value, ``state.values[block_id][action_id].value``."""
        element = self.state_values.get(block_id, {}).get(action_id, {})
        value = element.get("value")
        return value if isinstance(value, str) else None


def parse_interaction(body: bytes) -> SlackInteraction:
    """Read a (verified) interaction request body, or raise ``WebhookRejected`` (400)."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise malformed("malformed_body", "the body is not UTF-8 form data") from None
    raw = form.get("payload")
    if not raw:
        raise malformed("missing_payload", "the form has no payload field")
    try:
        data = safe_json.loads(raw[0], what="payload")
    except safe_json.JsonRefused as exc:
        raise malformed("malformed_payload", str(exc)) from None
    except ValueError as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise malformed("malformed_payload", f"payload is not JSON: {message}") from None
    if not isinstance(data, dict):
        raise malformed("malformed_payload", "payload is not a JSON object")
    try:
        wire = _Payload.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise malformed("invalid_payload", f"payload.{where}: {first['msg']}") from None
    container = wire.container or _Container()
    state = wire.view.state if wire.view and wire.type == VIEW_SUBMISSION else wire.state
    return SlackInteraction(
        type=wire.type,
        user_id=wire.user.id,
        user_name=wire.user.username or wire.user.name,
        team_id=wire.team.id if wire.team else wire.user.team_id,
        enterprise_id=wire.team.enterprise_id if wire.team else None,
        api_app_id=wire.api_app_id,
        trigger_id=wire.trigger_id,
        response_url=wire.response_url,
        channel_id=container.channel_id or (wire.channel.id if wire.channel else None),
        message_ts=container.message_ts or (wire.message.ts if wire.message else None),
        actions=wire.actions,
        view=wire.view,
        state_values=state.values if state else {},
    )
