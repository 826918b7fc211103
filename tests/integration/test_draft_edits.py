"""An edit that would make a draft unsendable is refused on every channel with a 422 that names
the field, and the action stays pending: the API, the CLI, and the console's and Slack's
decisions (which reach the same approvals service, via "web" and "slack")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.core.records import ActionStatus, Decision
from overture.errors import ValidationFailed
from overture.storage.queries import approvals as actionq
from tests.approvals_app import make, start
from tests.integration.test_http_api import in_process, is_problem, issue

BAD_EDITS = [
    ({"to": "not an address"}, "modifications.to: Enter one valid email address"),
    ({"to": "dana@example.com, eve@example.com"}, "modifications.to: Enter one valid email address"),
    ({"subject": "Pricing\r\nBcc: everyone@example.com"}, "modifications.subject: Subject must be one line"),
    ({"subject": "Pricing\nattached"}, "modifications.subject: Subject must be one line"),
    ({"body": "   "}, "modifications.body: The body cannot be empty."),
]


@pytest.fixture
def hitl(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = make(db_url, clock, None)
    yield app
    app.close()


def still_pending(app: App, action_id: str) -> bool:
    with app.store.read() as conn:
        action = actionq.get_action(conn, action_id)
    return action is not None and action.status == ActionStatus.PENDING and action.modifications is None


@pytest.mark.parametrize(("edit", "why"), BAD_EDITS)
def test_the_api_refuses_an_edit_that_breaks_the_draft(hitl: App, edit: dict[str, Any], why: str) -> None:
    action = start(hitl, "mail")
    with in_process(hitl) as api:
        url = f"/v1/approvals/{action.id}/decision"
        answer = api.post(
            url, json={"action": "edit", "modifications": edit}, headers=issue(hitl, "acme", "ana")
        )
    assert is_problem(answer, 422)["detail"].startswith(why)
    assert still_pending(hitl, action.id)


@pytest.mark.parametrize("via", ["web", "slack"])
def test_the_console_and_slack_paths_refuse_it_too(hitl: App, via: str) -> None:
    action = start(hitl, "mail")
    with pytest.raises(ValidationFailed, match=r"modifications\.to: "):
        hitl.approvals.decide(action.id, Decision.EDIT, "ana", via, {"to": "dana at example"})
    assert still_pending(hitl, action.id)


def test_the_cli_refuses_it_and_a_good_edit_still_goes_through(hitl: App) -> None:
    action = start(hitl, "mail")
    env = {"OVERTURE_DATABASE_URL": hitl.settings.database_url, "OVERTURE_PACKS": "[]"}
    mods = '{"subject": "Hello\\r\\nBcc: x@example.com"}'
    bad = CliRunner().invoke(
        cli, ["approvals", "decide", action.id, "edit", "--modifications", mods], env=env
    )
    assert bad.exit_code != 0 and "modifications.subject" in bad.output
    assert still_pending(hitl, action.id)
    good = hitl.approvals.decide(action.id, Decision.EDIT, "ana", "cli", {"to": "Dana <dana@example.com>"})
    assert good.applied and good.action.status == ActionStatus.EDITED
