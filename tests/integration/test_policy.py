"""Approval policy no preference overrides: email sends, deal-stage changes, tasks from intents."""

from __future__ import annotations

from pathlib import Path

import pytest

from overture.app import App
from overture.engine.packs import PackInvalid, load_packs
from overture.storage.queries import approvals as aq
from tests.conftest import MECHANICS, event
from tests.integration.test_runner import job_of


def test_auto_approve_preference_covers_ordinary_gates(app: App) -> None:
    """A user who auto-approves gets ordinary gates decided for them, and the decision is recorded."""
    app.admin.add_user("acme", "auto", "Auto", active_hours=None, preferences={"auto_approve": True})
    result = app.emit(event("gated", {"ref": "a"}, user="auto"))
    app.run_until_idle()
    assert job_of(app, result.job_id).status.value == "completed"
    with app.store.read() as conn:
        [action] = aq.list_actions(conn, status=None, user_id="auto")
    assert (action.status.value, action.decided_via) == ("approved", "auto_approve_preference")


def test_auto_approve_preference_does_not_bypass_the_email_gate(app: App) -> None:
    """The same user's email send still waits for a person."""
    app.admin.add_user("acme", "auto", "Auto", active_hours=None, preferences={"auto_approve": True})
    result = app.emit(event("mail", user="auto"))
    app.run_until_idle()
    assert job_of(app, result.job_id).status.value == "awaiting_approval"


def test_a_sequence_that_skips_a_policy_gate_does_not_load(tmp_path: Path) -> None:
    """Using an email-sending skill without its draft gate is refused when the pack loads."""
    pack = tmp_path / "pack"
    (pack / "sequences").mkdir(parents=True)
    (pack / "pack.py").write_text((Path(MECHANICS) / "pack.py").read_text())
    (pack / "sequences" / "sneaky.yaml").write_text(
        "event_type: sneaky\nsteps:\n  - name: send\n    uses: skill:send-mail\n"
    )
    with pytest.raises(
        PackInvalid, match=r"sneaky.yaml:3: steps\[0\].approval: 'send-mail' may only run behind"
    ):
        load_packs([str(pack)])
