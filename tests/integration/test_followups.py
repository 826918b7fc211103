"""Follow-up chains: child jobs linked both ways, up to depth 3, the fourth refused and audited."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.storage.queries import jobs as jobq
from tests.conftest import MECHANICS, event
from tests.integration.test_runner import job_of


def test_chain_runs_to_depth_three_and_refuses_the_fourth(app: App) -> None:
    """event -> follow-up -> follow-up -> STOP: three jobs, the fourth hop refused with a reason."""
    root = app.emit(event("hop", {"hop": 0}))
    app.run_until_idle()
    with app.store.read() as conn:
        jobs = sorted(jobq.list_jobs(conn, org_id="acme"), key=lambda j: j.chain_depth)
    assert [(j.chain_depth, j.status.value) for j in jobs] == [
        (1, "completed"),
        (2, "completed"),
        (3, "completed"),
    ]
    first, second, third = jobs
    assert first.id == root.job_id
    assert second.parent_job_id == first.id and third.parent_job_id == second.id
    assert first.event_chain == {"parent": None, "children": [second.id]}
    assert third.event_chain == {"parent": second.id, "children": []}
    assert second.event_source == "orchestrator:chain"
    assert (third.execution_metadata or {})["followups_queued"] == 0
    assert (third.execution_metadata or {})["followups_refused"] == 1
    with app.store.read() as conn:
        refused = [a for a in jobq.audit_of(conn, job_id=third.id) if a["action"] == "followup_refused"]
    assert len(refused) == 1 and refused[0]["reason"] == "chain_depth_exceeded"
    assert refused[0]["detail"]["depth"] == 4


def test_jobs_show_displays_the_chain(app: App) -> None:
    """`overture jobs show` prints the chain from the root down, and --json carries it too."""
    root = app.emit(event("hop", {"hop": 0}))
    app.run_until_idle()
    runner = CliRunner()
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS])}
    url = app.settings.database_url
    shown = runner.invoke(cli, ["--db", url, "jobs", "show", root.job_id or ""], env=env)
    assert shown.exit_code == 0, shown.output
    hops = [line for line in shown.output.splitlines() if " hop [" in line]
    assert len(hops) == 3 and "depth 3" in hops[-1]
    as_json = runner.invoke(cli, ["--db", url, "jobs", "show", root.job_id or "", "--json"], env=env)
    chain = json.loads(as_json.output)["chain"]["job"]
    assert chain["children"][0]["children"][0]["chain_depth"] == 3


def test_external_event_with_parent_at_depth_three_is_rejected(app: App) -> None:
    """An event naming a depth-3 parent would be depth 4: rejected as chain_depth_exceeded."""
    app.emit(event("hop", {"hop": 0}))
    app.run_until_idle()
    with app.store.read() as conn:
        deepest = max(jobq.list_jobs(conn, org_id="acme"), key=lambda j: j.chain_depth)
    result = app.emit(event("five_steps", parent_job_id=deepest.id))
    assert (result.status, result.reason, result.job_id) == (
        "rejected",
        "chain_depth_exceeded",
        None,
    )
    assert job_of(app, deepest.id).chain_depth == 3


def test_follow_up_with_not_before_waits_for_its_time(app: App, clock: FakeClock) -> None:
    """A follow-up queued for later (like meeting prep 90 minutes ahead) runs then, not before."""
    at = clock.now() + timedelta(hours=2)
    parent = app.emit(event("later", {"at": at.isoformat()}))
    app.run_until_idle()
    with app.store.read() as conn:
        child = jobq.list_jobs(conn, parent_job_id=parent.job_id)[0]
    assert child.status.value == "pending" and child.run_after == at
    assert "scheduled for" in (child.status_reason or "")
    clock.advance(timedelta(hours=1, minutes=59))
    app.run_until_idle()
    assert job_of(app, child.id).status.value == "pending"
    clock.advance(timedelta(minutes=1))
    app.run_until_idle()
    assert job_of(app, child.id).status.value == "completed"


def test_scheduled_event_meets_the_hours_gate_at_its_own_time(app: App, clock: FakeClock) -> None:
    """An event due at night for a day-hours user is deferred to the next morning, not run at night."""
    from datetime import UTC, datetime

    app.admin.add_user("acme", "dee", "Dee", timezone="UTC", active_hours="08:00-18:00", workdays="mon-sun")
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    result = app.emit(event("five_steps", user="dee", not_before="2026-11-20T22:00:00+00:00"))
    assert result.status == "deferred"
    assert result.run_after == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
