"""`overture serve` with OVERTURE_LOG_FORMAT=json, as an operator runs it under a log shipper:
every log line on stderr is one JSON object (uvicorn's startup and access lines and Overture's
job activity alike), the access line has its fields apart, and a token sent in a query string
never reaches the log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from overture.engine.admin.tokens import Tokens
from overture.storage.queries import jobs as jobq
from tests.acceptance.test_http_server import _free_port, wait_for
from tests.conftest import MECHANICS, event, make_app

SECRET = "ov_QUERYSECRETQUERYSECRETQUERYSECRET"


def test_serve_writes_one_json_object_a_line_and_no_query_values(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'overture.db'}"
    tenant = make_app(url)
    tenant.admin.add_org("acme", "Acme")
    tenant.admin.add_user("acme", "ana", "Ana", active_hours=None)
    token = Tokens(tenant.store, tenant.clock).create("acme").secret
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OVERTURE_")},
        "OVERTURE_PACKS": json.dumps([MECHANICS]),
        "OVERTURE_POLL_INTERVAL_S": "0.05",
        "OVERTURE_LOG_FORMAT": "json",
        "OVERTURE_LOG_LEVEL": "INFO",
        "MECHANICS_EFFECT_DIR": str(tmp_path / "effects"),
    }
    cmd = [sys.executable, "-m", "overture.cli", "--db", url, "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            return httpx.get(f"{base}/healthz?token={SECRET}", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(up, "overture serve to answer /healthz")
        sent = httpx.post(
            f"{base}/v1/events", json=event("five_steps"), headers={"Authorization": f"Bearer {token}"}
        )
        assert sent.status_code == 202, sent.text
        job_id = sent.json()["job_id"]

        def done() -> bool:
            with tenant.store.read() as conn:
                job = jobq.get_job(conn, job_id)
            return job is not None and job.status.value == "completed"

        wait_for(done, "the served worker to finish the job")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        tenant.close()

    assert proc.returncode == 0, stderr
    assert SECRET not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("overture: ")]  # the command's own words
    records: list[dict[str, Any]] = [json.loads(line) for line in lines if line not in said]
    assert said and records
    loggers = {r["logger"] for r in records}
    assert {"uvicorn.error", "uvicorn.access", "overture.audit"} <= loggers, loggers
    access = [r for r in records if r["logger"] == "uvicorn.access" and r["path"].startswith("/healthz")]
    assert access and all(r["path"] == "/healthz?[redacted]" and r["method"] == "GET" for r in access)
    assert any(r["status"] == 200 for r in access)
    accepted = [
        r for r in records if r["logger"] == "overture.audit" and r["message"].startswith("event_accepted")
    ]
    # the pack's schedules may accept events of their own while serve runs
    assert sum(f"job={job_id}" in r["message"] for r in accepted) == 1
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
