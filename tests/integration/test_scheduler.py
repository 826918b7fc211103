"""The scheduler on both backends: local mornings, one fire per slot, missed slots recorded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.storage.queries import jobs as jobq
from overture.storage.queries import schedules as schedq
from overture.storage.tables.orchestrator import events
from tests.conftest import make_app


@pytest.fixture
def globe(db_url: str) -> Iterator[tuple[App, FakeClock]]:
    """Org 'globe' with Kenji in Tokyo and Nora in New York, both working Monday to Friday."""
    clock = FakeClock(datetime(2026, 11, 19, 22, 0, tzinfo=UTC))  # Fri 07:00 in Tokyo
    app = make_app(db_url, clock)
    app.admin.add_org("globe", "Globe")
    app.admin.add_user("globe", "kenji", "Kenji", timezone="Asia/Tokyo", active_hours=None)
    app.admin.add_user("globe", "nora", "Nora", timezone="America/New_York", active_hours=None)
    yield app, clock
    app.close()


def brief_events(app: App) -> list[tuple[str, str, str]]:
    with app.store.read() as conn:
        rows = conn.execute(
            sa.select(events.c.user_id, events.c.source, events.c.payload)
            .where(events.c.type == "morning_brief")
            .order_by(events.c.received_at)
        ).all()
    return [(r.user_id, r.source, r.payload["local_date"]) for r in rows]


def test_each_user_gets_the_brief_at_their_own_eight(globe: tuple[App, FakeClock]) -> None:
    """Tokyo's 08:00 fires only Kenji's brief; New York's 08:00, fourteen hours later, only Nora's."""
    app, clock = globe
    scheduler = app.scheduler("s1")
    assert scheduler.tick().fired == []
    clock.set(datetime(2026, 11, 19, 23, 0, tzinfo=UTC))  # Fri 08:00 JST
    assert [(t, s.isoformat()) for _, t, s in scheduler.tick().fired] == [
        ("globe/kenji", "2026-11-20T08:00:00+09:00")
    ]
    clock.set(datetime(2026, 11, 20, 13, 0, tzinfo=UTC))  # Fri 08:00 EST
    assert [t for _, t, _ in scheduler.tick().fired] == ["globe/nora"]
    assert brief_events(app) == [
        ("kenji", "cron:morning", "2026-11-20"),
        ("nora", "cron:morning", "2026-11-20"),
    ]
    app.run_until_idle()
    with app.store.read() as conn:
        assert jobq.count_jobs_by_status(conn, "globe") == {"completed": 2}


def test_weekends_are_not_workdays(globe: tuple[App, FakeClock]) -> None:
    """A Monday-to-Friday user gets no brief on Saturday, and nothing is recorded as missed."""
    app, clock = globe
    scheduler = app.scheduler("s1")
    clock.set(datetime(2026, 11, 20, 14, 0, tzinfo=UTC))  # after both Friday briefs
    scheduler.tick()
    clock.set(datetime(2026, 11, 21, 13, 30, tzinfo=UTC))  # Sat 08:30 EST, Sat 22:30 JST
    report = scheduler.tick()
    assert report.fired == [] and report.missed == []


def test_two_schedulers_fire_each_slot_once(globe: tuple[App, FakeClock], db_url: str) -> None:
    """Two scheduler instances ticking at the same moment fire each slot exactly once."""
    app, clock = globe
    other = make_app(db_url, clock)
    first, second = app.scheduler("a"), other.scheduler("b")
    first.tick()
    second.tick()
    clock.set(datetime(2026, 11, 19, 23, 5, tzinfo=UTC))
    barrier = threading.Barrier(2)
    reports = []

    def go(s: object) -> None:
        barrier.wait()
        reports.append(s.tick())  # type: ignore[attr-defined]

    threads = [threading.Thread(target=go, args=(s,)) for s in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(len(r.fired) for r in reports) == 1
    assert len(brief_events(app)) == 1
    with app.store.read() as conn:
        assert [f["status"] for f in schedq.fires(conn, "morning_brief")] == ["fired"]
    other.close()


def test_restart_does_not_fire_again(globe: tuple[App, FakeClock]) -> None:
    """A scheduler started again after firing a slot does not fire it a second time."""
    app, clock = globe
    app.scheduler("s1").tick()
    clock.set(datetime(2026, 11, 19, 23, 1, tzinfo=UTC))
    assert len(app.scheduler("s1").tick().fired) == 1
    assert app.scheduler("s2").tick().fired == []
    assert len(brief_events(app)) == 1


def test_downtime_fires_inside_grace_and_records_the_rest_as_missed(globe: tuple[App, FakeClock]) -> None:
    """After three days down, older slots are recorded as missed; the one inside grace fires once."""
    app, clock = globe
    clock.set(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))  # Mon 08:30 JST
    app.scheduler("s1").tick()
    clock.set(datetime(2026, 11, 25, 23, 20, tzinfo=UTC))  # Thu 08:20 JST: Mon..Wed NY, Tue..Wed JST missed
    report = app.scheduler("s1").tick()
    assert [(t, s.isoformat()) for _, t, s in report.fired] == [("globe/kenji", "2026-11-26T08:00:00+09:00")]
    missed = sorted((t, s.isoformat()) for _, t, s in report.missed)
    assert missed == [
        ("globe/kenji", "2026-11-24T08:00:00+09:00"),
        ("globe/kenji", "2026-11-25T08:00:00+09:00"),
        ("globe/nora", "2026-11-23T08:00:00-05:00"),
        ("globe/nora", "2026-11-24T08:00:00-05:00"),
        ("globe/nora", "2026-11-25T08:00:00-05:00"),
    ]
    with app.store.read() as conn:
        audit = [a for a in jobq.audit_of(conn, org_id="globe") if a["action"] == "schedule_missed"]
    assert len(audit) == 5 and {a["reason"] for a in audit} == {"outside_grace"}
