"""Slack buttons and the edit modal on both backends: interaction requests signed with the SDK's
signature tool are posted to the real app; the fake Slack Web API on loopback records what the
app then calls (views.open, chat.update). After a decision from anywhere — Slack, the web
inbox, the API, the CLI — the original message shows the outcome, without buttons, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.core.records import ActionStatus
from overture.engine.admin.tokens import Tokens
from overture.http.console.session import csrf_for
from overture.storage.queries import jobs as jobq
from tests.approvals_app import action_now, buttons, job_status, make, notes, start, text_of
from tests.fake_slack import FakeSlack
from tests.integration.test_http_api import Client, in_process
from tests.integration.test_webhooks_accounts import receipts
from tests.integration.test_webhooks_slack import form, signed
from tests.unit.test_integrations_slack import BLOCK_ACTIONS, VIEW_SUBMISSION

URL = "/slack/interactions"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def hitl(db_url: str, clock: FakeClock, slack: FakeSlack) -> Iterator[App]:
    app = make(db_url, clock, slack.base_url, slack_response_url_prefix=slack.url)
    yield app
    app.close()


@pytest.fixture
def http(hitl: App) -> Iterator[Client]:
    with in_process(hitl) as client:
        yield client


def click(
    slack: FakeSlack,
    action_id: str,
    value: str,
    *,
    user: str = "U_ANA",
    trigger: str = "111.222.a",
    kind: str = "button",
    state: dict[str, Any] | None = None,
) -> bytes:
    """A block_actions payload for a click on the last posted message, as Slack sends it."""
    post = slack.to("chat.postMessage")[-1]
    ts = f"1700000000.{len(slack.to('chat.postMessage')):06d}"
    payload = json.loads(json.dumps(BLOCK_ACTIONS))
    payload["user"]["id"] = user
    payload["trigger_id"] = trigger
    payload["container"] = {"type": "message", "message_ts": ts, "channel_id": "D_ANA", "is_ephemeral": False}
    payload["channel"] = {"id": "D_ANA", "name": "directmessage"}
    payload["message"] = {"ts": ts, "text": post["text"], "blocks": post["blocks"]}
    payload["response_url"] = f"{slack.url}/actions/T111/1/{trigger}"
    payload["state"] = {"values": state or {}}
    element = {"type": kind, "action_id": action_id, "block_id": "decision", "action_ts": f"{trigger}.9"}
    element.update({"value": value} if kind == "button" else {"selected_options": []})
    payload["actions"] = [element]
    return form(payload)


def submission(
    view: dict[str, Any], values: dict[str, str], user: str = "U_ANA", trigger: str = "v.1"
) -> bytes:
    """A view_submission of the modal the app opened, with ``values`` typed into its inputs."""
    payload = json.loads(json.dumps(VIEW_SUBMISSION))
    payload["user"]["id"] = user
    payload["trigger_id"] = trigger
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            element = block["element"]
            typed = values.get(block["block_id"], element.get("initial_value", ""))
            state[block["block_id"]] = {element["action_id"]: {"type": "plain_text_input", "value": typed}}
    payload["view"] = {
        **{k: view[k] for k in ("callback_id", "private_metadata", "blocks", "title")},
        "id": "V00001",
        "type": "modal",
        "hash": f"hash-{trigger}",
        "state": {"values": state},
    }
    return form(payload)


def post(http: Client, app: App, body: bytes) -> Any:
    return http.post(URL, content=body, headers=signed(app, body))


def updated(slack: FakeSlack) -> list[dict[str, Any]]:
    return slack.to("chat.update")


def shows(update: dict[str, Any], *words: str) -> bool:
    text = text_of(update["blocks"])
    return buttons(update["blocks"]) == [] and all(w in text for w in words)


BUTTONS = [
    ("mail", "approve", ActionStatus.APPROVED, "completed", "Approved"),
    ("mail", "skip", ActionStatus.SKIPPED, "completed", "Skipped"),
    ("mail", "cancel", ActionStatus.CANCELLED, "cancelled", "Cancelled"),
    ("stage", "approve", ActionStatus.APPROVED, "completed", "Approved"),
    ("stage", "skip", ActionStatus.SKIPPED, "completed", "Skipped"),
    ("stage", "cancel", ActionStatus.CANCELLED, "cancelled", "Cancelled"),
    ("tasks", "skip", ActionStatus.SKIPPED, "completed", "Skipped"),
]


@pytest.mark.parametrize(("event_type", "button", "status", "job", "verb"), BUTTONS)
def test_each_button_decides_and_the_message_shows_who_did_what_and_when(
    hitl: App,
    http: Client,
    slack: FakeSlack,
    event_type: str,
    button: str,
    status: ActionStatus,
    job: str,
    verb: str,
) -> None:
    """200 with a note for the clicker; the decision is Ana's via slack; the job resumes or ends;
    the original message (channel, ts) is replaced once by the outcome, without buttons."""
    action = start(hitl, event_type)
    answer = post(http, hitl, click(slack, button, action.id))
    assert answer.status_code == 200 and answer.json()["response_type"] == "ephemeral"
    decided = action_now(hitl, action.id)
    assert (decided.status, decided.decided_by, decided.decided_via) == (status, "ana", "slack")
    hitl.run_until_idle()
    assert job_status(hitl, action.job_id) == job
    [update] = updated(slack)
    assert (update["channel"], update["ts"]) == ("D_ANA", "1700000000.000001")
    assert shows(update, verb, "by Ana via slack", f"<!date^{int(decided.decided_at.timestamp())}^")  # type: ignore[union-attr]
    assert slack.response_url_posts == []


def test_create_selected_creates_the_ticked_tasks(hitl: App, http: Client, slack: FakeSlack) -> None:
    """Ticking a box only acks; Create selected decides with the ticked options (t1, t3), the job
    creates exactly those, and the message lists them ticked."""
    action = start(hitl, "tasks")
    toggle = click(slack, "selected", action.id, kind="checkboxes", trigger="t.1")
    answer = post(http, hitl, toggle)
    assert answer.status_code == 200 and answer.content == b""
    assert action_now(hitl, action.id).status == ActionStatus.PENDING
    ticked = {
        "select:0": {
            "selected": {"type": "checkboxes", "selected_options": [{"value": "t1"}, {"value": "t3"}]}
        }
    }
    post(http, hitl, click(slack, "edit_selected", action.id, trigger="t.2", state=ticked))
    decided = action_now(hitl, action.id)
    assert decided.status == ActionStatus.EDITED and decided.modifications == {"selected": ["t1", "t3"]}
    hitl.run_until_idle()
    with hitl.store.read() as conn:
        [step] = [s for s in jobq.steps_of(conn, action.job_id) if s.status.value == "completed"]
    assert step.output == {"created": ["t1", "t3"]}
    [update] = updated(slack)
    assert shows(update, ":ballot_box_with_check: Send the pricing sheet", ":white_square: Book a demo")


def test_the_edit_modal_round_trip(hitl: App, http: Client, slack: FakeSlack) -> None:
    """Edit opens a modal (views.open with the click's trigger_id) holding recipient, subject and a
    multiline body; a bad address is refused inline and decides nothing; a good submission
    closes the modal, resumes the job with the edited draft, and the message says so."""
    action = start(hitl, "mail")
    answer = post(http, hitl, click(slack, "edit", action.id, trigger="trig.edit"))
    assert answer.status_code == 200 and answer.content == b""
    [opened] = slack.to("views.open")
    assert opened["trigger_id"] == "trig.edit"
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"] == "edit_draft"
    assert json.loads(view["private_metadata"]) == {"pending_action_id": action.id}
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert {k: (v["initial_value"], v.get("multiline")) for k, v in inputs.items()} == {
        "to": ("dana@example.com", False),
        "subject": ("Our call", False),
        "body": ("Hi Dana, thanks for the call.", True),
    }

    refused = post(
        http, hitl, submission(view, {"to": "dana at example", "body": "New words"}, trigger="v.1")
    )
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"to": "Enter one valid email address, like dana@example.com."},
    }
    assert action_now(hitl, action.id).status == ActionStatus.PENDING

    accepted = post(
        http, hitl, submission(view, {"body": "Hi Dana, the pricing is attached."}, trigger="v.2")
    )
    assert accepted.status_code == 200 and accepted.content == b""
    decided = action_now(hitl, action.id)
    assert decided.status == ActionStatus.EDITED
    assert decided.modifications == {"body": "Hi Dana, the pricing is attached."}
    hitl.run_until_idle()
    assert job_status(hitl, action.job_id) == "completed"
    with hitl.store.read() as conn:
        sent = [s.output for s in jobq.steps_of(conn, action.job_id) if s.step_name == "send"][-1]
    assert sent == {
        "sent": {"to": "dana@example.com", "subject": "Our call", "body": "Hi Dana, the pricing is attached."}
    }
    [update] = updated(slack)
    assert shows(update, "Edited and approved", "by Ana via slack", "Hi Dana, the pricing is attached.")


def test_a_click_by_someone_else_is_refused_and_the_message_is_left_alone(
    hitl: App, http: Client, slack: FakeSlack
) -> None:
    """Eve may not decide Ana's draft: she is told so, the action stays pending, no chat.update."""
    action = start(hitl, "mail")
    answer = post(http, hitl, click(slack, "approve", action.id, user="U_EVE"))
    assert answer.json()["text"] == "Only the person this is for, or an org admin, may decide it."
    hitl.run_until_idle()
    assert action_now(hitl, action.id).status == ActionStatus.PENDING
    assert updated(slack) == [] and slack.response_url_posts == []
    assert receipts(hitl, "slack")[-1].reason == "not_allowed"


def test_a_double_click_is_one_decision(hitl: App, http: Client, slack: FakeSlack) -> None:
    """Two clicks on Approve (each its own trigger): one decision, the second told who was first;
    the job runs once and the message is updated once."""
    action = start(hitl, "mail")
    first = post(http, hitl, click(slack, "approve", action.id, trigger="c.1"))
    second = post(http, hitl, click(slack, "approve", action.id, trigger="c.2"))
    assert first.json()["text"] == "Approved: Follow-up to Dana"
    assert second.json()["text"].startswith("Already approved by ana via slack at ")
    hitl.run_until_idle()
    hitl.run_until_idle()
    with hitl.store.read() as conn:
        audit = [a["action"] for a in jobq.audit_of(conn, job_id=action.job_id)]
        sends = [
            s
            for s in jobq.steps_of(conn, action.job_id)
            if s.step_name == "send" and s.status.value == "completed"
        ]
    assert audit.count("approval_approved") == 1 and len(sends) == 1
    assert len(updated(slack)) == 1


def web_session(app: App, user: str) -> tuple[dict[str, str], str]:
    """A console session cookie for ``user``, and its CSRF token."""
    secret = app.sessions.open("acme", user, "token").secret
    return {"cookie": f"overture_session={secret}"}, csrf_for(secret)


def test_decisions_from_the_web_the_api_and_the_cli_update_the_message(
    hitl: App, http: Client, slack: FakeSlack, db_url: str
) -> None:
    """Whatever the channel, the Slack message ends up showing the outcome and who decided."""
    web, api, cli_made = start(hitl, "mail"), start(hitl, "stage"), start(hitl, "mail", ref="cli")
    cookie, csrf = web_session(hitl, "ana")
    sent = http.post(f"/actions/{web.id}/decide", data={"csrf": csrf, "decision": "approve"}, headers=cookie)
    assert sent.status_code == 303
    token = Tokens(hitl.store, hitl.clock).create("acme", "boss").secret
    decided = http.post(
        f"/v1/approvals/{api.id}/decision",
        json={"action": "skip"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert decided.status_code == 200 and decided.json()["applied"] is True
    result = CliRunner().invoke(
        cli, ["--db", db_url, "approvals", "decide", cli_made.id, "cancel"], env={"OVERTURE_PACKS": "[]"}
    )
    assert result.exit_code == 0, result.output
    hitl.run_until_idle()
    by_ts = {u["ts"]: u for u in updated(slack)}
    assert shows(by_ts["1700000000.000001"], "Approved", "by Ana via web")
    assert shows(by_ts["1700000000.000002"], "Skipped", "by Boss via api")
    assert shows(by_ts["1700000000.000003"], "Cancelled", "by Ana via cli")
    hitl.run_until_idle()
    assert len(updated(slack)) == 3


def test_an_update_waits_while_slack_is_down_and_is_made_once(
    hitl: App, http: Client, slack: FakeSlack, clock: FakeClock
) -> None:
    """chat.update answered 503 then 429: the outcome waits and is retried, never lost, made once."""
    action = start(hitl, "mail")
    slack.fail("chat.update", "service_unavailable", status=503)
    slack.fail("chat.update", "ratelimited", status=429, retry_after=5)
    post(http, hitl, click(slack, "approve", action.id))
    hitl.run_until_idle()
    clock.advance(60)
    hitl.delivery.deliver_due()
    clock.advance(5)
    hitl.delivery.deliver_due()
    hitl.delivery.deliver_due()
    assert [u["ts"] for u in updated(slack)] == ["1700000000.000001"] * 3
    [outcome] = [n for n in notes(hitl) if n["kind"] == "approval_outcome"]
    assert outcome["status"] == "updated" and outcome["body"]["refs"]["shows"] == "approved"


def test_without_a_bot_token_edit_points_to_the_inbox(
    db_url: str, clock: FakeClock, slack: FakeSlack
) -> None:
    """No Slack delivery, so no modal can open: the clicker is sent to the web inbox instead."""
    app = make(db_url, clock, None)
    try:
        action = start(app, "mail")
        with in_process(app) as client:
            body = click_without_message(action.id)
            answer = client.post(URL, content=body, headers=signed(app, body))
        assert answer.json()["text"] == "Editing in Slack is not set up: edit this in the Overture inbox."
        assert action_now(app, action.id).status == ActionStatus.PENDING
    finally:
        app.close()


def click_without_message(action_id: str) -> bytes:
    payload = json.loads(json.dumps(BLOCK_ACTIONS))
    payload["user"]["id"] = "U_ANA"
    payload["actions"][0].update(action_id="edit", value=action_id)
    return form(payload)


def test_create_selected_with_the_drafted_choice_is_an_approval(
    hitl: App, http: Client, slack: FakeSlack
) -> None:
    """Ticks left as drafted (t1, t2): recorded as approved, and those two tasks are created."""
    action = start(hitl, "tasks")
    options = [{"value": "t2"}, {"value": "t1"}]
    ticked = {"select:0": {"selected": {"type": "checkboxes", "selected_options": options}}}
    post(http, hitl, click(slack, "edit_selected", action.id, state=ticked))
    decided = action_now(hitl, action.id)
    assert decided.status == ActionStatus.APPROVED and decided.modifications is None
    hitl.run_until_idle()
    with hitl.store.read() as conn:
        [step] = [s for s in jobq.steps_of(conn, action.job_id) if s.status.value == "completed"]
    assert step.output == {"created": ["t1", "t2"]}
