"""The schema and the lease on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from overture.app import App
from overture.clock import FakeClock
from overture.errors import LeaseLost
from overture.storage.queries import jobs as jobq
from overture.storage.tables import metadata
from tests.conftest import event


def test_migrations_build_exactly_the_declared_schema(app: App) -> None:
    """After `migrate`, the database matches the table definitions: no missing or extra columns."""
    with app.store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, metadata) if d[0] != "remove_table"]
    assert diff == []
    assert app.store.schema_current()


def test_migrate_twice_is_harmless(app: App) -> None:
    """Running migrations on a current database changes nothing."""
    app.migrate()
    assert app.store.schema_current()


def test_a_worker_whose_lease_expired_cannot_commit(app: App, clock: FakeClock) -> None:
    """Once another worker reclaims a job, the old worker's step commit is refused (fenced)."""
    result = app.emit(event("five_steps"))
    slow, fast = app.worker("slow"), app.worker("fast")
    job = slow.claim()
    assert job is not None and job.id == result.job_id
    assert fast.claim() is None  # the lease holds
    clock.advance(timedelta(seconds=app.settings.time_budget_s + 1))
    taken = fast.claim()
    assert taken is not None and taken.id == job.id
    with pytest.raises(LeaseLost):
        slow.runner.run(job)
    with app.store.read() as conn:
        assert jobq.steps_of(conn, job.id) == []
        audit = jobq.audit_of(conn, job_id=job.id)
    assert [
        (a["action"], a["detail"]["previous_owner"]) for a in audit if a["action"] == "lease_reclaimed"
    ] == [("lease_reclaimed", "slow")]
    fast.runner.run(taken)
    with app.store.read() as conn:
        assert len(jobq.steps_of(conn, job.id)) == 5
