"""The console's live streams over real HTTP (uvicorn on loopback), on both backends: they need
a session, see only the viewer's org, say ``ready`` once subscribed and ``change`` when what the
page shows changes, at once when the page was drawn from an older state; one poller serves every
tab watching the same thing and stops with the last one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision
from overture.http.console.live import Hub
from overture.storage.queries import changes
from tests.acceptance.test_http_server import served
from tests.approvals_app import make, start
from tests.integration.test_console import Session
from tests.integration.test_http_api import add_globex, in_process


@pytest.fixture
def hitl(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = make(db_url, clock, None)
    yield app
    app.close()


def headers_of(app: App, user: str, org: str = "acme") -> dict[str, str]:
    """The cookie header of a signed-in session of ``user``."""
    with in_process(app) as client:
        return Session(app, client, user, org).headers


class Stream:
    """An open event stream, read one event at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next(self) -> tuple[str, str]:
        """The next event's name and data (keep-alive comments skipped)."""
        name, data = "message", ""
        for line in self.lines:
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = line.split(":", 1)[1].strip()
            elif line == "" and data:
                return name, data
        raise AssertionError("the stream ended")


@contextmanager
def stream(base: str, path: str, headers: dict[str, str]) -> Iterator[Stream]:
    with (
        httpx.Client(base_url=base, timeout=20) as client,
        client.stream("GET", path, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        yield Stream(response)


def test_streams_need_a_session(hitl: App) -> None:
    """No cookie, or a cookie that signs no one in: 401, and no stream."""
    action = start(hitl, "mail")
    with in_process(hitl) as http:
        for path in ("/live/inbox", f"/live/jobs/{action.job_id}", f"/live/actions/{action.id}"):
            for headers in ({}, {"cookie": "overture_session=ov_" + "x" * 43}):
                answer = http.get(path, headers=headers)
                assert answer.status_code == 401, path
                assert not answer.headers["content-type"].startswith("text/event-stream")


def test_another_orgs_job_or_action_is_not_found(hitl: App) -> None:
    """Gus of Globex cannot watch Acme's job or action (nor an id that does not exist)."""
    add_globex(hitl)
    action = start(hitl, "mail")
    gus = headers_of(hitl, "gus", "globex")
    with in_process(hitl) as http:
        for path in (f"/live/jobs/{action.job_id}", f"/live/actions/{action.id}", "/live/jobs/nope"):
            assert http.get(path, headers=gus).status_code == 404, path


def test_a_decision_is_told_to_the_inbox_and_the_approval(hitl: App) -> None:
    """Subscribed with the state the page was drawn from, the inbox and the action's streams each
    say `change` once the action is decided elsewhere (here from Slack)."""
    action = start(hitl, "mail")
    ana = headers_of(hitl, "ana")
    with hitl.store.read() as conn:
        inbox_seen = changes.inbox(conn, "acme")
        action_seen = changes.action(conn, "acme", action.id)
    with (
        served(hitl) as base,
        stream(base, f"/live/inbox?seen={inbox_seen}", ana) as inbox,
        stream(base, f"/live/actions/{action.id}?seen={action_seen}", ana) as one,
    ):
        assert inbox.next() == ("ready", inbox_seen) and one.next() == ("ready", action_seen)
        hitl.approvals.decide(action.id, Decision.APPROVE, "ana", "slack", None, org_id="acme")
        with hitl.store.read() as conn:
            assert inbox.next() == ("change", changes.inbox(conn, "acme"))
            assert one.next() == ("change", changes.action(conn, "acme", action.id))


def test_a_page_drawn_before_a_change_hears_of_it_at_once(hitl: App) -> None:
    """A page drawn from an older state (the action was decided between drawing and subscribing)
    gets `change` right after `ready`."""
    action = start(hitl, "mail")
    with hitl.store.read() as conn:
        drawn = changes.inbox(conn, "acme")
    hitl.approvals.decide(action.id, Decision.SKIP, "ana", "slack", None, org_id="acme")
    with served(hitl) as base, stream(base, f"/live/inbox?seen={drawn}", headers_of(hitl, "ana")) as inbox:
        name, now = inbox.next()
        assert name == "ready" and now != drawn
        assert inbox.next() == ("change", now)


def test_a_job_stream_follows_the_job(hitl: App) -> None:
    """The job's stream says `change` when the worker moves the job on after its approval."""
    action = start(hitl, "mail")
    with served(hitl) as base, stream(base, f"/live/jobs/{action.job_id}", headers_of(hitl, "ana")) as job:
        assert job.next()[0] == "ready"
        hitl.approvals.decide(action.id, Decision.APPROVE, "ana", "web", None, org_id="acme")
        hitl.run_until_idle()
        name, _ = job.next()
        assert name == "change"


def test_each_org_hears_only_of_its_own_inbox(hitl: App) -> None:
    """Gus's inbox stream stays quiet while Acme's action is decided; its first change is the
    one that comes into Globex's own inbox."""
    add_globex(hitl)
    action = start(hitl, "mail")
    gus, ana = headers_of(hitl, "gus", "globex"), headers_of(hitl, "ana")
    with (
        served(hitl) as base,
        stream(base, "/live/inbox", gus) as theirs,
        stream(base, "/live/inbox", ana) as ours,
    ):
        assert theirs.next()[0] == "ready" and ours.next()[0] == "ready"
        hitl.approvals.decide(action.id, Decision.APPROVE, "ana", "slack", None, org_id="acme")
        assert ours.next()[0] == "change"
        hitl.emit({"type": "mail", "org_id": "globex", "user_id": "gus", "payload": {}})
        hitl.run_until_idle()
        with hitl.store.read() as conn:
            assert theirs.next() == ("change", changes.inbox(conn, "globex"))


def test_one_poller_per_watched_thing_while_someone_watches(hitl: App) -> None:
    """Two tabs on one inbox share one poller; another org's inbox has its own; the last tab to
    leave stops it."""

    async def scenario() -> list[int]:
        hub = Hub(hitl, interval_s=0.01)
        first, second = hub.join(("inbox", "acme", "")), hub.join(("inbox", "acme", ""))
        other = hub.join(("inbox", "globex", ""))
        counts = [hub.watched]
        assert first is second and first is not other
        await first.after(None)
        hub.leave(first)
        counts.append(hub.watched)
        hub.leave(second)
        hub.leave(other)
        counts.append(hub.watched)
        return counts

    assert asyncio.run(scenario()) == [2, 2, 0]
