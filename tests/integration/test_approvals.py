"""Approval gates on both backends: approve, edit, skip, cancel, second clicks, expiry, bursts."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision, PendingAction
from overture.engine.humans.removals import Removals
from overture.errors import Forbidden, NotFound, ValidationFailed
from overture.sequences import load_sequence_text
from overture.storage.queries import approvals as aq
from overture.storage.queries import jobs as jobq
from tests.conftest import event, make_app
from tests.integration.test_runner import job_of, steps_of


def paused(app: App, ref: str = "r1", user: str = "ana") -> tuple[str, PendingAction]:
    """Emit a gated event and run it to its approval gate."""
    result = app.emit(event("gated", {"ref": ref}, user=user))
    app.run_until_idle()
    with app.store.read() as conn:
        action = aq.action_for_step(conn, result.job_id or "", 1)
    assert action is not None
    return result.job_id or "", action


def test_gate_pauses_the_job_with_the_rendered_draft(app: App) -> None:
    """A gated step creates a pending action with its draft and the job waits, lease released."""
    job_id, action = paused(app)
    job = job_of(app, job_id)
    assert job.status.value == "awaiting_approval" and job.current_step == 1 and job.lease_token is None
    assert action.pattern == "draft" and action.title == "Send to dana@example.com"
    assert action.draft == {"to": "dana@example.com", "subject": "Hello", "body": "Draft body"}
    assert action.expires_at - action.created_at == timedelta(hours=48)
    assert (job.execution_metadata or {})["approval_gates_hit"] == 1


def test_approve_resumes_at_the_gated_step(app: App, effect_dir: Path) -> None:
    """Approve runs the gated step with the draft and the rest of the sequence."""
    job_id, action = paused(app)
    result = app.approvals.decide(action.id, Decision.APPROVE, "ana", "api")
    assert result.applied and result.action.status.value == "approved"
    app.run_until_idle()
    assert job_of(app, job_id).status.value == "completed"
    assert len(list(effect_dir.iterdir())) == 1


def test_edit_merges_modifications_into_the_draft(app: App) -> None:
    """Edit applies the user's changes to the draft the step then runs with."""
    job_id, action = paused(app)
    app.approvals.decide(action.id, Decision.EDIT, "ana", "api", {"body": "Better body"})
    app.run_until_idle()
    with app.store.read() as conn:
        decided = aq.get_action(conn, action.id)
        outbox = jobq.outbox_of(conn, job_id)
    assert decided is not None and decided.effective_draft()["body"] == "Better body"
    assert decided.modifications == {"body": "Better body"}
    assert job_of(app, job_id).status.value == "completed" and len(outbox) == 1


def test_edit_with_unknown_fields_is_refused_and_changes_nothing(app: App) -> None:
    """Edit modifications must name draft fields; otherwise nothing is decided."""
    _, action = paused(app)
    with pytest.raises(ValidationFailed, match="unknown draft field"):
        app.approvals.decide(action.id, Decision.EDIT, "ana", "api", {"bcc": "x@y.z"})
    with app.store.read() as conn:
        assert aq.get_action(conn, action.id).status.value == "pending"  # type: ignore[union-attr]


def test_skip_records_the_step_as_skipped_and_goes_on(app: App, effect_dir: Path) -> None:
    """Skip records the gated step as skipped; later steps run; nothing is sent."""
    job_id, action = paused(app)
    app.approvals.decide(action.id, Decision.SKIP, "ana", "api")
    app.run_until_idle()
    statuses = [(s.step_name, s.status.value) for s in steps_of(app, job_id)]
    assert ("send", "skipped") in statuses and statuses[-1][0] == "after"
    assert job_of(app, job_id).status.value == "failed"  # 'after' needs the send output
    assert not effect_dir.exists() or not list(effect_dir.iterdir())


def test_cancel_ends_the_job_cancelled(app: App) -> None:
    """Cancel ends the job as cancelled at once; no worker runs it again."""
    job_id, action = paused(app)
    app.approvals.decide(action.id, Decision.CANCEL, "ana", "api")
    job = job_of(app, job_id)
    assert job.status.value == "cancelled" and job.finished_at is not None
    assert (job.execution_metadata or {})["approval_gates_hit"] == 1
    app.run_until_idle()
    assert job_of(app, job_id).status.value == "cancelled"
    assert [s.step_name for s in steps_of(app, job_id)] == ["draft", "send"]


def test_second_decision_changes_nothing_and_says_who_decided(app: App, clock: FakeClock) -> None:
    """A second click is told who decided first and when, and changes nothing."""
    job_id, action = paused(app)
    first = app.approvals.decide(action.id, Decision.APPROVE, "ana", "slack")
    clock.advance(5)
    second = app.approvals.decide(action.id, Decision.CANCEL, "boss", "web")
    assert first.applied and not second.applied
    assert "already approved by ana via slack" in second.message
    assert second.action.decided_at == first.action.decided_at
    assert job_of(app, job_id).status.value == "pending"


def test_only_the_owner_or_an_admin_may_decide(app: App) -> None:
    """Another member is refused; an org admin may decide; another org cannot even see it."""
    _, action = paused(app)
    with pytest.raises(Forbidden):
        app.approvals.decide(action.id, Decision.APPROVE, "eve", "api")
    with pytest.raises(NotFound):
        app.approvals.decide(action.id, Decision.APPROVE, "ana", "api", org_id="other-org")
    assert app.approvals.decide(action.id, Decision.APPROVE, "boss", "api").applied


def test_a_removed_admin_or_a_user_of_another_org_may_not_decide(app: App) -> None:
    """The decider is looked up with the action: only an active user of the action's org."""
    _, action = paused(app)
    app.admin.add_org("other", "Other")
    app.admin.add_user("other", "otto", "Otto", active_hours=None, role="admin")
    Removals(app.store, app.clock).remove_user("acme", "boss")
    for who in ("boss", "otto", "nobody"):
        with pytest.raises(Forbidden, match=f"user '{who}' may not decide"):
            app.approvals.decide(action.id, Decision.APPROVE, who, "api")
    with app.store.read() as conn:
        still = aq.action_for_step(conn, action.job_id, 1)
    assert still is not None and still.status.value == "pending"
    assert app.approvals.decide(action.id, Decision.APPROVE, "ana", "api").applied


def test_unanswered_action_expires_and_the_job_ends_expired(app: App, clock: FakeClock) -> None:
    """After 48 h without a decision the action expires and the job ends expired, recorded."""
    job_id, action = paused(app)
    clock.advance(timedelta(hours=47))
    assert app.approvals.expire_due() == 0
    clock.advance(timedelta(hours=1, seconds=1))
    app.run_until_idle()
    job = job_of(app, job_id)
    assert job.status.value == "expired"
    assert (job.execution_metadata or {})["steps_completed"] == 1
    late = app.approvals.decide(action.id, Decision.APPROVE, "ana", "api")
    assert not late.applied and "expired" in late.message
    with app.store.read() as conn:
        actions = [a["action"] for a in jobq.audit_of(conn, job_id=job_id)]
    assert "approval_expired" in actions and "job_expired" in actions


def test_gate_is_committed_before_anyone_can_decide(app: App) -> None:
    """The pending action exists and the job is awaiting_approval in the same commit."""
    job_id, action = paused(app)
    with app.store.read() as conn:
        assert aq.get_action(conn, action.id) is not None
        assert jobq.get_job(conn, job_id).status.value == "awaiting_approval"  # type: ignore[union-attr]


@pytest.mark.parametrize("n", [200, pytest.param(1000, marks=pytest.mark.slow)])
def test_gated_jobs_decided_in_one_burst_all_complete(db_url: str, effect_dir: Path, n: int) -> None:
    """Jobs paused at gates (200, or 1,000 under ``-m slow``), decided in one burst while two
    workers (of two lanes each) wait, all complete, each effect once."""
    app = make_app(db_url, poll_interval_s=0.2)
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    for i in range(n):
        app.emit(event("gated", {"ref": f"burst-{i}"}))
    app.worker("to-the-gates", concurrency=4).run(until_idle=True)
    with app.store.read() as conn:
        actions = aq.list_actions(conn, status="pending", limit=n)
    assert len(actions) == n
    workers = [app.worker(f"w{i}", concurrency=2) for i in range(2)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    for a in actions:
        app.approvals.decide(a.id, Decision.APPROVE, "ana", "api")
    deadline = time.monotonic() + 90
    done = 0
    while time.monotonic() < deadline:  # a stopping worker does not wait for effects: wait here
        with app.store.read() as conn:
            done = jobq.count_jobs_by_status(conn).get("completed", 0)
        if done == n and len(list(effect_dir.iterdir())) == n:
            break
        time.sleep(0.2)
    for w in workers:
        w.stop()
    for t in threads:
        t.join(10)
    assert done == n
    with app.store.read() as conn:
        assert jobq.count_jobs_by_status(conn) == {"completed": n}
    assert len(list(effect_dir.iterdir())) == n
    app.close()


GATE_THAT_CANNOT_RENDER = """event_type: gated_broken
active_hours: ignore
steps:
  - name: draft
    uses: skill:echo
    with: {to: "dana@example.com"}
  - name: send
    uses: skill:act
    approval:
      pattern: draft
    with:
      to: "{{ outputs.draft.echo.cc.address }}"
"""


def test_a_gate_whose_draft_cannot_be_rendered_fails_after_the_step_before_it(app: App) -> None:
    """The step before a gate goes in with the gate's pause when there is one; when the gate
    fails instead, that step is still recorded, before the failure, and nobody is asked."""
    app.registry.add_sequence(load_sequence_text(GATE_THAT_CANNOT_RENDER, "gated_broken.yaml"))
    job_id = app.emit(event("gated_broken")).job_id or ""
    app.run_until_idle()
    job = job_of(app, job_id)
    assert job.status.value == "failed" and "send" in (job.status_reason or "")
    assert [(s.step_name, s.status.value) for s in steps_of(app, job_id)] == [
        ("draft", "completed"),
        ("send", "failed"),
    ]
    with app.store.read() as conn:
        assert aq.list_actions(conn, org_id="acme", status=None) == []
