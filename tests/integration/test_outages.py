"""Database outages without touching the shared server: the processes under test reach
PostgreSQL through a loopback proxy the test cuts (connections dropped, new ones refused) and
restores. A worker rides the outage out and finishes every job; /readyz says 503 within
seconds and 200 after; ingest answers 503 with Retry-After, never 500. And `serve`'s loops
start a worker again that stopped on an error, answering 503 meanwhile."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from overture.app import App
from overture.cli.loops import Background
from overture.http import create_app
from overture.settings import Settings
from overture.storage.claims import ClaimRequest
from overture.storage.hotpath import HotPath
from overture.storage.queries import jobs as jobq
from tests.chaos import CHAOS, TcpProxy, wait_until
from tests.conftest import _truncate_pg
from tests.integration.test_http_api import Client, in_process, issue

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy(5432) as p:
        yield p


@pytest.fixture
def papp(pg_database: str, proxy: TcpProxy) -> Iterator[App]:
    """An App on the session's PostgreSQL database, reached through the proxy."""
    _truncate_pg(pg_database)
    url = pg_database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    app = App(Settings(database_url=url, packs=[CHAOS], poll_interval_s=0.2, time_budget_s=30))
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    yield app
    app.close()


def statuses(app: App) -> dict[str, int]:
    with app.store.read() as conn:
        return jobq.count_jobs_by_status(conn)


def test_a_worker_rides_out_an_outage_and_finishes_every_job(papp: App, proxy: TcpProxy) -> None:
    """Cut for 3 s mid-run: the worker keeps its thread, hands back the jobs it held once the
    database answers, and every job completes."""
    n = 16
    ids = [
        papp.emit({"type": "steady", "org_id": "acme", "user_id": "ana", "payload": {"n": i}}).job_id
        for i in range(n)
    ]
    worker = papp.worker("rider", concurrency=2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert wait_until(lambda: statuses(papp).get("completed", 0) >= 2, 30)
    proxy.cut()
    time.sleep(3)
    assert thread.is_alive() and worker.outage.since is not None
    proxy.restore()
    assert wait_until(lambda: statuses(papp).get("completed", 0) == n, 60), statuses(papp)
    assert worker.outage.since is None and thread.is_alive()
    stopped = time.monotonic()
    worker.stop()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - stopped < 2 and errors == []
    with papp.store.read() as conn:
        for job_id in ids:
            steps = [s.step_name for s in jobq.steps_of(conn, job_id or "") if s.status.value == "completed"]
            assert steps == ["one", "two"]


def test_readyz_and_ingest_answer_503_while_the_database_is_away(papp: App, proxy: TcpProxy) -> None:
    """/readyz is 503 within 5 s of the cut and 200 again after; an event sent meanwhile gets
    503 with Retry-After (nothing recorded), and the same event is accepted once it is back."""
    auth = issue(papp, "acme", "ana")
    body: dict[str, Any] = {"type": "steady", "org_id": "acme", "user_id": "ana", "payload": {}}
    with in_process(papp) as api:
        assert api.get("/readyz").status_code == 200
        proxy.cut()
        cut_at = time.monotonic()
        assert wait_until(lambda: api.get("/readyz").status_code == 503, 5, every=0.2)
        assert time.monotonic() - cut_at < 5
        refused = api.post("/v1/events", json=body, headers={**auth, "Idempotency-Key": "k1"})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert "nothing was done" in refused.json()["detail"]
        proxy.restore()
        assert wait_until(lambda: api.get("/readyz").status_code == 200, 15, every=0.2)
        accepted = api.post("/v1/events", json=body, headers={**auth, "Idempotency-Key": "k1"})
        assert accepted.status_code == 202 and accepted.json()["status"] == "accepted"


def test_serve_starts_a_crashed_worker_again_and_readyz_says_so_meanwhile(
    papp: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker loop that stops on an error is made anew after a backoff; until it runs, the
    readiness check names the problem (and /readyz answers 503)."""
    monkeypatch.setattr("overture.cli.loops.restart_delay", lambda restarts: 1.0)
    made: list[int] = []
    running = threading.Event()
    stop = threading.Event()

    def make() -> tuple[Any, Any]:
        made.append(1)

        def run() -> None:
            if len(made) == 1:
                raise RuntimeError("the first worker dies")
            running.set()
            stop.wait(30)

        return run, stop.set

    loop = Background("worker w", make)
    api = create_app(papp)
    api.state.readiness = [loop.problem]
    client = Client(api)
    try:
        loop.start()
        assert wait_until(lambda: loop.problem() is not None, 5)
        answer = client.get("/readyz")
        assert answer.status_code == 503 and "being restarted" in answer.json()["detail"]
        assert running.wait(10) and loop.restarts == 1 and loop.problem() is None
        assert client.get("/readyz").status_code == 200
    finally:
        loop.stop()
        assert loop.join(5)
        client.close()


def test_a_connection_lost_or_left_mid_batch_is_thrown_away_not_handed_back_to_the_pool(
    papp: App, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker's connection the server dropped, or one a batch was cut short on (its pipeline
    still busy, as when the server goes away in the middle of it), is discarded when the worker
    lets go of it: handed back, the pool's reset of it fails and logs a traceback."""
    caplog.set_level(logging.WARNING)
    request = ClaimRequest(owner="outage-test", lease_s=30, reclaimed=lambda *_: {})
    lost = HotPath(papp.store)
    assert lost.claim(request, papp.clock.now()) is None  # works: nothing queued
    proxy.cut()
    with pytest.raises(psycopg.OperationalError):
        lost.claim(request, papp.clock.now())
    lost.close()
    proxy.restore()
    busy = HotPath(papp.store)
    batch = busy.drv.conn.pipeline()  # a batch begun, and the server gone before its end
    batch.__enter__()
    busy.drv.conn.execute("SELECT 1")
    proxy.cut()
    busy.close()
    proxy.restore()
    connections = [lost.drv.conn, busy.drv.conn]
    del lost, busy, batch
    gc.collect()  # a connection dropped without being closed would be reset now, by the pool
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [conn.closed for conn in connections] == [True, True]  # neither is kept, pooled or not
