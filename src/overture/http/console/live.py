"""Live pages: the inbox, a job and an approval tell an open tab when they change, over
server-sent events, so the tab can redraw what changed instead of reloading.

The server learns of changes by polling the store, not by being told: a job is moved on by
whichever worker or server process holds it, possibly on another machine sharing the same
PostgreSQL. One poller runs per watched thing (an org's inbox, a job, an action), however many
tabs watch it, and stops when the last tab goes; each poll is one indexed query
(``storage.queries.changes``). A tab's page carries the fingerprint it was drawn from, so a
change between drawing the page and opening the stream is not missed.

The stream only ever says *that* something changed (``event: change``), never what: the tab
fetches the page again with its own session, which applies every rule of the page itself. The
session is checked again at each change, so a signed-out or revoked session stops hearing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from overture.app import App
from overture.http.console.pages import HEADERS
from overture.http.console.session import Viewer, viewer_of
from overture.storage.queries import changes

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

#: Seconds between two polls of one watched thing.
POLL_S = 1.0
#: Seconds between two keep-alive comments on an idle stream (proxies drop silent ones).
PING_S = 15

Key = tuple[str, str, str]  # (kind, org_id, id)
_PROBES: dict[str, Callable[[sa.Connection, str, str], str]] = {
    "inbox": lambda conn, org_id, _: changes.inbox(conn, org_id),
    "job": changes.job,
    "action": changes.action,
}


def fingerprint(conn: sa.Connection, kind: str, org_id: str, thing_id: str = "") -> str:
    """What a page of ``kind`` was drawn from, for its stream to compare with."""
    return _PROBES[kind](conn, org_id, thing_id)


@dataclass
class _Poller:
    """Polls one thing for as long as someone watches it; wakes its watchers on a change."""

    key: Key
    seen: str | None = None
    watchers: int = 0
    task: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, value: str) -> None:
        if value != self.seen:
            self.seen = value
            self.changed.set()
            self.changed = asyncio.Event()

    async def after(self, value: str | None) -> str:
        """The fingerprint once it differs from ``value`` (at once if it already does)."""
        while self.seen is None or self.seen == value:
            await self.changed.wait()
        return self.seen


class Hub:
    """The pollers of one service, by what they watch."""

    def __init__(self, app: App, interval_s: float = POLL_S) -> None:
        self.app = app
        self.interval_s = interval_s
        self._pollers: dict[Key, _Poller] = {}

    def _probe(self, key: Key) -> str:
        kind, org_id, thing_id = key
        with self.app.store.read() as conn:
            return fingerprint(conn, kind, org_id, thing_id)

    async def _run(self, poller: _Poller) -> None:
        while True:
            try:
                poller.publish(await asyncio.to_thread(self._probe, poller.key))
            except Exception:  # the store is down or busy: keep the tabs, try again next time
                log.warning("console: could not poll %s", poller.key[0], exc_info=True)
            await asyncio.sleep(self.interval_s)

    def join(self, key: Key) -> _Poller:
        poller = self._pollers.get(key)
        if poller is None:
            poller = self._pollers[key] = _Poller(key)
            poller.task = asyncio.create_task(self._run(poller))
        poller.watchers += 1
        return poller

    def leave(self, poller: _Poller) -> None:
        poller.watchers -= 1
        if poller.watchers == 0 and self._pollers.get(poller.key) is poller:
            del self._pollers[poller.key]
            if poller.task is not None:
                poller.task.cancel()

    @property
    def watched(self) -> int:
        """How many things are being polled now (for tests and metrics)."""
        return len(self._pollers)


def hub_of(request: Request) -> Hub:
    hub: Hub | None = getattr(request.app.state, "console_live", None)
    if hub is None:
        hub = request.app.state.console_live = Hub(request.app.state.overture)
    return hub


def _still_signed_in(request: Request) -> bool:
    return viewer_of(request) is not None


async def _events(request: Request, key: Key, seen: str | None) -> AsyncIterator[ServerSentEvent]:
    hub = hub_of(request)
    poller = hub.join(key)
    try:
        now = await poller.after(None)
        yield ServerSentEvent(data=now, event="ready")
        if seen and seen != now:
            yield ServerSentEvent(data=now, event="change")
        while True:
            now = await poller.after(now)
            if not await asyncio.to_thread(_still_signed_in, request):
                yield ServerSentEvent(data="signed out", event="end")
                return
            yield ServerSentEvent(data=now, event="change")
    finally:
        hub.leave(poller)


def _stream(request: Request, key: Key, seen: str | None) -> Response:
    headers = {**HEADERS, "X-Accel-Buffering": "no"}
    return EventSourceResponse(_events(request, key, seen), headers=headers, ping=PING_S)


def _exists(request: Request, viewer: Viewer, kind: str, thing_id: str) -> bool:
    app: App = request.app.state.overture
    with app.store.read() as conn:
        return fingerprint(conn, kind, viewer.org_id, thing_id) != changes.GONE


@router.get("/live/inbox")
def inbox(request: Request, seen: str | None = None) -> Response:
    """Tells the inbox when an action of the org comes in, is decided or expires."""
    viewer = viewer_of(request)
    if viewer is None:
        return _signin_first()
    return _stream(request, ("inbox", viewer.org_id, ""), seen)


@router.get("/live/jobs/{job_id}")
def job(request: Request, job_id: str, seen: str | None = None) -> Response:
    """Tells a job's page when the job, its steps, follow-ups, approvals or effects change."""
    return _thing(request, "job", job_id, seen)


@router.get("/live/actions/{action_id}")
def action(request: Request, action_id: str, seen: str | None = None) -> Response:
    """Tells an approval's page when it is decided, cancelled or expires."""
    return _thing(request, "action", action_id, seen)


def _thing(request: Request, kind: str, thing_id: str, seen: str | None) -> Response:
    viewer = viewer_of(request)
    if viewer is None:
        return _signin_first()
    if not _exists(request, viewer, kind, thing_id):
        return Response("Not found.", status_code=404, headers=HEADERS, media_type="text/plain")
    return _stream(request, (kind, viewer.org_id, thing_id), seen)


def _signin_first() -> Response:
    return Response("Sign in first.", status_code=401, headers=HEADERS, media_type="text/plain")
