"""POST /slack/interactions in process on both backends: requests signed with the official SDK
decide approvals through the one approvals path, after the 200; forged, stale and unsigned ones
are 401 and change nothing; clicks by someone who may not decide are recorded and refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from slack_sdk.signature import SignatureVerifier

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import ActionStatus, PendingAction
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from tests.integration.test_http_api import Client, in_process, is_problem
from tests.integration.test_webhooks_accounts import (
    connect,
    hooks_app,
    jobs_of,
    receipts,
    snapshot,
)
from tests.unit.test_integrations_apis import FakeApi, Reply
from tests.unit.test_integrations_slack import BLOCK_ACTIONS, VIEW_SUBMISSION

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
URL = "/slack/interactions"


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


def form(payload: dict[str, Any]) -> bytes:
    """The wire body Slack sends: one form field, ``payload``, URL-encoded JSON."""
    return f"payload={quote(json.dumps(payload))}".encode()


def signed(app: App, body: bytes, secret: str = SECRET, skew_s: int = 0) -> dict[str, str]:
    """Headers as Slack sends them, signed by the official SDK at the app's now (+ skew)."""
    stamp = str(int(app.clock.now().timestamp()) + skew_s)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Signature": signature,
        "X-Slack-Request-Timestamp": stamp,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def click(action_id: str, value: str, user: str = "U_ANA", trigger: str = "111.222.a", **extra: Any) -> bytes:
    payload = copy.deepcopy(BLOCK_ACTIONS)
    payload["user"]["id"] = user
    payload["trigger_id"] = trigger
    payload["actions"][0].update(action_id=action_id, value=value)
    payload.update(extra)
    return form(payload)


def submit(action_id: str, values: dict[str, str], user: str = "U_ANA") -> bytes:
    payload = copy.deepcopy(VIEW_SUBMISSION)
    payload["user"]["id"] = user
    payload["view"]["private_metadata"] = json.dumps({"action_id": action_id})
    payload["view"]["state"]["values"] = {
        field: {f"{field}_input": {"type": "plain_text_input", "value": value}}
        for field, value in values.items()
    }
    return form(payload)


@pytest.fixture
def slack_fake() -> Iterator[FakeApi]:
    """Slack's response_url endpoint."""
    with FakeApi(lambda _r: Reply(body=b"ok", headers={"Content-Type": "text/plain"})) as fake:
        yield fake


@pytest.fixture
def api(hooks: App, monkeypatch: pytest.MonkeyPatch, slack_fake: FakeApi) -> Iterator[Client]:
    monkeypatch.setenv("OVERTURE_SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("OVERTURE_SLACK_RESPONSE_URL_PREFIX", slack_fake.url)
    connect(hooks, "slack", "T111", user=None)
    with in_process(hooks) as client:
        yield client


@pytest.fixture
def action(hooks: App) -> PendingAction:
    """Ana's draft waiting at its approval gate."""
    hooks.emit({"type": "gated", "org_id": "acme", "user_id": "ana"})
    hooks.run_until_idle()
    return current(hooks, None)


def current(app: App, action_id: str | None) -> PendingAction:
    with app.store.read() as conn:
        if action_id is None:
            [found] = actionq.list_actions(conn, "acme")
            return found
        fresh = actionq.get_action(conn, action_id)
    assert fresh is not None
    return fresh


def post(api: Client, app: App, body: bytes, **sign: Any) -> Any:
    return api.post(URL, content=body, headers=signed(app, body, **sign))


def test_an_approval_click_is_acked_then_decided_via_slack(
    hooks: App, api: Client, action: PendingAction, slack_fake: FakeApi
) -> None:
    """Signed by the SDK: 200 with a message for the clicker; then the action is approved by ana
    via slack, the job resumes, and the message is replaced through response_url."""
    body = click("approve", action.id, response_url=f"{slack_fake.url}/actions/T111/1/x")
    response = post(api, hooks, body)
    assert response.status_code == 200
    assert response.json() == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": "Approved: Send to dana",
    }
    decided = current(hooks, action.id)
    assert (decided.status, decided.decided_by, decided.decided_via) == (
        ActionStatus.APPROVED,
        "ana",
        "slack",
    )
    [update] = slack_fake.seen
    sent = json.loads(update.body)
    assert sent["replace_original"] is True and "approved by ana via slack" in sent["text"]
    hooks.run_until_idle()
    assert jobs_of(hooks, "gated")[0].status.value == "completed"
    [receipt] = receipts(hooks, "slack")
    assert (receipt.outcome, receipt.reason, receipt.user_id) == ("processed", "decided", "ana")
    with hooks.store.read() as conn:
        [decision] = [
            a for a in jobq.audit_of(conn, job_id=action.job_id) if a["action"] == "approval_approved"
        ]
    assert (decision["actor"], decision["detail"]["source"]) == ("ana", "slack:button_approve")


def test_an_org_admin_may_decide_for_the_owner(hooks: App, api: Client, action: PendingAction) -> None:
    """boss is an admin: the cancel is his, recorded as such, and the job ends."""
    assert post(api, hooks, click("cancel", action.id, user="U_BOSS")).status_code == 200
    decided = current(hooks, action.id)
    assert (decided.status, decided.decided_by) == (ActionStatus.CANCELLED, "boss")
    assert jobs_of(hooks, "gated")[0].status.value == "cancelled"


REFUSALS: list[tuple[dict[str, Any], str, str]] = [
    ({"user": "U_EVE"}, "not_allowed", "Only the person this is for, or an org admin, may decide it."),
    ({"user": "U_NOBODY"}, "unknown_user", "Your Slack account is not linked to an Overture user."),
    ({"team": {"id": "T999"}}, "unknown_team", "This Slack workspace is not connected to Overture."),
    ({"action_id": "open_link"}, "not_a_decision", "This button does not decide an approval."),
    ({"value": "no-such-action"}, "unknown_action", "This approval no longer exists."),
]


def test_refused_clicks_are_recorded_and_change_nothing(
    hooks: App, api: Client, action: PendingAction, slack_fake: FakeApi
) -> None:
    """Authentic clicks that may not decide: 200 with the reason for the clicker, a rejected
    receipt, the action still pending, the message untouched."""
    for n, (changes, reason, text) in enumerate(REFUSALS):
        args = {"action_id": "approve", "value": action.id, "response_url": f"{slack_fake.url}/a", **changes}
        body = click(args.pop("action_id"), args.pop("value"), trigger=f"t-{n}", **args)
        response = post(api, hooks, body)
        assert response.status_code == 200 and response.json()["text"] == text, reason
        receipt = receipts(hooks, "slack")[-1]
        assert (receipt.outcome, receipt.reason) == ("rejected", reason)
    assert current(hooks, action.id).status == ActionStatus.PENDING
    assert slack_fake.seen == []


def test_forged_stale_and_unsigned_requests_are_401_and_change_nothing(
    hooks: App, api: Client, action: PendingAction
) -> None:
    """Wrong secret, stale or future timestamp, no signature, no timestamp, tampered body: each
    is refused with a 401 problem; no receipt, no decision."""
    body = click("approve", action.id)
    unsigned = signed(hooks, body)
    del unsigned["X-Slack-Signature"]
    undated = signed(hooks, body)
    del undated["X-Slack-Request-Timestamp"]
    cases = [
        (body, signed(hooks, body, secret="not-our-secret")),
        (body, signed(hooks, body, skew_s=-301)),
        (body, signed(hooks, body, skew_s=301)),
        (body, unsigned),
        (body, undated),
        (click("approve", action.id, user="U_BOSS"), signed(hooks, body)),
    ]
    before = snapshot(hooks)
    for content, headers in cases:
        is_problem(api.post(URL, content=content, headers=headers), 401)
    assert snapshot(hooks) == before and current(hooks, action.id).status == ActionStatus.PENDING


def test_a_replayed_request_is_stale_after_five_minutes(
    hooks: App, api: Client, action: PendingAction
) -> None:
    """A request captured and sent again 301 s later is refused though its signature is right."""
    body = click("skip", action.id)
    headers = signed(hooks, body)
    hooks.clock.advance(301)  # type: ignore[attr-defined]
    is_problem(api.post(URL, content=body, headers=headers), 401)
    assert current(hooks, action.id).status == ActionStatus.PENDING


def test_a_repeat_inside_the_window_decides_once(hooks: App, api: Client, action: PendingAction) -> None:
    """The same signed click twice: the second is a duplicate receipt; one decision, one audit."""
    body = click("approve", action.id)
    headers = signed(hooks, body)
    api.post(URL, content=body, headers=headers)
    again = api.post(URL, content=body, headers=headers)
    assert again.status_code == 200 and again.json()["text"] == "This click was already received."
    assert [r.outcome for r in receipts(hooks, "slack")] == ["processed", "duplicate"]
    assert current(hooks, action.id).decided_by == "ana"


def test_a_second_click_is_told_who_decided(hooks: App, api: Client, action: PendingAction) -> None:
    """After ana approved, boss's click on the same message is told who decided and when."""
    post(api, hooks, click("approve", action.id))
    late = post(api, hooks, click("skip", action.id, user="U_BOSS", trigger="111.222.b")).json()
    assert late["text"].startswith("Already approved by ana via slack at ")
    assert current(hooks, action.id).status == ActionStatus.APPROVED


def test_an_edit_modal_submits_the_changed_draft(hooks: App, api: Client, action: PendingAction) -> None:
    """view_submission: private_metadata names the action, each input block a draft field; an empty
    200 closes the modal and the action is edited with those fields."""
    response = post(api, hooks, submit(action.id, {"body": "Hello Dana, as promised."}))
    assert response.status_code == 200 and response.content == b""
    decided = current(hooks, action.id)
    assert decided.status == ActionStatus.EDITED and decided.modifications == {
        "body": "Hello Dana, as promised."
    }


def test_an_edit_of_an_unknown_field_is_shown_in_the_modal(
    hooks: App, api: Client, action: PendingAction
) -> None:
    """The modal stays open with the error under the offending block; nothing is decided."""
    response = post(api, hooks, submit(action.id, {"colour": "blue"}))
    assert response.json() == {
        "response_action": "errors",
        "errors": {"colour": "This edit cannot be applied: unknown field(s) colour."},
    }
    assert current(hooks, action.id).status == ActionStatus.PENDING


def test_other_interactions_are_recorded_and_acked(hooks: App, api: Client) -> None:
    """A view_closed needs nothing: an empty 200 and a recorded receipt."""
    body = form({"type": "view_closed", "user": {"id": "U_ANA", "team_id": "T111"}, "view": {"id": "V1"}})
    response = post(api, hooks, body)
    assert response.status_code == 200 and response.content == b""
    assert [(r.outcome, r.reason) for r in receipts(hooks, "slack")] == [("recorded", "not_handled")]


def test_signed_but_malformed_bodies_are_400(hooks: App, api: Client) -> None:
    """A signed body that is not an interaction: 400 problem, nothing written."""
    before = snapshot(hooks)
    for body in (b"", b"token=x", b"payload=%7Bnot-json", form({"type": "block_actions"})):
        is_problem(post(api, hooks, body), 400)
    assert snapshot(hooks) == before


def test_without_a_signing_secret_everything_is_refused(
    hooks: App, api: Client, action: PendingAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing can be verified, so nothing is accepted."""
    monkeypatch.delenv("OVERTURE_SLACK_SIGNING_SECRET")
    is_problem(post(api, hooks, click("approve", action.id)), 401)
    assert current(hooks, action.id).status == ActionStatus.PENDING
