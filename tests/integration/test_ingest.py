"""The five gates against a real database: every outcome stored with its reason."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.errors import ValidationFailed
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from overture.storage.tables.orchestrator import audit_log, events, sequence_jobs
from tests.conftest import event, make_app


def stored(app: App, event_id: str) -> dict[str, Any]:
    with app.store.read() as conn:
        row = jobq.get_event(conn, event_id)
    assert row is not None
    return row


def counts(app: App) -> tuple[int, int, int]:
    with app.store.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (events, sequence_jobs, audit_log)
        )


def test_accepted_event_queues_a_pending_job(app: App) -> None:
    """An event that passes every gate is stored as accepted and gets a pending job."""
    result = app.emit(event("five_steps"))
    assert (result.status, result.reason) == ("accepted", "passed")
    row = stored(app, result.event_id)
    assert row["outcome"] == "accepted" and row["job_id"] == result.job_id
    with app.store.read() as conn:
        job = jobq.get_job(conn, result.job_id or "")
    assert job is not None and job.status.value == "pending" and job.chain_depth == 1


def test_unknown_org_and_user_are_rejected_with_reason(app: App) -> None:
    """Gate 1: an unknown org or a user of another org is rejected, recorded, and gets no job."""
    no_org = app.emit({**event("five_steps"), "org_id": "nope"})
    assert (no_org.status, no_org.reason, no_org.job_id) == ("rejected", "org_not_found", None)
    app.admin.add_org("other", "Other")
    app.admin.add_user("other", "olga", "Olga", active_hours=None)
    foreign = app.emit(event("five_steps", user="olga"))
    assert (foreign.status, foreign.reason) == ("rejected", "user_not_found")
    assert stored(app, foreign.event_id)["reason"] == "user_not_found"
    assert counts(app)[1] == 0


def test_disabled_feature_skips_the_event(app: App) -> None:
    """Gate 2: an event type switched off for the org is skipped with reason feature_disabled."""
    app.admin.set_feature("acme", "five_steps", False)
    result = app.emit(event("five_steps"))
    assert (result.status, result.reason, result.job_id) == ("skipped", "feature_disabled", None)
    app.admin.set_feature("acme", "five_steps", True)
    assert app.emit(event("five_steps", {"x": 1})).status == "accepted"


def test_outside_active_hours_defers_to_next_window_across_midnight(app: App, clock: FakeClock) -> None:
    """Gate 3: a night-shift window 22:00-06:00 in Tokyo defers a 07:00 event to 22:00 local."""
    app.admin.add_user(
        "acme",
        "kenji",
        "Kenji",
        timezone="Asia/Tokyo",
        active_hours="22:00-06:00",
        workdays="mon-sun",
    )
    clock.set(datetime(2026, 11, 19, 22, 0, tzinfo=UTC))  # 07:00 Friday in Tokyo
    result = app.emit(event("five_steps", user="kenji"))
    assert (result.status, result.reason) == ("deferred", "outside_active_hours")
    assert result.run_after == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 22:00 JST
    with app.store.read() as conn:
        job = jobq.get_job(conn, result.job_id or "")
    assert job is not None and job.status.value == "deferred" and job.run_after == result.run_after
    clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))  # 01:00 Saturday in Tokyo: inside
    assert app.emit(event("five_steps", {"n": 2}, user="kenji")).status == "accepted"


def test_deferral_across_a_dst_change_lands_on_local_morning(app: App, clock: FakeClock) -> None:
    """Gate 3 across DST: on the night New York falls back, 08:00 local is 13:00 UTC, not 12:00."""
    app.admin.add_user(
        "acme",
        "nina",
        "Nina",
        timezone="America/New_York",
        active_hours="08:00-18:00",
        workdays="mon-sun",
    )
    clock.set(datetime(2026, 11, 1, 3, 0, tzinfo=UTC))  # Oct 31, 23:00 EDT
    result = app.emit(event("five_steps", user="nina"))
    assert result.status == "deferred"
    assert result.run_after == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_deferred_job_runs_when_its_window_opens(app: App, clock: FakeClock) -> None:
    """A deferred job is not run early, and runs once the window opens: deferred, never dropped."""
    app.admin.add_user("acme", "kim", "Kim", timezone="UTC", active_hours="08:00-09:00", workdays="mon-sun")
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    result = app.emit(event("five_steps", user="kim"))
    app.run_until_idle()
    with app.store.read() as conn:
        assert jobq.get_job(conn, result.job_id or "").status.value == "deferred"  # type: ignore[union-attr]
    clock.set(datetime(2026, 11, 21, 8, 0, 1, tzinfo=UTC))
    app.run_until_idle()
    with app.store.read() as conn:
        assert jobq.get_job(conn, result.job_id or "").status.value == "completed"  # type: ignore[union-attr]


def test_spent_budget_skips_ai_sequences_and_tells_the_user_once(app: App) -> None:
    """Gate 4: with the month's budget spent, an ai sequence is skipped as budget_exceeded; the
    user is told once per period; a sequence without ai steps still runs."""
    app.admin.set_budget("acme", "month", 0.0)
    first = app.emit(event("ai_flow", {"n": 1}))
    second = app.emit(event("ai_flow", {"n": 2}))
    assert (first.status, first.reason) == ("skipped", "budget_exceeded")
    assert second.reason == "budget_exceeded"
    with app.store.read() as conn:
        notes = [n for n in noteq.for_user(conn, "ana") if n["kind"] == "budget_exceeded"]
    assert len(notes) == 1
    assert app.emit(event("five_steps")).status == "accepted"


def test_duplicate_inside_window_points_at_the_original(app: App, clock: FakeClock) -> None:
    """Gate 5: the same declared fields inside the window are a duplicate of the first event's job;
    after the window they are new."""
    first = app.emit(event("gated", {"ref": "m-1", "noise": 1}))
    dup = app.emit(event("gated", {"ref": "m-1", "noise": 2}))
    assert (dup.status, dup.reason, dup.job_id) == ("duplicate", "duplicate", first.job_id)
    assert first.event_id in dup.detail and dup.duplicate_of == first.event_id
    clock.advance(3601)
    assert app.emit(event("gated", {"ref": "m-1"})).status == "accepted"


def test_idempotency_key_makes_a_retry_a_duplicate(app: App) -> None:
    """An explicit idempotency key is the dedupe key, whatever the payload says."""
    a = app.emit(event("five_steps", {"a": 1}, idempotency_key="k-1"))
    b = app.emit(event("five_steps", {"a": 2}, idempotency_key="k-1"))
    assert a.status == "accepted" and b.status == "duplicate" and b.job_id == a.job_id


def test_duplicate_outside_hours_is_still_a_duplicate(app: App, clock: FakeClock) -> None:
    """A webhook retried overnight does not become two deferred jobs."""
    app.admin.add_user("acme", "kim", "Kim", timezone="UTC", active_hours="08:00-09:00", workdays="mon-sun")
    clock.set(datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
    first = app.emit(event("five_steps", {"ref": "x"}, user="kim"))
    again = app.emit(event("five_steps", {"ref": "x"}, user="kim"))
    assert (first.status, again.status, again.job_id) == ("deferred", "duplicate", first.job_id)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"type": "five_steps", "org_id": "acme"}, "user_id: Field required"),
        ({"type": "Five Steps!", "org_id": "acme", "user_id": "ana"}, "type: invalid value"),
        ({"type": "five_steps", "org_id": "acme", "user_id": "ana", "payload": []}, "payload"),
        (
            {"type": "five_steps", "org_id": "acme", "user_id": "ana", "colour": "red"},
            "colour: unknown field",
        ),
        ({"type": "five_steps", "org_id": 7, "user_id": "ana"}, "org_id"),
        (
            {"type": "five_steps", "org_id": "acme", "user_id": "ana", "occurred_at": "yesterday"},
            "occurred_at",
        ),
        (
            {"type": "no_such_type", "org_id": "acme", "user_id": "ana"},
            "unknown event type 'no_such_type'",
        ),
        (
            {"type": "five_steps", "org_id": "acme", "user_id": "ana", "parent_job_id": "zzz"},
            "parent_job_id: no job",
        ),
        ("not an object", "expected a JSON object"),
        ({"type": "five_steps", "org_id": "acme", "user_id": "ana", "payload": {"n": "a\x00b"}}, "NUL"),
        (
            {"type": "five_steps", "org_id": "acme", "user_id": "ana", "payload": {"x": float("inf")}},
            "out of range",
        ),
        (
            {"type": "five_steps", "org_id": "acme", "user_id": "ana", "payload": {"s": "\ud800"}},
            "lone surrogate",
        ),
    ],
)
def test_malformed_events_are_refused_and_nothing_is_written(app: App, data: Any, fragment: str) -> None:
    """A malformed event raises a precise error and leaves no event, job or audit row."""
    before = counts(app)
    with pytest.raises(ValidationFailed) as info:
        app.emit(data)
    assert fragment in str(info.value)
    assert counts(app) == before


def test_every_outcome_is_audited(app: App) -> None:
    """Each ingest decision leaves an audit row naming the outcome and its reason."""
    app.admin.set_feature("acme", "gated", False)
    app.emit(event("gated", {"ref": "1"}))
    app.emit(event("five_steps"))
    with app.store.read() as conn:
        rows = jobq.audit_of(conn, org_id="acme")
    assert [(r["action"], r["reason"]) for r in rows] == [
        ("event_skipped", "feature_disabled"),
        ("event_accepted", "passed"),
    ]


def test_the_same_event_from_several_processes_at_once_makes_one_job(app: App, db_url: str) -> None:
    """Four stores (as four processes would have) take the same keyed event at the same moment,
    eight times each: one is accepted, every other is a duplicate naming its job."""
    others = [make_app(db_url, app.clock) for _ in range(3)]
    start = threading.Barrier(4 * 8)
    try:

        def send(target: App) -> Any:
            start.wait()
            return target.emit(event("five_steps", {"n": 1}, idempotency_key="same-moment"))

        with ThreadPoolExecutor(4 * 8) as pool:
            results = list(pool.map(send, [a for a in (app, *others) for _ in range(8)]))
    finally:
        for other in others:
            other.close()
    accepted = [r for r in results if r.status == "accepted"]
    assert len(accepted) == 1
    assert all(
        r.status == "duplicate" and r.job_id == accepted[0].job_id for r in results if r not in accepted
    )
    assert counts(app)[:2] == (32, 1)
