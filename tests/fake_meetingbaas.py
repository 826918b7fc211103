"""A fake MeetingBaaS API v1 on 127.0.0.1 that keeps bots as MeetingBaaS does and records every call.

It speaks the API of ``Meeting-BaaS/docs`` ``openapi.json`` (the client's docstring says what was
relied on): ``POST /bots`` takes a ``JoinRequest`` (``meeting_url`` and ``bot_name`` required, no
unknown fields, ``start_time`` whole seconds) and answers ``{"bot_id": uuid}``; a second bot with
the same ``deduplication_key`` within five minutes is refused; ``DELETE /bots/{uuid}`` answers
``{"ok": true}`` or 404; ``GET /bots/bots_with_metadata?filter_by_extra=k:v`` lists bots whose
``extra`` matches. Every call needs ``x-meeting-baas-api-key``. ``fail`` makes the next call of a
route answer an error, as a flaky or refusing MeetingBaaS would.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.unit.test_integrations_apis import FakeApi, Reply, Seen

API_KEY = "mb-api-key-123"
DEDUPE_WINDOW_S = 300
JOIN_FIELDS = {
    "automatic_leave",
    "bot_image",
    "bot_name",
    "deduplication_key",
    "entry_message",
    "extra",
    "meeting_url",
    "recording_mode",
    "reserved",
    "speech_to_text",
    "start_time",
    "streaming",
    "transcription_custom_parameters",
    "webhook_url",
    "zoom_access_token_url",
    "zoom_obf_token",
    "zoom_obf_token_url",
    "zoom_obf_token_user_id",
    "zoom_sdk_id",
    "zoom_sdk_pwd",
}


@dataclass
class Bot:
    uuid: str
    request: dict[str, Any]
    created_at: datetime
    deleted: bool = False


@dataclass
class FakeMeetingBaas:
    """Start with ``with FakeMeetingBaas() as mb``; point Overture at ``mb.url``."""

    api_key: str = API_KEY
    create_delay_s: float = 0.0  # a slow POST /bots, to overlap two callers
    bots: dict[str, Bot] = field(default_factory=dict)
    calls: list[Seen] = field(default_factory=list)
    _failures: dict[str, list[Reply]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server = FakeApi(self._answer)

    def __enter__(self) -> FakeMeetingBaas:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self._server.url

    def fail(self, route: str, status: int, error: str = "error") -> None:
        """Answer the next ``route`` (``create``, ``delete`` or ``list``) with ``status``."""
        with self._lock:
            self._failures.setdefault(route, []).append(Reply(status=status, body={"error": error}))

    def live(self) -> list[Bot]:
        """The bots not deleted, in creation order."""
        with self._lock:
            return [b for b in self.bots.values() if not b.deleted]

    def of(self, method: str) -> list[Seen]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _answer(self, seen: Seen) -> Reply:
        if seen.method == "POST" and self.create_delay_s:
            time.sleep(self.create_delay_s)
        with self._lock:
            self.calls.append(seen)
            if seen.headers.get("x-meeting-baas-api-key") != self.api_key:
                return Reply(status=401, body={"error": "Invalid API key"})
            path = seen.path.rstrip("/")
            route = {("POST", "/bots"): "create", ("GET", "/bots/bots_with_metadata"): "list"}.get(
                (seen.method, path),
                "delete" if seen.method == "DELETE" and path.startswith("/bots/") else None,
            )
            if route is None:
                return Reply(status=404, body={"error": "Not found"})
            queued = self._failures.get(route)
            if queued:
                return queued.pop(0)
            if route == "create":
                return self._create(seen)
            if route == "list":
                return self._list(seen)
            return self._delete(path.removeprefix("/bots/"))

    def _create(self, seen: Seen) -> Reply:
        doc = json.loads(seen.body or b"null")
        if not isinstance(doc, dict) or not {"meeting_url", "bot_name"} <= set(doc):
            return Reply(status=422, body={"error": "meeting_url and bot_name are required"})
        unknown = set(doc) - JOIN_FIELDS
        if unknown:
            return Reply(status=422, body={"error": f"unknown field(s): {', '.join(sorted(unknown))}"})
        start = doc.get("start_time")
        if start is not None and (not isinstance(start, int) or start < 0):
            return Reply(status=422, body={"error": "start_time must be a Unix timestamp in seconds"})
        now = datetime.now(UTC)
        key = doc.get("deduplication_key")
        for bot in self.bots.values():
            same = (
                bot.request.get("deduplication_key") == key
                if key
                else bot.request["meeting_url"] == doc["meeting_url"]
            )
            if same and (now - bot.created_at).total_seconds() < DEDUPE_WINDOW_S:
                return Reply(status=409, body={"error": "a bot was already sent to this meeting"})
        bot_id = str(uuid.uuid4())
        self.bots[bot_id] = Bot(bot_id, doc, now)
        return Reply(body={"bot_id": bot_id})

    def _delete(self, bot_id: str) -> Reply:
        bot = self.bots.get(bot_id)
        if bot is None or bot.deleted:
            return Reply(status=404, body={"error": "Bot not found"})
        bot.deleted = True
        return Reply(body={"ok": True})

    def _list(self, seen: Seen) -> Reply:
        wanted = dict(
            part.split(":", 1)
            for part in (seen.query.get("filter_by_extra") or [""])[0].split(",")
            if ":" in part
        )
        limit = int((seen.query.get("limit") or ["10"])[0])
        found = [
            {"uuid": b.uuid, "meeting_url": b.request["meeting_url"], "extra": b.request.get("extra") or {}}
            for b in self.bots.values()
            if all(str((b.request.get("extra") or {}).get(k)) == v for k, v in wanted.items())
        ]
        return Reply(body={"bots": found[:limit], "has_more": len(found) > limit})
