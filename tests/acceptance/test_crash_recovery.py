"""A worker killed with a real kill -9 mid-sequence: another worker finishes the job exactly
once, from the last committed step, and no side effect happens twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from overture.storage import jobs as jobq
from tests.conftest import MECHANICS, event, make_app


def worker_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OVERTURE_DATABASE_URL": db_url,
        "OVERTURE_PACKS": json.dumps([MECHANICS]),
        "OVERTURE_TIME_BUDGET_S": "3",
        "OVERTURE_TIME_BUFFER_S": "0",
        "OVERTURE_POLL_INTERVAL_S": "0.1",
        "MECHANICS_RUN_LOG": str(tmp_path / "runs.log"),
        "MECHANICS_EFFECT_DIR": str(tmp_path / "effects"),
    }


def test_kill_9_mid_sequence_resumes_exactly_once(db_url: str, tmp_path: Path) -> None:
    """The killed step re-runs; committed steps do not; effects are carried out once each."""
    app = make_app(db_url)
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    result = app.emit(event("five_steps", {"seconds": 1.0}))
    env = worker_env(db_url, tmp_path)
    cmd = [sys.executable, "-m", "overture.cli", "worker"]
    victim = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app.store.read() as conn:
            job = jobq.get_job(conn, result.job_id or "")
        if job is not None and job.current_step == 2:
            break
        time.sleep(0.02)
    time.sleep(0.3)  # inside the one-second 'pause' step
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    with app.store.read() as conn:
        job = jobq.get_job(conn, result.job_id or "")
    assert job is not None and job.status.value == "in_progress" and job.current_step == 2

    rescuer = subprocess.run(
        [*cmd, "--until-idle"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert rescuer.returncode == 0, rescuer.stderr

    with app.store.read() as conn:
        job = jobq.get_job(conn, result.job_id or "")
        steps = jobq.steps_of(conn, result.job_id or "")
        outbox = jobq.outbox_of(conn, result.job_id or "")
        audit = [a["action"] for a in jobq.audit_of(conn, job_id=result.job_id)]
    assert job is not None and job.status.value == "completed" and job.claims == 2
    assert [s.step_name for s in steps] == ["first", "act-one", "pause", "act-two", "last"]
    runs = (tmp_path / "runs.log").read_text().split()
    names = runs[1::2]
    assert names.count("first") == 1 and names.count("act-one") == 1
    assert names.count("pause") == 2  # killed mid-step, so run again
    assert names.count("act-two") == 1 and names.count("last") == 1
    assert [o["status"] for o in outbox] == ["sent", "sent"]
    assert len(list((tmp_path / "effects").iterdir())) == 2
    assert audit.count("lease_reclaimed") == 1 and audit.count("job_completed") == 1
    app.close()
