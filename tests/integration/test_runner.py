"""The durable runner on both backends: policies, retries, deferrals, budgets, continuations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Job, StepRecord
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from tests.conftest import event, make_app


def job_of(app: App, job_id: str | None) -> Job:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id or "")
    assert job is not None
    return job


def steps_of(app: App, job_id: str | None) -> list[StepRecord]:
    with app.store.read() as conn:
        return jobq.steps_of(conn, job_id or "")


def test_a_sequence_runs_to_completion_with_metadata(app: App, effect_dir: Path) -> None:
    """Every step is recorded once, effects happen once, and the seed's metadata is written."""
    result = app.emit(event("five_steps"))
    app.run_until_idle()
    job = job_of(app, result.job_id)
    assert job.status.value == "completed" and job.current_step == 5
    assert [(s.step_name, s.status.value) for s in steps_of(app, result.job_id)] == [
        ("first", "completed"),
        ("act-one", "completed"),
        ("pause", "completed"),
        ("act-two", "completed"),
        ("last", "completed"),
    ]
    meta = job.execution_metadata or {}
    assert {
        k: meta[k]
        for k in (
            "steps_attempted",
            "steps_completed",
            "steps_failed",
            "approval_gates_hit",
            "followups_queued",
            "chain_depth",
        )
    } == {
        "steps_attempted": 5,
        "steps_completed": 5,
        "steps_failed": 0,
        "approval_gates_hit": 0,
        "followups_queued": 0,
        "chain_depth": 1,
    }
    assert meta["total_duration_ms"] > 0 and meta["total_ai_cost"] == 0
    assert job.context["execution_metadata"] == meta
    assert sorted(p.name for p in effect_dir.iterdir()) == sorted(
        f"{job.id}_{i}_{n}" for i, n in ((1, "act-one"), (3, "act-two"))
    )


def test_continue_policy_records_the_failure_and_goes_on(app: App) -> None:
    """on_failure: continue logs the error on the step and runs the next one."""
    result = app.emit(event("keep_going"))
    app.run_until_idle()
    steps = steps_of(app, result.job_id)
    assert [(s.step_name, s.status.value) for s in steps] == [
        ("breaks", "failed"),
        ("after", "completed"),
    ]
    assert "flaky failure on attempt 1" in (steps[0].error or "")
    job = job_of(app, result.job_id)
    assert job.status.value == "completed" and (job.execution_metadata or {})["steps_failed"] == 1


def test_stop_policy_fails_the_job_and_notifies_the_user(app: App) -> None:
    """on_failure: stop halts the sequence at the failed step and tells the user why."""
    result = app.emit(event("must_stop"))
    app.run_until_idle()
    job = job_of(app, result.job_id)
    assert job.status.value == "failed" and job.current_step == 0
    assert "breaks failed" in (job.status_reason or "")
    assert [s.step_name for s in steps_of(app, result.job_id)] == ["breaks"]
    with app.store.read() as conn:
        notes = noteq.for_user(conn, "ana")
    assert [n["kind"] for n in notes] == ["job_failed"]
    text = notes[0]["body"]["text"]
    assert text.startswith("Your must stop job stopped at step 'breaks': ") and "Error:" not in text
    assert text.endswith(f"run it again with: overture jobs retry {result.job_id}")


def test_retry_waits_its_backoff_then_succeeds(app: App, clock: FakeClock) -> None:
    """on_failure: retry reschedules the step after its backoff, and the retry can succeed."""
    result = app.emit(event("flaky", {"fail_times": 1}))
    app.run_until_idle()
    job = job_of(app, result.job_id)
    assert job.status.value == "pending" and job.run_after == clock.now() + timedelta(seconds=2)
    clock.advance(2)
    app.run_until_idle()
    steps = steps_of(app, result.job_id)
    assert [(s.step_name, s.attempt, s.status.value) for s in steps] == [
        ("wobble", 1, "failed"),
        ("wobble", 2, "completed"),
        ("after", 1, "completed"),
    ]
    assert job_of(app, result.job_id).status.value == "completed"


def test_retry_once_then_stop(app: App, clock: FakeClock) -> None:
    """The seed's rule: retry once; if the retry fails too, the job stops as failed."""
    result = app.emit(event("flaky", {"fail_times": 5}))
    app.run_until_idle()
    clock.advance(2)
    app.run_until_idle()
    job = job_of(app, result.job_id)
    assert job.status.value == "failed"
    assert [(s.attempt, s.status.value) for s in steps_of(app, result.job_id)] == [
        (1, "failed"),
        (2, "failed"),
    ]


def test_rate_limit_defers_the_job_five_minutes(app: App, clock: FakeClock) -> None:
    """A rate-limit error defers the job by 5 minutes at the same step instead of failing it."""
    result = app.emit(event("limited", {"limited": True}))
    app.run_until_idle()
    job = job_of(app, result.job_id)
    assert job.status.value == "deferred" and job.current_step == 1
    assert job.run_after == clock.now() + timedelta(minutes=5)
    assert [s.status.value for s in steps_of(app, result.job_id)] == ["completed", "deferred"]
    with app.store.read() as conn:
        assert [a["reason"] for a in jobq.audit_of(conn, job_id=job.id) if a["action"] == "job_deferred"] == [
            "rate_limited"
        ]


def test_spent_budget_halts_before_the_ai_step(app: App) -> None:
    """A budget spent by the first ai step halts the job before the second ever runs."""
    app.admin.set_budget("acme", "day", 0.05)
    result = app.emit(event("costly", {"usd": 0.05}))
    app.run_until_idle()
    job = job_of(app, result.job_id)
    assert job.status.value == "halted" and job.current_step == 2
    assert [s.step_name for s in steps_of(app, result.job_id)] == ["cheap", "think"]
    assert (job.execution_metadata or {})["total_ai_cost"] == 0.05
    with app.store.read() as conn:
        assert jobq.cost_since(conn, "acme", job.created_at - timedelta(days=1)) == 50_000
        kinds = [n["kind"] for n in noteq.for_user(conn, "ana")]
    assert kinds == ["budget_exceeded"]


def test_step_timeout_follows_the_failure_policy(app: App) -> None:
    """A step that runs past its timeout fails with a timeout error, then its policy applies."""
    result = app.emit(event("too_slow"))
    app.run_until_idle()
    steps = steps_of(app, result.job_id)
    assert steps[0].status.value == "failed" and "timeout" in (steps[0].error or "")
    assert job_of(app, result.job_id).status.value == "completed"


def test_time_budget_hands_the_job_back_as_a_continuation(db_url: str, effect_dir: Path) -> None:
    """When the time budget runs low the job is checkpointed and continued, counted, from the
    next step, and it still completes with every step recorded once."""
    app = make_app(db_url, time_budget_s=0.1, time_buffer_s=0.0)
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    result = app.emit(event("five_steps", {"seconds": 0.15}))
    app.run_until_idle()
    job = job_of(app, result.job_id)
    assert job.status.value == "completed" and job.continuations >= 1
    assert [s.step_name for s in steps_of(app, result.job_id)] == [
        "first",
        "act-one",
        "pause",
        "act-two",
        "last",
    ]
    assert (job.execution_metadata or {})["continuations"] == job.continuations
    with app.store.read() as conn:
        conts = [a for a in jobq.audit_of(conn, job_id=job.id) if a["action"] == "continuation"]
    assert len(conts) == job.continuations and conts[0]["detail"]["source"] == "orchestrator:continuation"
    app.close()


def test_resumed_job_replays_recorded_outputs(app: App, clock: FakeClock) -> None:
    """Outputs of steps recorded before a pause are replayed into later templates, not re-run."""
    result = app.emit(event("gated", {"ref": "r"}))
    app.run_until_idle()
    with app.store.read() as conn:
        from overture.storage.queries import approvals as aq

        action = aq.list_actions(conn)[0]
    app.approvals.decide(
        action.id,
        __import__("overture.core.records", fromlist=["Decision"]).Decision.APPROVE,
        "ana",
    )
    app.run_until_idle()
    steps = steps_of(app, result.job_id)
    assert [s.step_name for s in steps if s.status.value == "completed"] == [
        "draft",
        "send",
        "after",
    ]
    assert steps[-1].output["echo"]["sent_body"] == f"{result.job_id}:1:send"


def test_stopping_worker_hands_the_job_back_after_the_current_step(app: App) -> None:
    """A worker told to stop mid-job records the step in hand and releases the job, which another
    worker then finishes from the next step, nothing run twice."""
    import threading

    result = app.emit(event("five_steps", {"seconds": 0.3}))
    first = app.worker("first")
    thread = threading.Thread(target=first.run, kwargs={"until_idle": True})
    thread.start()
    import time

    deadline = time.monotonic() + 20
    while job_of(app, result.job_id).current_step < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.stop()  # while 'pause' (step 2) sleeps
    thread.join(20)
    job = job_of(app, result.job_id)
    assert job.status.value == "pending" and job.current_step == 3 and job.lease_token is None
    app.run_until_idle()
    assert job_of(app, result.job_id).status.value == "completed"
    assert [s.step_name for s in steps_of(app, result.job_id)] == [
        "first",
        "act-one",
        "pause",
        "act-two",
        "last",
    ]


def test_a_failed_ai_step_still_pays_for_its_calls(app: App, effect_dir: Path) -> None:
    """Money a failing step spent is in the ledger and the metadata; its effects are not carried out."""
    result = app.emit(event("wasted"))
    app.run_until_idle()
    job = job_of(app, result.job_id)
    [step] = steps_of(app, result.job_id)
    assert step.status.value == "failed" and step.cost_micros == 20_000
    assert (job.execution_metadata or {})["total_ai_cost"] == 0.02
    with app.store.read() as conn:
        assert jobq.cost_since(conn, "acme", job.created_at - timedelta(days=1)) == 20_000
        assert jobq.outbox_of(conn, job.id) == []
    assert not effect_dir.exists() or not list(effect_dir.iterdir())
