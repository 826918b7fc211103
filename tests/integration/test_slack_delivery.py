"""Slack delivery on both backends, against a fake Slack Web API on loopback spoken to by the
official WebClient: one layout per approval pattern, refs kept, Slack's errors handled as Slack
documents them, the hourly limit and quiet hours respected, one reminder, and expiry shown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from tests.approvals_app import (
    TASKS,
    action_now,
    buttons,
    job_status,
    make,
    notes,
    start,
    text_of,
)
from tests.fake_slack import FakeSlack
from tests.integration.test_console import Session
from tests.integration.test_http_api import in_process


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def hitl(db_url: str, clock: FakeClock, slack: FakeSlack) -> Iterator[App]:
    app = make(db_url, clock, slack.base_url)
    yield app
    app.close()


def audit(app: App, action: str) -> list[dict[str, object]]:
    with app.store.read() as conn:
        return [a for a in jobq.audit_of(conn, org_id="acme") if a["action"] == action]


def test_a_draft_is_posted_to_the_owner_with_its_fields_and_four_buttons(hitl: App, slack: FakeSlack) -> None:
    """Recipient, subject and body shown; Approve & send · Edit · Skip · Cancel carry the action id;
    Cancel asks first; the message's channel and ts are kept on the notification."""
    action = start(hitl, "mail")
    [post] = slack.to("chat.postMessage")
    assert post["channel"] == "U_ANA" and post["text"] == "Waiting for your decision: Follow-up to Dana"
    shown = text_of(post["blocks"])
    assert "dana@example.com" in shown and "Our call" in shown and "Hi Dana, thanks for the call." in shown
    controls = buttons(post["blocks"])
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in controls] == [
        ("Approve & send", "approve", action.id),
        ("Edit", "edit", action.id),
        ("Skip", "skip", action.id),
        ("Cancel", "cancel", action.id),
    ]
    assert controls[0]["style"] == "primary" and controls[3]["style"] == "danger"
    assert controls[3]["confirm"]["confirm"]["text"] == "Cancel the job"
    [request] = [n for n in notes(hitl) if n["kind"] == "approval_request"]
    assert post["metadata"] == {  # the notification's id: a repeat is recognised by it
        "event_type": "overture_approval",
        "event_payload": {"pending_action_id": action.id, "overture_key": request["id"]},
    }
    assert request["status"] == "sent" and request["channel"] == "slack"
    assert request["body"]["refs"] == {"channel": "D_ANA", "ts": "1700000000.000001"}


def test_a_stage_change_shows_the_deal_and_its_old_and_new_stage(hitl: App, slack: FakeSlack) -> None:
    """confirm: the deal, qualified → proposal and why; Confirm · Skip · Cancel."""
    action = start(hitl, "stage")
    [post] = slack.to("chat.postMessage")
    assert "*Acme renewal*\nqualified → *proposal*\n_they asked for pricing_" in text_of(post["blocks"])
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons(post["blocks"])] == [
        ("Confirm", "approve", action.id),
        ("Skip", "skip", action.id),
        ("Cancel", "cancel", action.id),
    ]


def test_proposed_tasks_are_checkboxes_with_due_dates(hitl: App, slack: FakeSlack) -> None:
    """select: a checkbox per task (the draft's choice ticked) with its due date; Create selected · Skip."""
    action = start(hitl, "tasks")
    [post] = slack.to("chat.postMessage")
    [boxes, create, skip] = buttons(post["blocks"])
    assert boxes["type"] == "checkboxes" and boxes["action_id"] == "selected"
    assert [(o["value"], o["text"]["text"], o["description"]["text"]) for o in boxes["options"]] == [
        ("t1", TASKS[0]["title"], "due 2026-11-23 · high"),
        ("t2", TASKS[1]["title"], "due 2026-11-25 · medium"),
        ("t3", TASKS[2]["title"], "no due date · low"),
    ]
    assert [o["value"] for o in boxes["initial_options"]] == ["t1", "t2"]
    assert (create["text"]["text"], create["action_id"], create["value"]) == (
        "Create selected",
        "edit_selected",
        action.id,
    )
    assert (skip["text"]["text"], skip["value"]) == ("Skip", action.id)


def test_summaries_are_inform_only(hitl: App, slack: FakeSlack) -> None:
    """A notify step's message has text and no buttons."""
    hitl.emit(
        {"type": "tell", "org_id": "acme", "user_id": "ana", "payload": {"text": "Call <wrapped> up & done"}}
    )
    hitl.run_until_idle()
    [post] = slack.to("chat.postMessage")
    assert buttons(post["blocks"]) == [] and text_of(post["blocks"]) == "Call &lt;wrapped&gt; up &amp; done"


def test_ratelimited_defers_by_retry_after(hitl: App, slack: FakeSlack, clock: FakeClock) -> None:
    """HTTP 429 with Retry-After: 30 defers the message 30 s, recorded; then it goes out once."""
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=30)
    action = start(hitl, "mail")
    [request] = notes(hitl)
    assert request["status"] == "pending" and request["send_after"] == clock.now() + timedelta(seconds=30)
    assert audit(hitl, "notification_deferred")[-1]["reason"] == "channel_rate_limited"
    clock.advance(30)
    hitl.delivery.deliver_due()
    assert len(slack.to("chat.postMessage")) == 2 and notes(hitl)[0]["status"] == "sent"
    assert action_now(hitl, action.id).status.value == "pending"


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "channel_not_found", "account_inactive"])
def test_a_refusal_fails_the_delivery_with_slacks_reason_and_the_action_stays_decidable(
    hitl: App, slack: FakeSlack, error: str
) -> None:
    """The notification is failed with the error code on it and in the audit log; the web inbox
    shows the action with that reason, and it is decided there."""
    slack.fail("chat.postMessage", error)
    action = start(hitl, "mail")
    [request] = notes(hitl)
    assert request["status"] == "failed" and request["body"]["error"] == error
    assert audit(hitl, "notification_failed")[-1]["detail"]["error"] == error  # type: ignore[index]
    with in_process(hitl) as http:
        ana = Session(hitl, http, "ana")
        assert f"Could not reach Ana on Slack ({error}): decide here." in ana.get("/").text
        assert ana.post(f"/actions/{action.id}/decide", decision="approve").status_code == 303
    assert action_now(hitl, action.id).status.value == "approved"


def test_slack_delivery_keeps_the_hourly_limit(hitl: App, slack: FakeSlack, clock: FakeClock) -> None:
    """Ten summaries in an hour for a Slack user allowed three: three posts, then one digest."""
    hitl.admin.add_user(
        "acme", "lim", "Lim", active_hours=None, max_notifications_per_hour=3, slack_user_id="U_LIM"
    )
    for n in range(10):
        hitl.emit({"type": "tell", "org_id": "acme", "user_id": "lim", "payload": {"text": f"Update {n}"}})
        hitl.run_until_idle()
        clock.advance(timedelta(minutes=5))
    assert [p["text"] for p in slack.to("chat.postMessage")] == ["Update 0", "Update 1", "Update 2"]
    clock.advance(timedelta(minutes=15))
    hitl.delivery.deliver_due()
    digest = slack.to("chat.postMessage")[-1]
    assert len(slack.to("chat.postMessage")) == 4 and digest["text"].startswith(
        "7 updates while you were away"
    )
    assert [b["text"]["text"] for b in digest["blocks"][1:]] == [f"Update {n}" for n in range(3, 10)]


def test_slack_delivery_waits_out_quiet_hours(hitl: App, slack: FakeSlack, clock: FakeClock) -> None:
    """An approval for someone off duty is not posted at 22:00 Paris time but at 08:00; it is
    decidable meanwhile."""
    hitl.admin.add_user(
        "acme",
        "day",
        "Day",
        timezone="Europe/Paris",
        active_hours="08:00-18:00",
        workdays="mon-sun",
        slack_user_id="U_DAY",
    )
    clock.set(datetime(2026, 11, 20, 21, 0, tzinfo=UTC))
    action = start(hitl, "mail", user="day")
    assert slack.to("chat.postMessage") == [] and action.status.value == "pending"
    clock.set(datetime(2026, 11, 21, 7, 0, tzinfo=UTC))
    hitl.delivery.deliver_due()
    assert [p["channel"] for p in slack.to("chat.postMessage")] == ["U_DAY"]


def test_one_reminder_in_the_thread_then_the_expiry_is_shown(
    hitl: App, slack: FakeSlack, clock: FakeClock
) -> None:
    """At 75% of 48 h a reminder is posted under the request, once, recorded; at expiry the job
    ends expired and the request is updated to say so, without buttons."""
    action = start(hitl, "mail")
    clock.advance(timedelta(hours=35, minutes=59))
    hitl.delivery.deliver_due()
    assert len(slack.to("chat.postMessage")) == 1
    clock.advance(timedelta(minutes=1))
    hitl.delivery.deliver_due()
    clock.advance(timedelta(hours=1))
    hitl.delivery.deliver_due()
    [_, reminder] = slack.to("chat.postMessage")
    assert reminder["channel"] == "D_ANA" and reminder["thread_ts"] == "1700000000.000001"
    assert reminder["text"] == "Reminder: Follow-up to Dana expires soon"
    assert [a["detail"]["pending_action_id"] for a in audit(hitl, "approval_reminded")] == [action.id]  # type: ignore[index]
    clock.advance(timedelta(hours=12))
    hitl.run_until_idle()
    assert job_status(hitl, action.job_id) == "expired"
    [update] = slack.to("chat.update")
    assert (update["channel"], update["ts"]) == ("D_ANA", "1700000000.000001")
    assert buttons(update["blocks"]) == [] and "Expired unanswered" in text_of(update["blocks"])
    hitl.run_until_idle()
    assert len(slack.to("chat.update")) == 1 and len(slack.to("chat.postMessage")) == 2


def test_a_decision_made_before_the_request_went_out_is_not_posted(
    hitl: App, slack: FakeSlack, clock: FakeClock
) -> None:
    """An approval waiting for the morning and decided in the web inbox overnight: nothing is
    posted in the morning, and nothing counts against the hourly limit."""
    hitl.admin.add_user(
        "acme",
        "owl",
        "Owl",
        timezone="UTC",
        active_hours="08:00-09:00",
        workdays="mon-sun",
        slack_user_id="U_OWL",
    )
    clock.set(datetime(2026, 11, 20, 22, 0, tzinfo=UTC))
    action = start(hitl, "mail", user="owl")
    hitl.approvals.decide(action.id, Decision.CANCEL, "owl", "web")
    clock.set(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    hitl.run_until_idle()
    assert slack.calls == []
    assert [(n["kind"], n["status"]) for n in notes(hitl, "owl")] == [("approval_request", "skipped")]


def interrupted(app: App, kind: str, posted_at: float) -> dict[str, object]:
    """The notification as a worker killed mid-post leaves it: marked as being posted, no
    outcome recorded, due again."""
    [note] = [n for n in notes(app) if n["kind"] == kind]
    body = {k: v for k, v in note["body"].items() if k != "refs"}
    with app.store.write() as conn:
        noteq.mark(
            conn,
            [note["id"]],
            status="pending",
            sent_at=None,
            send_after=app.clock.now(),
            body={**body, "posting_at": posted_at},
        )
    return note


def test_a_post_cut_short_after_slack_took_it_is_not_posted_again(hitl: App, slack: FakeSlack) -> None:
    """Slack has the message (its metadata carries the notification's id): the retry finds it
    and records it as sent instead of posting a second one."""
    start(hitl, "mail")
    note = interrupted(hitl, "approval_request", time.time() - 5)
    hitl.delivery.deliver_due()
    assert len(slack.to("chat.postMessage")) == 1 and len(slack.to("conversations.history")) == 1
    [again] = [n for n in notes(hitl) if n["id"] == note["id"]]
    assert again["status"] == "sent" and again["body"]["refs"] == note["body"]["refs"]


def test_a_post_cut_short_before_slack_took_it_is_posted(hitl: App, slack: FakeSlack) -> None:
    """Nothing in the conversation carries the id: posted, once."""
    start(hitl, "mail")
    slack.posted.clear()
    interrupted(hitl, "approval_request", time.time() - 5)
    hitl.delivery.deliver_due()
    assert len(slack.to("chat.postMessage")) == 2 and len(slack.to("conversations.history")) == 1
