"""The per-org ingest rate (issue 14, throttling): off by default; when configured, an org's
events past it are deferred by whole windows, never dropped, each with its reason recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.core.ingest_rate import IngestRate
from overture.settings import Settings
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import audit_log
from tests.conftest import event, make_app
from tests.integration.test_http_api import in_process, issue


@pytest.fixture
def limited(db_url: str, clock: FakeClock, effect_dir: Path) -> Iterator[App]:
    app = make_app(db_url, clock, org_ingest_rate="3/minute")
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    app.admin.add_org("other", "Other")
    app.admin.add_user("other", "olga", "Olga", active_hours=None)
    yield app
    app.close()


def test_a_burst_past_the_rate_is_deferred_a_window_at_a_time(limited: App, clock: FakeClock) -> None:
    """Seven events through the API in one moment, limit 3 a minute: three run now, three a
    minute later, one two minutes later; all seven have a job; another org is not affected."""
    token = issue(limited, "acme", "ana")
    now = clock.now()
    with in_process(limited) as client:
        answers = [
            client.post("/v1/events", json=event("five_steps", {"n": i}), headers=token).json()
            for i in range(7)
        ]
        other = limited.emit({**event("five_steps", {"n": 0}, user="olga"), "org_id": "other"})
    assert [a["status"] for a in answers] == ["accepted"] * 3 + ["deferred"] * 4
    assert {a["reason"] for a in answers[3:]} == {"org_rate_limited"}
    assert "limit 3/minute" in answers[3]["detail"]
    with limited.store.read() as conn:
        jobs = [jobq.get_job(conn, a["job_id"]) for a in answers]
        reasons = list(
            conn.execute(
                sa.select(audit_log.c.reason).where(audit_log.c.action == "event_deferred")
            ).scalars()
        )
    starts = [job.run_after - now for job in jobs if job is not None]
    minute = timedelta(minutes=1)
    assert starts == [timedelta(0)] * 3 + [minute] * 3 + [2 * minute]
    assert reasons == ["org_rate_limited"] * 4
    assert other.status == "accepted"


def test_once_the_window_has_passed_events_run_at_once_again(limited: App, clock: FakeClock) -> None:
    for i in range(4):
        limited.emit(event("five_steps", {"n": i}))
    clock.advance(61)
    assert limited.emit(event("five_steps", {"n": 9})).status == "accepted"


def test_without_a_rate_nothing_is_deferred(app: App) -> None:
    """The default: no limit."""
    assert app.settings.org_ingest_rate is None
    assert {app.emit(event("five_steps", {"n": i})).status for i in range(20)} == {"accepted"}


def test_a_malformed_rate_is_refused_when_read() -> None:
    with pytest.raises(ValueError, match="org_ingest_rate"):
        Settings(org_ingest_rate="lots")
    with pytest.raises(ValueError, match="not a rate"):
        IngestRate.parse("3 per fortnight")
    assert IngestRate.parse("600/hour").window == timedelta(hours=1)
