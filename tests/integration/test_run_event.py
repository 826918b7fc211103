"""``App.run_event`` and ``App.run_job`` on both backends: one event run in process to where its
job settles (ended, or waiting for a person), told by the worker's signal, not by polling."""

from __future__ import annotations

import pytest

from overture.app import App
from overture.core.records import Decision
from overture.core.wire import EventRejected, WaitTimedOut
from overture.engine.run.signals import JobSignals
from overture.errors import NotFound
from tests.conftest import event


def test_run_event_stops_at_the_approval_then_run_job_finishes_after_the_decision(app: App) -> None:
    paused = app.run_event(event("gated", {"ref": "in-process"}))
    assert paused.event is not None and paused.event.status == "accepted"
    assert paused.status == "awaiting_approval" and paused.settled and paused.awaiting_approval
    assert [a.title for a in paused.approvals] == ["Send to dana@example.com"]
    assert paused.outputs["draft"]["echo"]["subject"] == "Hello"
    assert paused.job is not None and "send" not in paused.outputs

    app.approvals.decide(paused.approvals[0].id, Decision.APPROVE, "ana")
    done = app.run_job(paused.job.id)
    assert done.status == "completed" and done.approvals == [] and done.job is not None
    assert [s.name for s in done.job.steps if s.status == "completed"] == ["draft", "send", "after"]
    assert done.outputs["send"]["effect"]  # the effect ran: its key is recorded


def test_run_event_returns_a_failed_job_with_its_error(app: App) -> None:
    failed = app.run_event(event("must_stop", {"n": 1}))
    assert failed.status == "failed" and failed.settled and not failed.awaiting_approval
    assert failed.job is not None and failed.job.status_reason
    assert "flaky failure" in (failed.job.steps[-1].error or "")


def test_a_rejected_event_raises_with_the_gate_that_refused_it(app: App) -> None:
    with pytest.raises(EventRejected) as refused:
        app.run_event({**event("gated", {"ref": "x"}), "org_id": "nowhere"})
    assert refused.value.reason == "org_not_found"
    assert refused.value.outcome.job is None and refused.value.outcome.status == "rejected"


def test_a_deferred_event_returns_at_once_saying_until_when(app: App) -> None:
    app.admin.add_user("acme", "nia", "Nia", active_hours="20:00-22:00", workdays="mon-sun")
    deferred = app.run_event(event("five_steps", {"n": 1}, user="nia"))
    assert deferred.deferred and not deferred.settled
    assert deferred.event is not None and deferred.event.reason == "outside_active_hours"
    assert deferred.job is not None and deferred.job.run_after is not None
    assert deferred.job.run_after.hour == 20 and deferred.job.steps == []


def test_run_job_says_when_the_job_does_not_exist_is_deferred_or_cannot_settle_in_time(app: App) -> None:
    with pytest.raises(NotFound):
        app.run_job("no-such-job")
    app.admin.add_user("acme", "nia", "Nia", active_hours="20:00-22:00", workdays="mon-sun")
    deferred = app.run_event(event("five_steps", {"n": 2}, user="nia"))
    assert deferred.job is not None
    assert app.run_job(deferred.job.id, timeout=5).deferred  # nothing runs it before 20:00
    slow = app.emit(event("five_steps", {"n": 3, "seconds": 1}))
    assert slow.job_id is not None
    with pytest.raises(WaitTimedOut) as late:
        app.run_job(slow.job_id, timeout=0.3)
    assert late.value.outcome.status in ("pending", "in_progress") and isinstance(late.value, TimeoutError)
    assert late.value.outcome.job is not None and 0 < len(late.value.outcome.job.steps) < 5


def test_signals_call_each_watcher_of_the_job_until_it_unwatches() -> None:
    signals = JobSignals()
    seen: list[tuple[str, str | None]] = []
    unwatch = signals.watch("j1", lambda job, status: seen.append((job, status and status.value)))
    signals.watch("j1", lambda job, status: 1 / 0)  # a failing watcher stops no one
    signals.ran("j2", "completed")
    signals.ran("j1", "awaiting_approval")
    unwatch()
    signals.ran("j1", "completed")
    assert seen == [("j1", "awaiting_approval")]
    stopping: list[tuple[str, object]] = []
    signals.watch("j3", lambda job, status: stopping.append((job, status)))
    signals.close()  # the process is stopping: every waiter is told, with no status
    assert stopping == [("j3", None)] and signals.closed
