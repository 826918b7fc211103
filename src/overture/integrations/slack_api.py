"""The Slack Web API methods Overture calls, through the official ``WebClient``.

Slack's errors become delivery outcomes as Slack documents them: ``ratelimited`` (HTTP 429
with ``Retry-After``) and Slack being down or unreachable defer the message; anything else —
``invalid_auth``, ``not_authed``, ``channel_not_found``, ``account_inactive``, a revoked token —
fails it for good with Slack's error code as the recorded reason.

The SDK logs request bodies at DEBUG, and ours carry drafts with email addresses, so the client
logs through a logger of ours that never goes below INFO.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from overture.engine.humans.delivery import DeliveryFailed
from overture.errors import RateLimited
from overture.integrations.slack_blocks import SlackMessage

log = logging.getLogger("overture.slack")
_sdk_log = logging.getLogger("overture.slack.sdk")
_sdk_log.setLevel(logging.INFO)

DEFAULT_BASE_URL = "https://slack.com/api/"
#: Seconds to wait when Slack is down or says to slow down without saying for how long.
DEFAULT_RETRY_S = 60.0
#: The message-metadata field that carries the notification a message delivers.
KEY_FIELD = "overture_key"
#: Error codes that mean "Slack is having trouble", not "this request is wrong".
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    for name in ("Retry-After", "retry-after"):
        raw = (headers or {}).get(name)
        value = raw[0] if isinstance(raw, list) and raw else raw
        try:
            return max(1.0, float(str(value)))
        except (TypeError, ValueError):
            continue
    return DEFAULT_RETRY_S


def classify(method: str, exc: SlackApiError) -> Exception:
    """The exception a Slack error becomes: RateLimited (defer) or DeliveryFailed (record why)."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    code = str(data.get("error") or f"http_{status}")
    if status == 429 or code == "ratelimited":
        return RateLimited("ratelimited", retry_after_s=_retry_after(getattr(response, "headers", None)))
    if status >= 500 or code in TRANSIENT:
        return RateLimited(code, retry_after_s=DEFAULT_RETRY_S)
    log.warning("Slack %s refused: %s", method, code)
    return DeliveryFailed(code)


class SlackApi:
    """``chat.postMessage``, ``chat.update`` and ``views.open`` with the bot token."""

    def __init__(self, token: str, base_url: str | None = None, timeout_s: int = 10) -> None:
        self.client = WebClient(
            token=token, base_url=base_url or DEFAULT_BASE_URL, timeout=timeout_s, logger=_sdk_log
        )

    def _call(self, method: str, call: Callable[[], SlackResponse]) -> dict[str, Any]:
        try:
            response = call()
        except SlackApiError as exc:
            raise classify(method, exc) from None
        except (URLError, OSError) as exc:
            log.warning("Slack %s unreachable: %s", method, type(exc).__name__)
            raise RateLimited("slack_unreachable", retry_after_s=DEFAULT_RETRY_S) from None
        data = response.data
        return data if isinstance(data, dict) else {}

    def post(
        self,
        channel: str,
        message: SlackMessage,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """Post to a channel, or to a person's DM with the app when ``channel`` is a user id."""
        data = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread_ts,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        return {"channel": str(data.get("channel") or channel), "ts": str(data.get("ts") or "")}

    def find_posted(
        self, channel: str, key: str, oldest: float, thread_ts: str | None = None
    ) -> dict[str, str] | None:
        """Our message carrying ``key`` in its metadata, posted since ``oldest`` (epoch seconds),
        if there is one: the check before posting again after an attempt whose outcome is not
        known. ``channel`` may be a user id (their DM with the app). None when not found or
        when Slack cannot say (a missing scope): the caller posts, at least once."""
        try:
            if channel.startswith(("U", "W")):
                opened = self.client.conversations_open(users=channel).data
                found = opened.get("channel") if isinstance(opened, dict) else None
                channel = str(found.get("id") or channel) if isinstance(found, dict) else channel
            since = f"{max(0.0, oldest - 60):.6f}"
            if thread_ts:
                data = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=since, include_all_metadata=True, limit=200
                ).data
            else:
                data = self.client.conversations_history(
                    channel=channel, oldest=since, include_all_metadata=True, limit=200
                ).data
        except (SlackApiError, URLError, OSError) as exc:
            log.warning("Slack history unavailable (%s); posting without the check", type(exc).__name__)
            return None
        messages = data.get("messages") if isinstance(data, dict) else None
        for m in messages or []:
            payload = (m.get("metadata") or {}).get("event_payload") or {}
            if payload.get(KEY_FIELD) == key:
                return {"channel": channel, "ts": str(m.get("ts") or "")}
        return None

    def update(self, channel: str, ts: str, message: SlackMessage) -> dict[str, str]:
        """Replace a message we posted (its buttons go with its old blocks)."""
        data = self._call(
            "chat.update",
            lambda: self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks),
        )
        return {"channel": str(data.get("channel") or channel), "ts": str(data.get("ts") or ts)}

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """Open a modal for the person whose click gave ``trigger_id`` (valid for 3 seconds)."""
        data = self._call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))
        opened = data.get("view")
        return str(opened.get("id") or "") if isinstance(opened, dict) else ""
