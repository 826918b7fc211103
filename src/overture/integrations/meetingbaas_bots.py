"""Sending MeetingBaaS recording bots to meetings: API v1's bots (docs/integrations/meetingbaas.md).

What was relied on, from MeetingBaaS's API reference (``Meeting-BaaS/docs`` at ``fd14185``:
``openapi.json``, ``content/docs/api/reference/join.mdx``, ``leave.mdx``, ``bots_with_metadata.mdx``
and ``getting-started/sending-a-bot.mdx``):

- ``POST /bots`` with a ``JoinRequest``: ``meeting_url`` and ``bot_name`` are required;
  ``start_time`` schedules the join and is a Unix timestamp **in seconds** (the reference says so
  since September 2025; earlier pages said milliseconds); ``reserved`` is deprecated and sent as
  ``false``; ``speech_to_text: {"provider": "Default"}`` asks for the transcript, without which
  no ``meeting_ended`` can follow; ``webhook_url`` overrides the account's webhook for this bot;
  ``extra`` is free JSON echoed back in every webhook. The answer is ``{"bot_id": uuid}``.
- ``deduplication_key``: MeetingBaaS refuses a second bot for the same meeting within five
  minutes unless the keys differ. It is no idempotency key (a refused request does not return
  the first bot), so ours is one per outbox effect: a retry of one effect is refused, a move
  (a new effect) is not, and two occurrences of a recurring meeting sharing a link are not.
- v1 has no endpoint to change a scheduled bot (only v2 has ``PATCH /v2/bots/scheduled/{id}``;
  ``PATCH /calendar_events/{uuid}/bot`` is for MeetingBaaS's own calendar sync), so moving a
  meeting is ``DELETE /bots/{uuid}`` then a new ``POST /bots``.
- ``GET /bots/bots_with_metadata?filter_by_extra=key:value`` finds bots by their ``extra``;
  it is how a creation whose answer was lost (a crash) is found again. Whether bots not yet
  joined are listed there is not stated: **[unconfirmed]**.
- Auth: ``x-meeting-baas-api-key`` on every call (not a bearer token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from overture.integrations.apis import DEFAULT_TIMEOUT, ApiError, make_client, request_json, text

DEFAULT_BASE_URL = "https://api.meetingbaas.com"
SERVICE = "meetingbaas"
API_KEY_HEADER = "x-meeting-baas-api-key"


@dataclass(frozen=True)
class BotRequest:
    """One bot to send: where, when, under which name, and the routing it carries back."""

    meeting_url: str = field(repr=False)  # a Zoom link may carry the meeting's password
    bot_name: str
    join_at: datetime
    deduplication_key: str
    extra: dict[str, Any]
    webhook_url: str | None = None

    def body(self) -> dict[str, Any]:
        """The ``JoinRequest`` JSON."""
        doc: dict[str, Any] = {
            "meeting_url": self.meeting_url,
            "bot_name": self.bot_name,
            "reserved": False,
            "start_time": int(self.join_at.timestamp()),
            "speech_to_text": {"provider": "Default"},
            "deduplication_key": self.deduplication_key,
            "extra": self.extra,
        }
        if self.webhook_url:
            doc["webhook_url"] = self.webhook_url
        return doc


def bots_client(
    base_url: str, api_key: str, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT
) -> httpx.Client:
    """A client for MeetingBaaS's API (a loopback fake in tests), authenticated by the API key."""
    return make_client(base_url.rstrip("/"), timeout=timeout, headers={API_KEY_HEADER: api_key})


class MeetingBaasBots:
    """Create, find and remove bots. Errors are ``ApiError`` (``retryable`` for network
    failures and 5xx) or ``RateLimited``; the API key never appears in one."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def create(self, request: BotRequest) -> str:
        """Schedule the bot; its id."""
        answer = request_json(self.http, "POST", "/bots", service=SERVICE, json=request.body())
        raw = answer.get("bot_id")
        bot_id = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else text(raw)
        if bot_id is None:
            raise ApiError(SERVICE, "the join answer has no bot_id", status=200)
        return bot_id

    def delete(self, bot_id: str) -> bool:
        """Remove the bot (``DELETE /bots/{uuid}``, "Leave"); False if MeetingBaaS has no such
        bot any more (404), which is what was wanted."""
        try:
            request_json(self.http, "DELETE", f"/bots/{bot_id}", service=SERVICE)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def find(self, extra_key: str, value: str) -> str | None:
        """The id of a bot whose ``extra[extra_key]`` is ``value``, if MeetingBaaS lists one."""
        params: dict[str, str | int | list[str]] = {"filter_by_extra": f"{extra_key}:{value}", "limit": 1}
        answer = request_json(self.http, "GET", "/bots/bots_with_metadata", service=SERVICE, params=params)
        bots = answer.get("bots")
        first = bots[0] if isinstance(bots, list) and bots and isinstance(bots[0], dict) else {}
        return text(first.get("uuid"))
