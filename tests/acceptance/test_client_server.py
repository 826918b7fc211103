"""``overture.Client`` and ``overture.AsyncClient`` against the real service (uvicorn on loopback)
on both backends, with a worker running beside it as under ``overture serve``: emit and wait for
a result or an approval, decide and wait again, operate jobs, and the typed errors."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

import overture
from overture.app import App
from overture.client import (
    AsyncClient,
    Client,
    InvalidRequest,
    NotFoundError,
    PermissionDenied,
    Unauthenticated,
)
from overture.core.wire import EventRejected, WaitTimedOut
from overture.engine.admin.tokens import Tokens
from overture.errors import NotFound
from overture.http.api.waits import until_settled
from tests.acceptance.test_http_server import served
from tests.conftest import event, make_app
from tests.integration.test_http_api import add_globex


def token(app: App, org: str | None, user: str | None = None) -> str:
    return Tokens(app.store, app.clock).create(org, user).secret


@contextmanager
def working(app: App) -> Iterator[None]:
    """A worker for ``app`` in a thread, as ``overture serve`` runs one."""
    worker = app.worker()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.stop()
        thread.join(15)


@pytest.fixture
def live(app: App) -> Iterator[str]:
    """The service and a worker for ``app``; yields the base URL."""
    with served(app) as base, working(app):
        yield base


def test_emit_waits_for_the_approval_then_for_the_result_after_the_decision(app: App, live: str) -> None:
    with Client(live, token=token(app, "acme", "ana")) as client:
        paused = client.emit(event("gated", {"ref": "client"}), timeout=30)
        assert paused.status == "awaiting_approval" and paused.awaiting_approval
        assert paused.event is not None and paused.event.status == "accepted"
        assert [a.title for a in paused.approvals] == ["Send to dana@example.com"]
        assert paused.outputs["draft"]["echo"]["to"] == "dana@example.com"
        assert paused.job is not None
        listed = client.approvals.list(job_id=paused.job.id)
        assert [a.id for a in listed] == [a.id for a in paused.approvals]
        assert client.approvals.list(job_id="another-job") == []

        decided = client.approvals.decide(listed[0].id, "approve")
        assert decided.applied and decided.status == "approved" and decided.decided_by == "ana"
        again = client.approvals.decide(listed[0].id, "skip")
        assert not again.applied and again.status == "approved"

        done = client.wait(paused.job.id, timeout=30)
        assert done.status == "completed" and done.settled and done.approvals == []
        assert list(done.outputs) == ["draft", "send", "after"]
        assert client.approvals.get(listed[0].id).decided_via == "api"


def test_emit_returns_a_finished_job_and_without_wait_the_receipt(app: App, live: str) -> None:
    with Client(live, token=token(app, "acme", "ana")) as client:
        failed = client.emit(event("must_stop", {"n": 1}), timeout=30)
        assert failed.status == "failed" and failed.job is not None
        assert "flaky failure" in (failed.job.steps[-1].error or "")
        kept_going = client.emit(event("keep_going"), timeout=30)
        assert kept_going.status == "completed" and "after" in kept_going.outputs

        receipt = client.emit(event("five_steps", {"n": 1}), wait=False, idempotency_key="k-1")
        assert receipt.status == "accepted" and receipt.job_id is not None
        repeat = client.emit(event("five_steps", {"n": 1}), idempotency_key="k-1", timeout=30)
        assert repeat.event is not None and repeat.event.status == "duplicate"
        assert repeat.job is not None and repeat.job.id == receipt.job_id and repeat.status == "completed"

        with pytest.raises(WaitTimedOut) as late:
            client.emit(event("five_steps", {"n": 2, "seconds": 1}), timeout=0.3)
        assert late.value.outcome.status in ("pending", "in_progress")
        assert late.value.outcome.job is not None and len(late.value.outcome.job.steps) < 5

    with Client(live, token=token(app, "acme")) as org, pytest.raises(EventRejected) as rejected:
        org.emit(event("gated", {"ref": "x"}, user="ghost"))
    assert rejected.value.reason == "user_not_found" and rejected.value.outcome.job is None


def test_a_deferred_event_returns_at_once_saying_until_when(app: App, live: str) -> None:
    app.admin.add_user("acme", "nia", "Nia", active_hours="20:00-22:00", workdays="mon-sun")
    with Client(live, token=token(app, "acme", "nia")) as client:
        deferred = client.emit(event("five_steps", {"n": 1}, user="nia"), timeout=30)
    assert deferred.deferred and not deferred.settled
    assert deferred.event is not None and deferred.event.reason == "outside_active_hours"
    assert deferred.job is not None and deferred.job.run_after is not None
    assert deferred.job.run_after.hour == 20


def test_jobs_get_list_page_retry_and_cancel(app: App, live: str) -> None:
    boss = Client(live, token=token(app, "acme", "boss"))
    with Client(live, token=token(app, "acme", "ana")) as client, boss:
        failed = client.emit(event("must_stop", {"n": 1}), timeout=30)
        paused = client.emit(event("gated", {"ref": "to-cancel"}), timeout=30)
        finished = client.emit(event("keep_going"), timeout=30)
        assert failed.job and paused.job and finished.job

        detail = client.jobs.get(failed.job.id)
        assert detail.status == "failed" and detail.event_type == "must_stop"
        assert client.jobs.chain(failed.job.id).job.id == failed.job.id
        assert [j.id for j in client.jobs.list(status="failed").items] == [failed.job.id]
        assert [j.id for j in client.jobs.list(event_type="gated").items] == [paused.job.id]
        assert client.jobs.list(user_id="eve").items == []
        newest_first = [finished.job.id, paused.job.id, failed.job.id]
        page = client.jobs.list(limit=2)
        assert [j.id for j in page.items] == newest_first[:2] and page.next_before == paused.job.id
        rest = client.jobs.list(limit=2, before=page.next_before)
        assert [j.id for j in rest.items] == newest_first[2:] and rest.next_before is None
        assert [j.id for j in client.jobs.iterate(page_size=1)] == newest_first
        assert client.jobs.list(since=detail.created_at, event_type="must_stop").items[0].id == failed.job.id

        retried = client.jobs.retry(failed.job.id)
        assert retried.id == failed.job.id and retried.status in ("pending", "in_progress", "failed")
        assert client.wait(failed.job.id, timeout=30).status == "failed"  # the step still breaks

        cancelled = client.jobs.cancel(paused.job.id, "not needed")
        assert cancelled.was == "awaiting_approval" and cancelled.status == "cancelled"
        assert cancelled.closed_actions == [a.id for a in paused.approvals]
        assert client.approvals.list(job_id=paused.job.id) == []
        assert (
            client.approvals.list(job_id=paused.job.id, status="cancelled")[0].id
            == cancelled.closed_actions[0]
        )
        assert client.wait(paused.job.id).status == "cancelled"

        eve = Client(live, token=token(app, "acme", "eve"))
        with eve, pytest.raises(PermissionDenied) as others:
            eve.jobs.cancel(finished.job.id, "not mine")
        assert others.value.status == 403 and "owner" in others.value.detail
        assert boss.jobs.get(finished.job.id).status == "completed"


def test_errors_arrive_typed_with_the_problem_the_server_answered(app: App, live: str) -> None:
    add_globex(app)
    with Client(live, token="ov_not-a-real-token") as stranger, pytest.raises(Unauthenticated) as unknown:
        stranger.jobs.list()
    assert unknown.value.status == 401 and unknown.value.title == "Unauthorized"
    assert "token" in unknown.value.detail

    with Client(live, token=token(app, "globex", "gus")) as gus:
        theirs = gus.emit(event("keep_going", user="gus") | {"org_id": "globex"}, timeout=30)
    assert theirs.job is not None
    foreign_id = theirs.job.id
    with Client(live, token=token(app, "acme", "ana")) as ana:
        for attempt in (lambda: ana.jobs.get(foreign_id), lambda: ana.wait(foreign_id)):
            with pytest.raises(NotFoundError) as foreign:
                attempt()
            assert foreign.value.status == 404 and isinstance(foreign.value, NotFound)
            assert foreign.value.detail == f"no job {foreign_id!r}"

        with pytest.raises(InvalidRequest) as malformed:
            ana.emit({"type": "gated", "user_id": "ana", "payload": {"ref": 1}})
        assert malformed.value.status == 422 and malformed.value.fields == {"org_id": "Field required"}
        with pytest.raises(NotFoundError) as paging:
            ana.jobs.list(before=foreign_id)  # another org's job is no job
        assert paging.value.detail == f"before: no job {foreign_id!r}"
        with pytest.raises(NotFoundError):
            ana.jobs.list(before="no-such-job")


def test_the_long_poll_answers_when_a_worker_elsewhere_runs_the_job(app: App, db_url: str) -> None:
    """No signal crosses processes: the wait notices the job by reading its status again."""
    elsewhere = make_app(db_url, app.clock)
    try:
        with served(app) as base, httpx.Client(base_url=base, timeout=30) as http:
            headers = {"Authorization": f"Bearer {token(app, 'acme', 'ana')}"}
            sent = http.post("/v1/events", json=event("gated", {"ref": "far"}), headers=headers).json()
            worker = threading.Thread(target=elsewhere.run_until_idle, daemon=True)
            worker.start()
            answer = http.get(f"/v1/jobs/{sent['job_id']}", params={"wait": 20}, headers=headers)
            worker.join(15)
            assert answer.status_code == 200 and answer.json()["status"] == "awaiting_approval"
            too_long = http.get(f"/v1/jobs/{sent['job_id']}", params={"wait": 31}, headers=headers)
            assert too_long.status_code == 422
            assert too_long.json()["errors"][0]["location"] == "query.wait"
    finally:
        elsewhere.close()


def test_a_waiting_request_answers_at_once_when_the_service_stops(app: App) -> None:
    """No worker runs the job: only the stop can end a 30 s wait before the guard below."""
    receipt = app.emit(event("gated", {"ref": "stop"}))
    assert receipt.job_id is not None

    async def scenario() -> None:
        waiting = asyncio.create_task(until_settled(app, receipt.job_id or "", "acme", 30))
        await asyncio.sleep(0.2)  # let it start waiting
        assert not waiting.done()
        app.signals.close()
        await asyncio.wait_for(waiting, 10)

    asyncio.run(scenario())
    assert app.outcome(receipt.job_id).status == "pending"


def test_the_async_client_emits_waits_decides_and_raises_typed_errors(app: App, live: str) -> None:
    secret = token(app, "acme", "ana")

    async def scenario() -> None:
        async with AsyncClient(live, token=secret) as client:
            paused = await client.emit(event("gated", {"ref": "async"}), timeout=30)
            assert paused.awaiting_approval and paused.job is not None
            pending = await client.approvals.list(job_id=paused.job.id)
            decided = await client.approvals.decide(pending[0].id, "edit", modifications={"subject": "Hi"})
            assert decided.applied and decided.status == "edited"
            done = await client.wait(paused.job.id, timeout=30)
            assert done.status == "completed"
            assert (await client.jobs.get(paused.job.id)).status == "completed"
            assert [j.id async for j in client.jobs.iterate(event_type="gated")] == [paused.job.id]
            with pytest.raises(NotFoundError):
                await client.jobs.retry("no-such-job")

    asyncio.run(scenario())


def test_importing_overture_loads_the_client_only_when_asked() -> None:
    assert overture.Client is Client and overture.AsyncClient is AsyncClient
    with pytest.raises(AttributeError):
        overture.NoSuchThing  # noqa: B018
