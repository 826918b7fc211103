"""`overture serve` as several processes: `--http-workers N` answers on one port from N
processes (each ingesting, each with its worker), and on PostgreSQL the API alone
(`--no-worker`) beside an `overture worker` of its own. Real processes on loopback; waits poll
for a state with a deadline, nothing asserts on time."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from overture.app import App
from overture.engine.admin.tokens import Tokens
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import events as events_table
from tests.acceptance.test_http_server import _job, tenant, wait_for  # noqa: F401
from tests.conftest import MECHANICS, _truncate_pg, event, make_app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OVERTURE_DATABASE_URL": db_url,
        "OVERTURE_PACKS": json.dumps([MECHANICS]),
        "MECHANICS_RUN_LOG": str(tmp_path / "runs.log"),
        "MECHANICS_EFFECT_DIR": str(tmp_path / "effects"),
    }


@contextmanager
def overture(
    db_url: str, tmp_path: Path, *args: str, ready: str | None = None
) -> Iterator[subprocess.Popen[str]]:
    """An `overture ...` process; waits until ``ready`` answers 200; killed if left running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "overture.cli", *args],
        env=_env(db_url, tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def up() -> bool:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            return httpx.get(ready or "", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        if ready is not None:
            wait_for(up, f"{ready} to answer", timeout=60)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("needs /proc to find the HTTP worker processes")
    return [int(p) for p in path.read_text().split()]


def _send(base: str, headers: dict[str, str], n: int) -> dict[str, Any]:
    """One event on a connection of its own (so whichever process accepts it answers)."""
    with httpx.Client(base_url=base, timeout=10) as http:
        sent = http.post(
            "/v1/events",
            json=event("five_steps", {"n": n}),
            headers={**headers, "Idempotency-Key": f"k{n}"},
        )
    assert sent.status_code == 202, sent.text
    body: dict[str, Any] = sent.json()
    assert body["status"] == "accepted"
    return body


def test_http_workers_answer_from_each_process_and_every_event_lands_once(
    tenant: App,  # noqa: F811 (the fixture imported from test_http_server)
    db_url: str,
    tmp_path: Path,
) -> None:
    """Two processes serve one port: while either one is gone the other takes every event, and
    the supervisor starts a new one in its place; every event is recorded once and its job run
    once; SIGTERM to the supervisor stops them all."""
    headers = {"Authorization": f"Bearer {Tokens(tenant.store, tenant.clock).create('acme').secret}"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    args = ("serve", "--port", str(port), "--http-workers", "2", "--log-level", "warning")
    with overture(db_url, tmp_path, *args, ready=f"{base}/readyz") as supervisor:
        wait_for(lambda: len(_children(supervisor.pid)) == 2, "two HTTP worker processes")
        original = _children(supervisor.pid)
        sent = []
        for gone in original:  # one stops: only the other can take the events
            os.kill(gone, signal.SIGTERM)
            wait_for(
                lambda pid=gone: pid not in _children(supervisor.pid), "the process to stop", timeout=120
            )
            sent += [_send(base, headers, len(sent) + i) for i in range(5)]
            wait_for(lambda: len(_children(supervisor.pid)) == 2, "the supervisor to start another")
        sent += [_send(base, headers, len(sent) + i) for i in range(10)]  # both at once
        latest = _children(supervisor.pid)
        assert not set(latest) & set(original)
        job_ids = [s["job_id"] for s in sent]
        assert len(set(job_ids)) == 20
        wait_for(
            lambda: all(_job(tenant, j).status.value == "completed" for j in job_ids),
            "every job to complete",
            timeout=120,
        )
        supervisor.send_signal(signal.SIGTERM)
        _, stderr = supervisor.communicate(timeout=90)
        assert supervisor.returncode == 0, stderr
        assert "with 2 HTTP processes, each with a worker" in stderr and "overture: stopped" in stderr
    for pid in latest:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    with tenant.store.read() as conn:
        recorded = conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar_one()
        steps = [len(jobq.steps_of(conn, j)) for j in job_ids]
    assert recorded == 20 and steps == [5] * 20
    runs = (tmp_path / "runs.log").read_text().split()
    assert Counter(runs[0::2]) == dict.fromkeys(job_ids, 5)  # each step of each job ran once


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has put in a handler of its own for SIGTERM (its SigCgt mask)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        pytest.skip("needs /proc to see when the process handles SIGTERM")
    caught = next(line for line in status.read_text().splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


def test_serve_told_to_stop_while_it_starts_stops(sqlite_template: Path, tmp_path: Path) -> None:
    """SIGTERM as soon as `serve` handles it, which is before uvicorn has taken over the
    signals: the process still shuts down cleanly instead of serving on."""
    db = tmp_path / "overture.db"
    db.write_bytes(sqlite_template.read_bytes())
    port = _free_port()
    serve = ("serve", "--port", str(port), "--log-level", "warning")
    with overture(f"sqlite:///{db}", tmp_path, *serve) as proc:
        wait_for(lambda: _catches_sigterm(proc.pid), "serve to handle SIGTERM", timeout=60)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "overture: stopped" in stderr


@pytest.fixture
def pg_url(pg_database: str) -> str:
    _truncate_pg(pg_database)
    return pg_database


def test_on_postgresql_the_api_alone_and_a_separate_worker_run_every_job(pg_url: str, tmp_path: Path) -> None:
    """`serve --no-worker` takes events and runs nothing; `overture worker`, another process,
    is woken and runs them (its name is on their completion)."""
    app = make_app(pg_url)
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    headers = {"Authorization": f"Bearer {Tokens(app.store, app.clock).create('acme').secret}"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    serve = ("serve", "--port", str(port), "--no-worker", "--log-level", "warning")
    try:
        with overture(pg_url, tmp_path, *serve, ready=f"{base}/readyz") as api:
            first = _send(base, headers, 1)["job_id"]
            assert _job(app, first).status.value == "pending"  # nobody here runs it
            worker = ("worker", "--name", "apart")
            with overture(pg_url, tmp_path, *worker) as runner:
                wait_for(lambda: _job(app, first).status.value == "completed", "the worker to run it")
                second = _send(base, headers, 2)["job_id"]
                wait_for(lambda: _job(app, second).status.value == "completed", "the worker to be woken")
                runner.send_signal(signal.SIGTERM)
                runner.communicate(timeout=60)
                assert runner.returncode == 0
            api.send_signal(signal.SIGTERM)
            _, stderr = api.communicate(timeout=60)
            assert api.returncode == 0 and "with the scheduler" in stderr and "worker" not in stderr
        with app.store.read() as conn:
            finished = [
                a["actor"]
                for j in (first, second)
                for a in jobq.audit_of(conn, job_id=j)
                if a["action"] == "job_completed"
            ]
        assert finished == ["apart", "apart"]
    finally:
        app.close()
