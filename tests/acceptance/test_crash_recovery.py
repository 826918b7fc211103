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

from overture.storage.queries import jobs as jobq
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


def test_kill_9_of_a_worker_with_lanes_loses_and_repeats_nothing(db_url: str, tmp_path: Path) -> None:
    """A worker running four jobs at once, their step commits grouped, is killed mid-step; a
    second worker with lanes finishes every job: each committed step and each effect once."""
    app = make_app(db_url)
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    job_ids = [app.emit(event("five_steps", {"seconds": 0.6, "n": i})).job_id or "" for i in range(6)]
    env = worker_env(db_url, tmp_path)
    cmd = [sys.executable, "-m", "overture.cli", "worker", "--concurrency", "4"]
    victim = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app.store.read() as conn:
            pausing = [j for j in job_ids if (job := jobq.get_job(conn, j)) and job.current_step == 2]
        if len(pausing) >= 2:
            break
        time.sleep(0.02)
    time.sleep(0.15)  # inside their 0.6-second 'pause' steps
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)

    rescuer = subprocess.run(
        [*cmd, "--until-idle"], env=env, capture_output=True, text=True, timeout=90, check=False
    )
    assert rescuer.returncode == 0, rescuer.stderr

    runs = (tmp_path / "runs.log").read_text().split()
    ran = list(zip(runs[0::2], runs[1::2], strict=True))
    reclaimed = 0
    with app.store.read() as conn:
        for job_id in job_ids:
            job = jobq.get_job(conn, job_id)
            assert job is not None and job.status.value == "completed"
            steps = [s.step_name for s in jobq.steps_of(conn, job_id)]
            assert steps == ["first", "act-one", "pause", "act-two", "last"]
            mine = [name for j, name in ran if j == job_id]
            assert {n: mine.count(n) for n in ("first", "act-one", "act-two", "last")} == dict.fromkeys(
                ("first", "act-one", "act-two", "last"), 1
            )
            assert mine.count("pause") in (1, 2)  # twice only if killed inside it
            assert [o["status"] for o in jobq.outbox_of(conn, job_id)] == ["sent", "sent"]
            audit = [a["action"] for a in jobq.audit_of(conn, job_id=job_id)]
            assert audit.count("job_completed") == 1
            reclaimed += audit.count("lease_reclaimed")
    assert len(pausing) >= 2 and reclaimed >= len(pausing)
    assert len(list((tmp_path / "effects").iterdir())) == 2 * len(job_ids)
    app.close()
