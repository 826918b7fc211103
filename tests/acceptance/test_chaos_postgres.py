"""PostgreSQL restarted and stopped for 20 s under load, with separate workers and with
`overture serve`: every job completes with no human action, no email goes twice, no process
dies; /readyz says 503 within 5 s of the database going away and 200 after; ingest says 503
with Retry-After meanwhile.

These act on the machine's shared cluster (other test sessions see the outage), so they are
``slow`` only, and the cluster is started again whatever happens.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from overture.app import App
from tests.acceptance.test_chaos import chaos_app, emit, report, settled
from tests.chaos import CountingSmtp, Fleet, free_port, pg_cluster, pg_up, wait_until, worker_env
from tests.conftest import PG_ADMIN_URL, _truncate_pg

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]
JOBS = 200
STOP_S = 20


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    _truncate_pg(pg_database)
    try:
        yield pg_database
    finally:
        if not pg_up(PG_ADMIN_URL):
            pg_cluster("start")
        assert wait_until(lambda: pg_up(PG_ADMIN_URL), 60)


@pytest.fixture
def app(pg_url: str) -> Iterator[App]:
    """The test's own App on the database, closed whatever the test's outcome (left open, its
    connections are found and warned about in whichever test runs next)."""
    application = chaos_app(pg_url)
    try:
        yield application
    finally:
        application.close()


def safely(fn: Any) -> Any:
    """``fn()``, or False while the database is away (the test's own reads are refused too)."""
    try:
        return fn()
    except Exception:
        return False


def completed(app: App) -> int:
    from overture.storage.queries import jobs as jobq

    with app.store.read() as conn:
        return jobq.count_jobs_by_status(conn).get("completed", 0)


def outage(app: App, total: int, while_stopped: Callable[[], None] | None = None) -> dict[str, float]:
    """Restart at 20 % done, stop for 20 s at 50 % done (calling ``while_stopped`` a few
    seconds in); when each happened (monotonic)."""
    marks: dict[str, float] = {}
    assert wait_until(lambda: safely(lambda: completed(app) >= total // 5), 240)
    marks["restart"] = time.monotonic()
    pg_cluster("restart")
    marks["restarted"] = time.monotonic()
    assert wait_until(lambda: safely(lambda: completed(app) >= total // 2), 240)
    marks["stop"] = time.monotonic()
    pg_cluster("stop")
    marks["stopped"] = time.monotonic()
    if while_stopped is not None:
        time.sleep(3)
        while_stopped()
    time.sleep(max(0.0, marks["stopped"] + STOP_S - time.monotonic()))
    pg_cluster("start")
    marks["started"] = time.monotonic()
    return marks


def test_separate_workers_survive_a_restart_and_a_20s_stop(app: App, pg_url: str, tmp_path: Path) -> None:
    with CountingSmtp() as smtp:
        emit(app, "chaos_mail", JOBS, seconds=0.3)
        env = worker_env(pg_url, tmp_path, OVERTURE_SMTP_HOST="127.0.0.1", OVERTURE_SMTP_PORT=str(smtp.port))
        fleet = Fleet(env, tmp_path)
        began = time.monotonic()
        fleet.start(2)
        marks = outage(app, JOBS)
        done = wait_until(lambda: safely(lambda: settled(app, JOBS)), 300, every=0.5)
        finished = time.monotonic()
        alive = len(fleet.alive())
        codes = fleet.stop()
        received = smtp.ids
    output = fleet.output()
    figures = {
        "jobs": JOBS,
        "seconds": round(finished - began, 1),
        "after_start_s": round(finished - marks["started"], 1),
        "workers_alive": alive,
        "delivered": len(received),
        "duplicates": sum(1 for v in received.values() if v > 1),
        "tracebacks": output.count("Traceback"),
    }
    report("pg_outage_workers", **figures)
    assert done and alive == 2 and codes == [0, 0], output[-3000:]
    assert figures["duplicates"] == 0 and figures["tracebacks"] == 0


class Probe:
    """Polls /readyz every 0.2 s and remembers each answer with its time."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.seen: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.wait(0.2):
                try:
                    status = client.get(f"{self.base}/readyz").status_code
                except httpx.HTTPError:
                    status = 0
                self.seen.append((time.monotonic(), status))

    def first(self, status: int, after: float) -> float | None:
        return next((t for t, s in self.seen if t >= after and s == status), None)


def test_serve_survives_a_restart_and_a_20s_stop(app: App, pg_url: str, tmp_path: Path) -> None:
    token = app.tokens.create("acme", "ana").secret
    auth = {"Authorization": f"Bearer {token}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with CountingSmtp() as smtp:
        env = worker_env(pg_url, tmp_path, OVERTURE_SMTP_HOST="127.0.0.1", OVERTURE_SMTP_PORT=str(smtp.port))
        log = (tmp_path / "serve.log").open("wb")
        cmd = [sys.executable, "-m", "overture.cli", "serve", "--port", str(port), "--no-scheduler"]
        serve = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            ready = wait_until(lambda: safely(lambda: httpx.get(f"{base}/readyz").status_code == 200), 60)
            assert ready, (tmp_path / "serve.log").read_text()[-3000:]
            with httpx.Client(timeout=10) as client, Probe(base) as probe:
                for i in range(JOBS):
                    body = {
                        "type": "chaos_mail",
                        "org_id": "acme",
                        "user_id": "ana",
                        "payload": {"n": i, "seconds": 0.3},
                    }
                    assert client.post(f"{base}/v1/events", json=body, headers=auth).status_code == 202
                began = time.monotonic()
                marks = outage_with_ingest(app, client, base, auth)
                done = wait_until(lambda: safely(lambda: settled(app, JOBS + 1)), 300, every=0.5)
                finished = time.monotonic()
            went_503 = probe.first(503, marks["stop"])
            back_200 = probe.first(200, marks["started"])
            alive = serve.poll() is None
        finally:
            serve.send_signal(2)
            code = serve.wait(60)
            log.close()
        received = smtp.ids
    output = (tmp_path / "serve.log").read_text(errors="replace")
    figures = {
        "jobs": JOBS + 1,
        "seconds": round(finished - began, 1),
        "readyz_503_after_stop_s": round(went_503 - marks["stop"], 2) if went_503 else None,
        "readyz_200_after_start_s": round(back_200 - marks["started"], 2) if back_200 else None,
        "ingest_during_stop": marks["ingest_status"],
        "retry_after": marks["retry_after"],
        "duplicates": sum(1 for v in received.values() if v > 1),
        "tracebacks": output.count("Traceback"),
    }
    report("pg_outage_serve", **figures)
    assert done and alive and code == 0, output[-3000:]
    assert went_503 is not None and went_503 - marks["stop"] < 5
    assert back_200 is not None
    assert marks["ingest_status"] == 503 and marks["retry_after"] == "5"
    assert figures["duplicates"] == 0 and figures["tracebacks"] == 0


def outage_with_ingest(app: App, client: httpx.Client, base: str, auth: dict[str, str]) -> dict[str, Any]:
    """The outage above, with an event sent while the database is stopped (503, Retry-After)
    and sent again, with the same Idempotency-Key, once it is back (202)."""
    marks: dict[str, Any] = {}
    body = {"type": "chaos_mail", "org_id": "acme", "user_id": "ana", "payload": {"n": "late"}}
    headers = {**auth, "Idempotency-Key": "sent-during-the-outage"}

    def during_stop() -> None:
        answer = client.post(f"{base}/v1/events", json=body, headers=headers)
        marks["ingest_status"] = answer.status_code
        marks["retry_after"] = answer.headers.get("Retry-After")

    marks.update(outage(app, JOBS, during_stop))

    def again() -> bool:
        return client.post(f"{base}/v1/events", json=body, headers=headers).status_code == 202

    assert wait_until(lambda: safely(again), 60)
    return marks
