"""A fake Slack Web API on 127.0.0.1 that answers in Slack's JSON and records every call.

The official ``WebClient`` is pointed at it with ``base_url``: methods are
served at ``/api/<method>``, bearer-authenticated, JSON bodies in, ``{"ok": ...}`` out; errors
come as Slack sends them (``{"ok": false, "error": ...}``, and HTTP 429 with ``Retry-After`` for
``ratelimited``). ``/actions/...`` stands in for interactions' ``response_url``.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.unit.test_integrations_apis import FakeApi, Reply, Seen

TOKEN = "xoxb-test-token"


@dataclass(frozen=True)
class Call:
    """One Web API call: the method and its arguments as the SDK sent them."""

    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    """Start with ``with FakeSlack() as slack``; ``slack.base_url`` is for ``WebClient``."""

    calls: list[Call] = field(default_factory=list)
    response_url_posts: list[dict[str, Any]] = field(default_factory=list)
    _failures: dict[str, list[Reply]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: What was posted, by conversation: what conversations.history and .replies answer.
    posted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._server = FakeApi(self._answer)

    def __enter__(self) -> FakeSlack:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def base_url(self) -> str:
        return f"{self._server.url}/api/"

    def fail(self, method: str, error: str, *, status: int = 200, retry_after: int | None = None) -> None:
        """Answer the next call of ``method`` with Slack's error ``error``."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._failures.setdefault(method, []).append(
                Reply(status=status, body={"ok": False, "error": error}, headers=headers)
            )

    def to(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every successful-or-not call of ``method``, in order."""
        with self._lock:
            return [c.args for c in self.calls if c.method == method]

    def _answer(self, seen: Seen) -> Reply:
        if seen.path.startswith("/actions/"):
            with self._lock:
                self.response_url_posts.append(json.loads(seen.body or b"{}"))
            return Reply(body=b"ok", headers={"Content-Type": "text/plain"})
        method = seen.path.removeprefix("/api/")
        if seen.headers.get("content-type", "").startswith("application/json"):
            args = json.loads(seen.body or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
        with self._lock:
            self.calls.append(Call(method, args))
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        if seen.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(body={"ok": False, "error": "invalid_auth"})
        if failure is not None:
            return failure
        return Reply(body=self._ok(method, args))

    def _ok(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            channel = str(args["channel"])
            dm = "D" + channel[1:] if channel.startswith(("U", "W")) else channel
            ts = f"1700000000.{next(self._ts):06d}"
            message = {"type": "message", "text": args.get("text"), "blocks": args.get("blocks"), "ts": ts}
            stored = {**message, "metadata": args.get("metadata"), "thread_ts": args.get("thread_ts")}
            self.posted.setdefault(dm, []).append(stored)
            return {"ok": True, "channel": dm, "ts": ts, "message": message}
        if method == "conversations.open":
            users = str(args.get("users") or "")
            return {"ok": True, "channel": {"id": "D" + users[1:]}}
        if method in ("conversations.history", "conversations.replies"):
            found = self.posted.get(str(args["channel"]), [])
            if method == "conversations.replies":
                found = [m for m in found if m["thread_ts"] == args.get("ts")]
            else:
                found = [m for m in found if not m["thread_ts"]]
            keep = args.get("include_all_metadata") in (True, "true", "1", 1)
            return {
                "ok": True,
                "messages": [{**m, "metadata": m["metadata"] if keep else None} for m in found],
            }
        if method == "chat.update":
            return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text")}
        if method == "views.open":
            return {"ok": True, "view": {**args.get("view", {}), "id": f"V{next(self._ts):05d}"}}
        return {"ok": False, "error": "unknown_method"}
