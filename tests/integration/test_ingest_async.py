"""Events ingested from the event loop (``POST /v1/events``): handed to a waiting lane in their
ingest commit as ``emit`` does, and a request cancelled while its write commits still leaves
its job to that lane, never stranded under a lease nobody holds."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

import pytest
from fastapi.testclient import TestClient

from overture.app import App
from overture.core.events import parse_event
from overture.core.records import JobStatus
from overture.http import create_app
from overture.storage.queries import jobs as jobq
from tests.integration.test_http_api import issue
from tests.integration.test_latency_mode import ORG, USER, fast, job_status, start, stop, until

__all__ = ["fast"]  # the fixture, shared with the latency tests


def _event(ref: str) -> dict[str, object]:
    return {"type": "chain", "org_id": ORG, "user_id": USER, "payload": {"ref": ref}}


def test_an_event_posted_to_the_api_is_handed_to_the_waiting_lane_in_its_commit(fast: App) -> None:
    worker, thread = start(fast)
    with TestClient(create_app(fast)) as client:
        answer = client.post("/v1/events", json=_event("over-http"), headers=issue(fast, ORG, USER))
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    until(lambda: job_status(fast, job_id) == JobStatus.COMPLETED)
    stop(worker, thread)
    with fast.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None and job.claims == 1  # taken by the ingest's commit, not claimed after


def test_a_request_cancelled_while_its_write_commits_still_hands_the_job_over(
    fast: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not fast.store.is_sqlite:
        pytest.skip("holds the SQLite writer's turn to keep the write committing")
    worker, thread = start(fast)
    event = parse_event(_event("cancelled"), fast.clock.now())
    writer = fast.ingestor._held()
    submitted: list[Future[object]] = []
    submit = writer.submit
    monkeypatch.setattr(writer, "submit", lambda write: submitted.append(submit(write)) or submitted[-1])

    async def cancelled_midway() -> None:
        with fast.store.writer_turn():  # the write's batch begins, then waits for the turn
            task = asyncio.ensure_future(fast.ingest_async(event))
            while not (submitted and submitted[0].running()):
                await asyncio.sleep(0.001)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(cancelled_midway())
    until(lambda: _jobs(fast) == [(JobStatus.COMPLETED, 1)])  # promptly: no lease to outwait
    until(lambda: fast.store.idle.waiting == 1)
    stop(worker, thread)


def _jobs(app: App) -> list[tuple[JobStatus, int]]:
    with app.store.read() as conn:
        return [(j.status, j.claims) for j in jobq.list_jobs(conn, org_id=ORG, limit=10)]
