"""The real service on loopback: uvicorn serving create_app on a free port, and `overture serve`
as a process stopped with SIGTERM. Waits poll for a state with a deadline; nothing asserts on time."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from overture.app import App
from overture.engine.admin.tokens import Tokens
from overture.http import create_app
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import events
from tests.conftest import MECHANICS, event, make_app
from tests.integration.test_http_api import add_globex, count, issue

SMALL_LIMIT = 64 * 1024


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll until ``predicate`` returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@contextmanager
def served(app: App, **options: Any) -> Iterator[str]:
    """Serve create_app(app) with uvicorn on 127.0.0.1 in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(app, **options), lifespan="off", log_config=None, log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def test_every_endpoint_end_to_end(app: App) -> None:
    """Over real HTTP: emit → worker → job with steps → approval listed → decision → job completes."""
    ana = issue(app, "acme", "ana")
    admin = issue(app, None, admin=True)
    with served(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json()["status"] == "ready"
        assert "<h1>Sign in</h1>" in http.get("/", follow_redirects=True).text
        assert "/v1/events" in http.get("/openapi.json").json()["paths"]

        sent = http.post(
            "/v1/events", json=event("gated", {"ref": "wire"}), headers={**ana, "Idempotency-Key": "w1"}
        )
        assert sent.status_code == 202 and sent.json()["status"] == "accepted"
        job_id = sent.json()["job_id"]
        replay = http.post(
            "/v1/events", json=event("gated", {"ref": "wire"}), headers={**ana, "Idempotency-Key": "w1"}
        )
        assert replay.json()["status"] == "duplicate" and replay.json()["job_id"] == job_id

        app.run_until_idle()
        job = http.get(f"/v1/jobs/{job_id}", headers=ana).json()
        assert job["status"] == "awaiting_approval"
        assert [s["name"] for s in job["steps"]] == ["draft", "send"]
        listed = http.get("/v1/jobs", params={"status": "awaiting_approval"}, headers=ana).json()["items"]
        assert [j["id"] for j in listed] == [job_id]
        approvals = http.get("/v1/approvals", headers=ana).json()["items"]
        assert [a["job_id"] for a in approvals] == [job_id]
        action_id = approvals[0]["id"]
        assert (
            http.get(f"/v1/approvals/{action_id}", headers=ana).json()["title"] == "Send to dana@example.com"
        )

        decided = http.post(f"/v1/approvals/{action_id}/decision", json={"action": "approve"}, headers=ana)
        assert decided.status_code == 200 and decided.json()["applied"] is True
        app.run_until_idle()
        done = http.get(f"/v1/jobs/{job_id}", headers=ana).json()
        assert done["status"] == "completed"
        assert [(s["name"], s["status"]) for s in done["steps"]] == [
            ("draft", "completed"),
            ("send", "awaiting_approval"),
            ("send", "completed"),
            ("after", "completed"),
        ]
        chain = http.get(f"/v1/jobs/{job_id}/chain", headers=ana).json()
        assert chain["job"]["id"] == job_id and chain["job"]["status"] == "completed"

        assert (
            http.post("/v1/orgs", json={"id": "initech", "name": "Initech"}, headers=admin).status_code == 201
        )
        user = http.post("/v1/orgs/initech/users", json={"id": "peter"}, headers=admin)
        assert user.status_code == 201 and user.json()["org_id"] == "initech"
        assert [o["id"] for o in http.get("/v1/orgs", headers=admin).json()["items"]] == ["acme", "initech"]

        metrics = http.get("/metrics").text
        assert 'overture_jobs{status="completed"} 1.0' in metrics
        assert 'overture_events_total{outcome="duplicate"} 1.0' in metrics


def test_cross_org_requests_are_refused_over_the_wire(app: App) -> None:
    """Another org's job, chain, approval and decision are 404 and its events 403; nothing changes."""
    add_globex(app)
    gus = issue(app, "globex", "gus")
    acme = issue(app, "acme")
    data = {**event("gated", {"ref": "g"}, user="gus"), "org_id": "globex"}
    with served(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        job_id = http.post("/v1/events", json=data, headers=gus).json()["job_id"]
        app.run_until_idle()
        action_id = http.get("/v1/approvals", headers=gus).json()["items"][0]["id"]
        for method, url, body in (
            ("GET", f"/v1/jobs/{job_id}", None),
            ("GET", f"/v1/jobs/{job_id}/chain", None),
            ("GET", f"/v1/approvals/{action_id}", None),
            ("POST", f"/v1/approvals/{action_id}/decision", {"action": "cancel", "decided_by": "ana"}),
        ):
            refused = http.request(method, url, json=body, headers=acme)
            assert (
                refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
            )
            assert "gus" not in refused.text
        before = count(app, events)
        assert http.post("/v1/events", json=data, headers=acme).status_code == 403
        assert count(app, events) == before
        assert http.get(f"/v1/approvals/{action_id}", headers=gus).json()["status"] == "pending"


def _raw_exchange(base: str, head: bytes, chunks: Iterator[bytes]) -> bytes:
    """Send a hand-written request (stopping when the server closes), then read the whole answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head)
        for chunk in chunks:
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while True:
            try:
                data = conn.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    return answer


def test_an_oversized_body_is_refused_before_it_is_sent(app: App) -> None:
    """A declared Content-Length over the limit gets 413 though not one body byte was sent."""
    secret = issue(app, "acme")["Authorization"]
    head = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: " + secret.encode() + b"\r\nContent-Length: 10000000\r\n\r\n"
    )
    with served(app, max_body_bytes=SMALL_LIMIT) as base:
        answer = _raw_exchange(base, head, iter(()))
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    problem = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert problem["detail"] == f"the request body is 10000000 bytes; the limit is {SMALL_LIMIT} bytes"
    assert count(app, events) == 0


def test_an_oversized_chunked_body_is_refused(app: App) -> None:
    """A chunked body with no Content-Length is cut off at the limit with 413, nothing written."""
    secret = issue(app, "acme")["Authorization"]
    head = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: " + secret.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b" " * 16384
    chunks = iter([b"%x\r\n%s\r\n" % (len(piece), piece)] * 16 + [b"0\r\n\r\n"])
    with served(app, max_body_bytes=SMALL_LIMIT) as base:
        answer = _raw_exchange(base, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"exceeds the limit of 65536 bytes" in answer
    assert count(app, events) == 0


SERVE = """
import click
from overture.cli import serve
from overture.cli.common import CliState

@click.group()
@click.option("--db", "database_url", required=True)
@click.pass_context
def cli(ctx, database_url):
    state = CliState(overrides={"database_url": database_url})
    ctx.obj = state
    ctx.call_on_close(state.close)

serve.register(cli)
cli()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_process(db_url: str, tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`overture serve` in its own process, on a free port; killed if the test leaves it running."""
    port = _free_port()
    env = {
        **os.environ,
        "OVERTURE_PACKS": json.dumps([MECHANICS]),
        "OVERTURE_POLL_INTERVAL_S": "0.05",
        "MECHANICS_EFFECT_DIR": str(tmp_path / "effects"),
        "MECHANICS_RUN_LOG": str(tmp_path / "runs.log"),
    }
    cmd = [
        sys.executable,
        "-c",
        SERVE,
        "--db",
        db_url,
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *args,
    ]
    proc = subprocess.Popen(
        cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(up, "overture serve to answer /healthz")
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.fixture
def tenant(db_url: str) -> Iterator[App]:
    app = make_app(db_url)
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    yield app
    app.close()


def _job(app: App, job_id: str) -> Any:
    with app.store.read() as conn:
        return jobq.get_job(conn, job_id)


def test_overture_serve_runs_jobs_and_stops_cleanly_on_sigterm(
    tenant: App, db_url: str, tmp_path: Path
) -> None:
    """`overture serve` answers the API, its worker runs the job, and SIGTERM exits 0."""
    secret = Tokens(tenant.store, tenant.clock).create("acme").secret
    headers = {"Authorization": f"Bearer {secret}"}
    with serve_process(db_url, tmp_path) as (proc, base):
        sent = httpx.post(f"{base}/v1/events", json=event("five_steps"), headers=headers, timeout=10)
        assert sent.status_code == 202
        job_id = sent.json()["job_id"]
        wait_for(lambda: _job(tenant, job_id).status.value == "completed", "the served worker to finish")
        shown = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=10).json()
        assert [s["status"] for s in shown["steps"]] == ["completed"] * 5
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert "overture: stopped" in stderr
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/healthz", timeout=1)


def test_sigterm_during_a_long_step_loses_nothing(tenant: App, db_url: str, tmp_path: Path) -> None:
    """SIGTERM mid-step: the step in hand is recorded, the job is handed back resumable (not lost),
    no new job is taken, the process exits 0, and a later worker finishes it running nothing twice."""
    secret = Tokens(tenant.store, tenant.clock).create("acme").secret
    headers = {"Authorization": f"Bearer {secret}"}
    with serve_process(db_url, tmp_path) as (proc, base):
        ids = [
            httpx.post(
                f"{base}/v1/events",
                json=event("five_steps", {"seconds": 1.0, "n": n}),
                headers=headers,
                timeout=10,
            ).json()["job_id"]
            for n in (1, 2)
        ]
        wait_for(lambda: _job(tenant, ids[0]).current_step >= 2, "the first job to reach its slow step")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
    first, second = (_job(tenant, job_id) for job_id in ids)
    assert first.status.value == "pending" and first.current_step == 3 and first.lease_token is None
    assert second.status.value == "pending" and second.claims == 0
    with tenant.store.read() as conn:
        assert [s.step_name for s in jobq.steps_of(conn, ids[0])] == ["first", "act-one", "pause"]
    tenant.settings.outbox_dir = tmp_path / "effects"
    os.environ["MECHANICS_RUN_LOG"] = str(tmp_path / "runs.log")
    os.environ["MECHANICS_EFFECT_DIR"] = str(tmp_path / "effects")
    try:
        tenant.worker("later").run(until_idle=True)
    finally:
        del os.environ["MECHANICS_RUN_LOG"], os.environ["MECHANICS_EFFECT_DIR"]
    assert _job(tenant, ids[0]).status.value == "completed"
    with tenant.store.read() as conn:
        steps = jobq.steps_of(conn, ids[0])
    expected = ["first", "act-one", "pause", "act-two", "last"]
    assert [s.step_name for s in steps] == expected and {s.status.value for s in steps} == {"completed"}
    runs = [line.split() for line in (tmp_path / "runs.log").read_text().splitlines()]
    assert [step for job, step in runs if job == ids[0]] == expected
    assert len([p for p in (tmp_path / "effects").iterdir() if p.name.startswith(ids[0])]) == 2
