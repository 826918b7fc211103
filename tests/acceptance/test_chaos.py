"""Fault tests on real worker processes, real SMTP and both databases, with bounded counts and
times. The full runs are marked ``slow`` (``pytest -m slow``; ``CHAOS_JOBS`` sets their size,
1,000 by default); small versions of the kill and race tests run in the default suite.

Each test appends its figures (counts, times) as a JSON line to ``$CHAOS_REPORT`` when set.
The PostgreSQL restart and stop tests act on the machine's shared cluster and start it again
whatever happens.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from overture.app import App
from overture.packs.sales.skills.mailer import build_message
from overture.settings import Settings
from overture.storage.queries import jobs as jobq
from overture.storage.queries import outbox as outq
from tests.chaos import CHAOS, CountingSmtp, Fleet, wait_until, worker_env

FULL = int(os.environ.get("CHAOS_JOBS", "1000"))
SMOKE = int(os.environ.get("CHAOS_SMOKE_JOBS", "24"))


def report(name: str, **figures: Any) -> None:
    line = json.dumps({"test": name, **figures})
    print(line)
    path = os.environ.get("CHAOS_REPORT")
    if path:
        with open(path, "a") as fh:
            fh.write(line + "\n")


def backend(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgres"


def chaos_app(db_url: str, **settings: Any) -> App:
    app = App(Settings(database_url=db_url, packs=[CHAOS], **settings))
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    return app


def emit(app: App, event_type: str, n: int, **payload: Any) -> list[str]:
    return [
        app.emit(
            {"type": event_type, "org_id": "acme", "user_id": "ana", "payload": {**payload, "n": i}}
        ).job_id
        or ""
        for i in range(n)
    ]


def tally(app: App) -> tuple[dict[str, int], Counter[str]]:
    """Jobs by status, and effects by status."""
    with app.store.read() as conn:
        jobs = jobq.count_jobs_by_status(conn)
        effects = Counter(r["status"] for r in _effects(conn))
    return jobs, effects


def _effects(conn: Any) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from overture.storage.tables.orchestrator import outbox

    return [dict(r) for r in conn.execute(sa.select(outbox)).mappings()]


def settled(app: App, n: int) -> bool:
    """Every job completed and every effect in a final state."""
    jobs, effects = tally(app)
    return jobs.get("completed", 0) == n and sum(effects[s] for s in ("sent", *outq.FAILED)) == n


def kill_chaos(db_url: str, tmp_path: Path, n: int, seconds: float, deadline_s: float) -> dict[str, Any]:
    """n one-email jobs (a step of ``seconds`` first), three workers, a random worker killed -9
    every 2-3 s (and replaced) until every job and effect has settled."""
    app = chaos_app(db_url)
    try:
        return _kill_chaos(app, db_url, tmp_path, n, seconds, deadline_s)
    finally:
        app.close()


def _kill_chaos(
    app: App, db_url: str, tmp_path: Path, n: int, seconds: float, deadline_s: float
) -> dict[str, Any]:
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "13")))
    with CountingSmtp() as smtp:
        ids = emit(app, "chaos_mail", n, seconds=seconds)
        env = worker_env(db_url, tmp_path, OVERTURE_SMTP_HOST="127.0.0.1", OVERTURE_SMTP_PORT=str(smtp.port))
        fleet = Fleet(env, tmp_path)
        started = time.monotonic()
        fleet.start(3)
        next_kill = started + rng.uniform(2, 3)
        while not settled(app, n) and time.monotonic() - started < deadline_s:
            if time.monotonic() >= next_kill:
                fleet.kill_one(rng)
                next_kill = time.monotonic() + rng.uniform(2, 3)
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        stop_at = time.monotonic()
        codes = fleet.stop()
        stop_s = time.monotonic() - stop_at
        received = smtp.ids
    jobs, effects = tally(app)
    with app.store.read() as conn:
        rows = {r["idempotency_key"]: r for r in _effects(conn)}
    message_id = {k: str(build_message(k, r["payload"])["Message-ID"]) for k, r in rows.items()}
    in_doubt = [k for k, r in rows.items() if r["status"] == "in_doubt"]
    figures = {
        "jobs": n,
        "kills": fleet.kills,
        "seconds": round(elapsed, 1),
        "completed": jobs.get("completed", 0),
        "stuck": n - jobs.get("completed", 0),
        "sent": effects["sent"],
        "in_doubt": len(in_doubt),
        "in_doubt_delivered": sum(received[message_id[k]] for k in in_doubt),
        "failed": effects["failed"],
        "duplicates": sum(1 for v in received.values() if v > 1),
        "delivered": len(received),
        "stop_seconds": round(stop_s, 2),
    }
    assert len(ids) == n
    assert figures["duplicates"] == 0, smtp.duplicates()
    assert figures["stuck"] == 0 and figures["failed"] == 0, (jobs, effects, fleet.output()[-3000:])
    assert all(received[message_id[k]] == 1 for k, r in rows.items() if r["status"] == "sent")
    assert all(received[message_id[k]] <= 1 for k in in_doubt)
    # SIGTERM ends a worker cleanly (0); one replaced a moment ago may still be starting (-15).
    assert 0 in codes and set(codes) <= {0, -15}, (codes, fleet.output()[-3000:])
    assert "Traceback" not in fleet.output()
    return figures


def test_kill_9_chaos_smoke(db_url: str, tmp_path: Path) -> None:
    """A small run of the chaos below (jobs slow enough for a few kills): no email twice, no
    job stuck."""
    report("kill_9_smoke", backend=backend(db_url), **kill_chaos(db_url, tmp_path, SMOKE, 0.5, 240))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_kill_9_chaos_full(db_url: str, tmp_path: Path) -> None:
    """CHAOS_JOBS jobs (1,000) under random kill -9 of 3 workers: 0 duplicate emails as the
    SMTP receiver counts Message-IDs, 0 stuck jobs; attempts cut short are in doubt, not resent."""
    report("kill_9_full", backend=backend(db_url), **kill_chaos(db_url, tmp_path, FULL, 0.05, 1500))


def outbox_race(db_url: str, tmp_path: Path, n: int, seconds: float) -> dict[str, Any]:
    """n slow effects, two live workers, no kills: each effect runs exactly once."""
    app = chaos_app(db_url)
    log = tmp_path / "deliveries.log"
    emit(app, "slow_effect", n, seconds=seconds)
    fleet = Fleet(worker_env(db_url, tmp_path, CHAOS_DELIVERY_LOG=str(log)), tmp_path)
    started = time.monotonic()
    fleet.start(2)
    done = wait_until(lambda: settled(app, n), 60 + n * seconds)
    elapsed = time.monotonic() - started
    codes = fleet.stop()
    runs = Counter(log.read_text().split()) if log.exists() else Counter()
    figures = {
        "effects": n,
        "effect_seconds": seconds,
        "seconds": round(elapsed, 1),
        "runs": sum(runs.values()),
        "duplicates": sum(1 for v in runs.values() if v > 1),
    }
    assert done, (tally(app), fleet.output()[-3000:])
    assert figures["duplicates"] == 0 and figures["runs"] == n and len(runs) == n
    assert all(code == 0 for code in codes)
    app.close()
    return figures


def test_outbox_race_smoke(db_url: str, tmp_path: Path) -> None:
    """Two workers, slow effects: none runs twice."""
    report("outbox_race_smoke", backend=backend(db_url), **outbox_race(db_url, tmp_path, 16, 0.3))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_outbox_race_full(db_url: str, tmp_path: Path) -> None:
    """The race the fault tests found (130 one-second effects, two workers): 0 duplicates."""
    report("outbox_race_full", backend=backend(db_url), **outbox_race(db_url, tmp_path, 130, 1.0))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_poison_job_is_quarantined_while_the_others_complete(db_url: str, tmp_path: Path) -> None:
    """A step that kill -9s its worker: after max_lost_claims (5) lost claims the job is failed
    (crashed_worker_repeatedly) and no worker dies of it again; 20 other jobs complete; once the
    step is fixed, `overture jobs retry` runs it to the end."""
    app = chaos_app(db_url)
    crashes, fixed = tmp_path / "crashes.log", tmp_path / "fixed"
    poison = emit(app, "poison", 1)[0]
    emit(app, "steady", 20, seconds=0.1)
    env = worker_env(db_url, tmp_path, CHAOS_CRASH_LOG=str(crashes), CHAOS_FIXED=str(fixed))
    fleet = Fleet(env, tmp_path)
    started = time.monotonic()
    fleet.start(2)

    def quarantined() -> bool:
        fleet.keep(2)  # the operator's supervisor: a dead worker is replaced
        jobs, _ = tally(app)
        return jobs.get("failed", 0) == 1 and jobs.get("completed", 0) == 20

    assert wait_until(quarantined, 600, every=0.5), (tally(app), fleet.output()[-3000:])
    elapsed = time.monotonic() - started
    time.sleep(3)  # no worker dies of it any more
    deaths = len(crashes.read_text().split())
    assert len(fleet.alive()) == 2 and deaths == 5
    with app.store.read() as conn:
        job = jobq.get_job(conn, poison)
        actions = [a["action"] for a in jobq.audit_of(conn, job_id=poison)]
    assert job is not None and (job.status_reason or "").startswith("crashed_worker_repeatedly")
    assert actions.count("lease_reclaimed") == 5 and "job_quarantined" in actions
    fixed.touch()
    import subprocess
    import sys

    retry = subprocess.run(
        [sys.executable, "-m", "overture.cli", "jobs", "retry", poison],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert retry.returncode == 0, retry.stderr
    assert wait_until(lambda: tally(app)[0].get("completed", 0) == 21, 60)
    fleet.stop()
    report("poison", backend=backend(db_url), worker_deaths=deaths, seconds_to_quarantine=round(elapsed, 1))
    app.close()


def test_a_stopped_worker_exits_within_a_second_of_finishing_its_step(db_url: str, tmp_path: Path) -> None:
    """SIGTERM mid-step: the step is recorded, the job handed back, and the process is gone
    less than a second after the step's record."""
    import signal
    import subprocess
    import sys
    from datetime import UTC, datetime

    app = chaos_app(db_url)
    try:
        (job_id,) = emit(app, "steady", 1, seconds=1.5)
        cmd = [sys.executable, "-m", "overture.cli", "worker"]
        log = (tmp_path / "worker.log").open("wb")
        proc = subprocess.Popen(cmd, env=worker_env(db_url, tmp_path), stdout=log, stderr=subprocess.STDOUT)

        def running() -> bool:
            with app.store.read() as conn:
                job = jobq.get_job(conn, job_id)
            return job is not None and job.status.value == "in_progress"

        assert wait_until(running, 60, every=0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        gone = datetime.now(UTC)
        log.close()
        with app.store.read() as conn:
            job = jobq.get_job(conn, job_id)
            steps = jobq.steps_of(conn, job_id)
        assert proc.returncode == 0, (tmp_path / "worker.log").read_text()
        assert job is not None and job.status.value == "pending" and [s.step_name for s in steps] == ["one"]
        lag = (gone - steps[-1].finished_at).total_seconds()
        report("stop", backend=backend(db_url), exit_after_step_s=round(lag, 2))
        assert lag < 1.0
    finally:
        app.close()
