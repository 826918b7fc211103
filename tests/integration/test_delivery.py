"""Delivery that respects people, on both backends: hourly limits, quiet hours, digests, channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from overture.app import App
from overture.clock import FakeClock
from overture.engine.humans.delivery import DeliveryFailed, Outgoing
from overture.errors import RateLimited
from overture.storage.queries import approvals as aq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from overture.storage.queries import tenancy
from tests.conftest import event


class Recording:
    """A channel that remembers what it sent (or fails as told)."""

    name = "slack"

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[Outgoing] = []
        self.error = error

    def send(self, recipient: tenancy.UserRow, message: Outgoing) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.sent.append(message)
        return {"ts": f"{len(self.sent)}.0001"}


def statuses(app: App, user: str) -> list[tuple[str, str]]:
    with app.store.read() as conn:
        return [(n["kind"], n["status"]) for n in noteq.for_user(conn, user)]


def test_ten_informs_with_a_limit_of_three(app: App, clock: FakeClock) -> None:
    """Ten inform messages in an hour for a user allowed three: three go out, the other seven go
    out an hour after the first as one digest; none is lost."""
    app.admin.add_user(
        "acme", "lim", "Lim", active_hours=None, max_notifications_per_hour=3, slack_user_id="U1"
    )
    slack = Recording()
    app.delivery.channels["slack"] = slack
    start = clock.now()
    for n in range(10):
        app.emit(event("tell", {"n": n}, user="lim"))
        app.run_until_idle()
        clock.advance(timedelta(minutes=5))
    assert [m.text for m in slack.sent] == ["Update 0", "Update 1", "Update 2"]
    with app.store.read() as conn:
        waiting = noteq.for_user(conn, "lim", "pending")
    assert len(waiting) == 7 and {w["send_after"] for w in waiting} == {start + timedelta(hours=1)}
    clock.set(start + timedelta(hours=1))
    app.delivery.deliver_due()
    assert len(slack.sent) == 4 and slack.sent[-1].kind == "digest"
    assert [i["text"] for i in slack.sent[-1].items] == [f"Update {n}" for n in range(3, 10)]
    kinds = statuses(app, "lim")
    assert kinds.count(("inform", "sent")) == 3 and kinds.count(("inform", "digested")) == 7
    assert kinds.count(("digest", "sent")) == 1 and not [k for k in kinds if k[1] == "pending"]


def test_quiet_hours_defer_to_the_next_window(app: App, clock: FakeClock) -> None:
    """A message for someone off duty waits for the start of their next active window, recorded."""
    app.admin.add_user(
        "acme", "day", "Day", timezone="Europe/Paris", active_hours="08:00-18:00", workdays="mon-sun"
    )
    clock.set(datetime(2026, 11, 20, 21, 0, tzinfo=UTC))  # 22:00 in Paris
    with app.store.write() as conn:
        noteq.insert(conn, _note("day", "inform", "late news", clock.now()))
    report = app.delivery.deliver_due()
    assert report.deferred == 1 and report.sent == 0
    with app.store.read() as conn:
        [row] = noteq.for_user(conn, "day")
        audit = [a for a in jobq.audit_of(conn, org_id="acme") if a["action"] == "notification_deferred"]
    assert row["send_after"] == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # 08:00 Paris
    assert audit[-1]["reason"] == "quiet_hours"
    clock.set(datetime(2026, 11, 21, 7, 0, tzinfo=UTC))
    assert app.delivery.deliver_due().sent == 1


def test_a_deferred_approval_request_is_still_in_the_inbox(app: App, clock: FakeClock) -> None:
    """An approval whose message waits for the morning is listed and decidable at once."""
    app.admin.add_user("acme", "owl", "Owl", timezone="UTC", active_hours="08:00-09:00", workdays="mon-sun")
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    app.admin.set_feature("acme", "gated", True)
    result = app.emit(event("gated", {"ref": "z"}, user="owl"))
    app.run_until_idle()
    assert statuses(app, "owl") == [("approval_request", "pending")]
    with app.store.read() as conn:
        [action] = aq.list_actions(conn, user_id="owl")
    assert action.job_id == result.job_id


def test_channel_rate_limit_defers_and_a_broken_channel_fails_visibly(app: App, clock: FakeClock) -> None:
    """Slack saying slow down defers the message; Slack refusing it for good records why."""
    app.admin.add_user("acme", "sam", "Sam", active_hours=None, slack_user_id="U2")
    app.delivery.channels["slack"] = Recording(RateLimited("ratelimited", retry_after_s=30))
    with app.store.write() as conn:
        noteq.insert(conn, _note("sam", "job_failed", "it broke", clock.now()))
    assert app.delivery.deliver_due().deferred == 1
    with app.store.read() as conn:
        assert noteq.for_user(conn, "sam")[0]["send_after"] == clock.now() + timedelta(seconds=30)
    clock.advance(30)
    app.delivery.channels["slack"] = Recording(DeliveryFailed("invalid_auth"))
    assert app.delivery.deliver_due().failed == 1
    assert statuses(app, "sam") == [("job_failed", "failed")]
    with app.store.read() as conn:
        failed = [a for a in jobq.audit_of(conn, org_id="acme") if a["action"] == "notification_failed"]
    assert failed[-1]["detail"]["error"] == "invalid_auth"


def _note(user: str, kind: str, text: str, now: datetime) -> dict[str, Any]:
    from overture.ids import new_id

    return {
        "id": new_id(),
        "org_id": "acme",
        "user_id": user,
        "channel": "inbox",
        "kind": kind,
        "dedupe_key": None,
        "status": "pending",
        "body": {"text": text},
        "job_id": None,
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }


def test_two_workers_delivering_at_once_send_each_message_once(
    app: App, clock: FakeClock, db_url: str
) -> None:
    """Two delivery rounds racing (two worker processes) claim disjoint messages: nothing goes out twice."""
    import threading

    from overture.engine.humans.delivery import Delivery
    from tests.conftest import make_app

    app.admin.add_user(
        "acme", "duo", "Duo", active_hours=None, max_notifications_per_hour=100, slack_user_id="U9"
    )
    with app.store.write() as conn:
        for n in range(8):
            noteq.insert(conn, _note("duo", "job_failed", f"problem {n}", clock.now()))
    other = make_app(db_url, clock)
    channel = Recording()
    rounds = [
        Delivery(app.store, clock, {"inbox": channel, "slack": channel}),
        Delivery(other.store, clock, {"inbox": channel, "slack": channel}),
    ]
    barrier = threading.Barrier(2)

    def go(d: Delivery) -> None:
        barrier.wait()
        d.deliver_due()

    threads = [threading.Thread(target=go, args=(d,)) for d in rounds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(m.text for m in channel.sent) == sorted(f"problem {n}" for n in range(8))
    assert statuses(app, "duo") == [("job_failed", "sent")] * 8
    other.close()
