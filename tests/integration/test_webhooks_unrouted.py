"""MeetingBaaS webhooks for an account Overture does not know yet, on both backends: kept
`unrouted` with their transcript (202), never lost, never blocking a later delivery, and replayed
into exactly one `meeting_ended` once the account exists (CLI and API). Also what the event
carries for resolving participants: the names MeetingBaaS gives and our calendar event."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.core.webhooks import Outcome, Provider
from overture.errors import Conflict, NotFound
from overture.http.webhooks.receipts import Draft, Receipts
from overture.http.webhooks.replay import Replays
from overture.ids import new_id
from overture.storage.queries import integrations as store
from overture.storage.tables.crm import meetings, transcripts
from overture.storage.tables.orchestrator import audit_log, events
from tests.fake_storage import receiver, tls_storage, trusting_fetcher
from tests.integration.test_console import Session, visible
from tests.integration.test_http_api import Client, in_process, is_problem, issue
from tests.integration.test_webhooks_accounts import (
    connect,
    hooks_app,
    jobs_of,
    receipts,
    rows,
    run_cli,
    snapshot,
)
from tests.integration.test_webhooks_meetingbaas import (
    API_KEY,
    KEYED,
    SVIX_SECRET,
    URL,
    raw,
    svix_headers,
    v1,
    v2,
)
from tests.unit.test_integrations_apis import Reply
from tests.unit.test_integrations_meetingbaas import ARTIFACT, SECRET_WORDS

LATE = "eve-recorder"


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


@pytest.fixture
def api(hooks: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The service with our API key set and only Ana's recorder account known."""
    monkeypatch.setenv("OVERTURE_MEETINGBAAS_API_KEY", API_KEY)
    monkeypatch.setenv("OVERTURE_MEETINGBAAS_SVIX_SECRET", SVIX_SECRET)
    connect(hooks, "meetingbaas", "ana-recorder")
    with in_process(hooks) as client:
        yield client


def late() -> bytes:
    """Eve's finished meeting, from a bot routed to an account nobody has added yet."""
    return raw(v1(overture_account=LATE, calendar_event_id="nope"))


def unrouted(hooks: App) -> str:
    [receipt] = [r for r in receipts(hooks, "meetingbaas") if r.outcome == "unrouted"]
    return receipt.id


def test_an_unknown_accounts_meeting_is_kept_unrouted_and_answered_202(
    hooks: App, api: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Authentic, nobody's yet: a 202 that says so, the transcript kept on the receipt, nothing
    run; the same delivery again is a duplicate of it (one copy kept); no words in the logs."""
    caplog.set_level(logging.DEBUG)
    response = api.post(URL, content=late(), headers=KEYED)
    assert response.status_code == 202, response.text
    ack = response.json()
    assert (ack["status"], ack["reason"], ack["events"]) == ("unrouted", "unrouted", [])
    assert LATE in ack["detail"] and "replay" in ack["detail"]
    [receipt] = receipts(hooks, "meetingbaas")
    assert (receipt.outcome, receipt.account_id, receipt.id) == ("unrouted", None, ack["receipt_id"])
    assert receipt.work is not None and receipt.work["segments"][0]["text"] == SECRET_WORDS
    assert rows(hooks, events) == 0 and rows(hooks, meetings) == 0 and rows(hooks, transcripts) == 0
    again = api.post(URL, content=late(), headers=KEYED)
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    assert again.json()["receipt_id"] == ack["receipt_id"]
    assert [r.work is not None for r in receipts(hooks, "meetingbaas")] == [True, False]
    assert SECRET_WORDS not in caplog.text and SECRET_WORDS not in response.text


def test_a_replay_once_the_account_exists_makes_exactly_one_job(hooks: App, api: Client) -> None:
    """Before the account: refused, nothing changes. After: one `meeting_ended` for Eve, the
    receipt processed and rid of the transcript, the replayer in the audit log; a second replay
    creates nothing and says who did the first; a redelivery is then a duplicate."""
    receipt_id = api.post(URL, content=late(), headers=KEYED).json()["receipt_id"]
    replays = Replays(hooks)
    before = snapshot(hooks)
    with pytest.raises(NotFound, match=LATE):
        replays.replay(receipt_id, "ops")
    assert snapshot(hooks) == before
    connect(hooks, "meetingbaas", LATE, user="eve")
    done = replays.replay(receipt_id, "ops")
    assert done.replayed and done.event_status == "accepted" and done.by == "ops"
    [job] = jobs_of(hooks, "meeting_ended")
    assert (job.id, job.user_id) == (done.job_id, "eve")
    assert job.trigger_payload["participants"] == ["John Doe", "Jane Smith"]
    assert job.trigger_payload["calendar_event_id"] is None
    assert SECRET_WORDS not in json.dumps(job.trigger_payload)
    receipt = store_receipt(hooks, receipt_id)
    assert (receipt.outcome, receipt.reason, receipt.org_id, receipt.user_id) == (
        "processed",
        "replayed",
        "acme",
        "eve",
    )
    assert receipt.work == {"kind": "meetingbaas_replayed", "by": "ops", "at": done.at, "job_id": job.id}
    again = replays.replay(receipt_id, "someone-else")
    assert not again.replayed and "already replayed by ops" in again.message and again.job_id == job.id
    with hooks.store.read() as conn:
        audit = (
            conn.execute(sa.select(audit_log).where(audit_log.c.action == "webhook_replayed"))
            .mappings()
            .all()
        )
    assert [(a["actor"], a["job_id"], a["detail"]["receipt_id"]) for a in audit] == [
        ("ops", job.id, receipt_id)
    ]
    redelivered = api.post(URL, content=late(), headers=KEYED)
    assert redelivered.status_code == 200 and redelivered.json()["status"] == "duplicate"
    assert len(jobs_of(hooks, "meeting_ended")) == 1 and rows(hooks, transcripts) == 1
    hooks.run_until_idle()
    assert jobs_of(hooks, "meeting_ended")[0].status.value == "completed"


def store_receipt(hooks: App, receipt_id: str) -> Any:
    with hooks.store.read() as conn:
        found = store.get_receipt(conn, receipt_id)
    assert found is not None
    return found


def test_a_later_delivery_once_the_account_exists_is_processed_not_a_duplicate(
    hooks: App, api: Client
) -> None:
    """The unrouted receipt gives its key up: the redelivery is processed, the kept copy is
    marked superseded and dropped, and it can no longer be replayed into a second job."""
    first = api.post(URL, content=late(), headers=KEYED).json()["receipt_id"]
    connect(hooks, "meetingbaas", LATE, user="eve")
    response = api.post(URL, content=late(), headers=KEYED)
    assert response.status_code == 200 and response.json()["status"] == "processed"
    old = store_receipt(hooks, first)
    assert (old.outcome, old.reason, old.work, old.dedupe_key) == ("recorded", "superseded", None, None)
    with pytest.raises(Conflict, match="only an unrouted receipt"):
        Replays(hooks).replay(first, "ops")
    assert len(jobs_of(hooks, "meeting_ended")) == 1


def test_a_refused_receipt_never_blocks_a_later_delivery(hooks: App) -> None:
    """A rejected receipt gives its key up to the next delivery, which is taken afresh."""
    taker = Receipts(hooks)
    refused = taker.record(Draft(Provider.MEETINGBAAS, "bot-9:completed", Outcome.REJECTED, "invalid_event"))
    later = taker.record(Draft(Provider.MEETINGBAAS, "bot-9:completed", Outcome.PROCESSED, "ingested"))
    assert not later.duplicate and later.receipt.dedupe_key == refused.receipt.dedupe_key
    assert store_receipt(hooks, refused.receipt.id).dedupe_key is None


def test_a_v2_meeting_is_kept_with_its_fetched_transcript(hooks: App, api: Client) -> None:
    """The v2 link expires in four hours: the artifact is fetched at once and kept, so the
    replay needs nothing from MeetingBaaS's storage."""
    with tls_storage(lambda _r: Reply(body=ARTIFACT)) as storage, receiver(hooks, trusting_fetcher()) as mb:
        body = raw(v2(f"{storage.url}/t.json", overture_account=LATE))
        response = mb.post(URL, content=body, headers=svix_headers(hooks, body))
    assert response.status_code == 202, response.text
    connect(hooks, "meetingbaas", LATE, user="eve")
    done = Replays(hooks).replay(unrouted(hooks), "ops")
    [job] = jobs_of(hooks, "meeting_ended")
    assert done.job_id == job.id and job.trigger_payload["participants"] == ["Sam Buyer", "Ana Rep"]
    with hooks.store.read() as conn:
        [segments] = conn.execute(sa.select(transcripts.c.segments)).scalars().all()
    assert segments[0]["text"] == "Can you send the proposal by Friday?"


def test_an_operator_may_route_a_receipt_whose_extra_names_no_account(hooks: App, api: Client) -> None:
    """`--account` routes a bot made outside Overture (its extra names nobody)."""
    doc = v1()
    doc["data"]["extra"] = {"customer": "x"}
    api.post(URL, content=raw(doc), headers=KEYED)
    with pytest.raises(NotFound, match="names no account"):
        Replays(hooks).replay(unrouted(hooks), "ops")
    with pytest.raises(NotFound, match="no MeetingBaaS account 'nobody'"):
        Replays(hooks).replay(unrouted(hooks), "ops", account_ref="nobody")
    assert Replays(hooks).replay(unrouted(hooks), "ops", account_ref="ana-recorder").replayed
    assert jobs_of(hooks, "meeting_ended")[0].user_id == "ana"


def test_our_calendar_event_links_the_meeting(hooks: App, api: Client) -> None:
    """`extra.calendar_event_id` naming a stored event of the org goes into the payload and the
    meeting row; one of another org, or none we have, is left out."""
    now = hooks.clock.now()
    event_id = new_id()
    hooks.admin.add_org("other", "Other")
    hooks.admin.add_user("other", "olga", "Olga", active_hours=None)
    foreign = new_id()
    with hooks.store.write() as conn:
        for row_id, org, user in ((event_id, "acme", "ana"), (foreign, "other", "olga")):
            store.insert_calendar_event(
                conn,
                {
                    "id": row_id,
                    "org_id": org,
                    "user_id": user,
                    "external_id": f"google:{row_id}",
                    "title": "Acme <> Globex discovery",
                    "starts_at": now - timedelta(hours=1),
                    "ends_at": now,
                    "all_day": False,
                    "location": None,
                    "attendees": [{"email": "sam@globex.example", "name": "Sam Buyer", "external": True}],
                    "status": "confirmed",
                    "updated_at": now,
                },
            )
    api.post(URL, content=raw(v1(calendar_event_id=event_id)), headers=KEYED)
    other = copy.deepcopy(v1(calendar_event_id=foreign))
    other["data"]["bot_id"] = "bot-foreign"
    api.post(URL, content=raw(other), headers=KEYED)
    linked, unlinked = jobs_of(hooks, "meeting_ended")
    assert linked.trigger_payload["calendar_event_id"] == event_id
    assert unlinked.trigger_payload["calendar_event_id"] is None
    with hooks.store.read() as conn:
        by_meeting = dict(conn.execute(sa.select(meetings.c.id, meetings.c.calendar_event_id)).all())
    assert by_meeting[linked.trigger_payload["meeting_id"]] == event_id
    assert by_meeting[unlinked.trigger_payload["meeting_id"]] is None


def test_the_cli_lists_and_replays_once(hooks: App, api: Client, db_url: str) -> None:
    """`list-receipts --outcome unrouted` finds it (never its words); `integrations add` then
    `replay` makes one job; the second `replay` says it was done and by whom."""
    receipt_id = api.post(URL, content=late(), headers=KEYED).json()["receipt_id"]
    listed = run_cli(db_url, "integrations", "list-receipts", "--outcome", "unrouted", "--json")
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.output)] == [receipt_id]
    assert SECRET_WORDS not in listed.output and '"work"' not in listed.output
    missing = run_cli(db_url, "integrations", "replay", receipt_id)
    assert missing.exit_code == 2 and LATE in missing.output
    added = run_cli(
        db_url, "integrations", "add", "meetingbaas", "--org", "acme", "--user", "eve", "--external-id", LATE
    )
    assert added.exit_code == 0, added.output
    first = run_cli(db_url, "integrations", "replay", receipt_id, "--by", "ops@acme", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["replayed"] is True
    second = run_cli(db_url, "integrations", "replay", receipt_id)
    assert second.exit_code == 0 and "already replayed by ops@acme" in second.output
    assert len(jobs_of(hooks, "meeting_ended")) == 1
    assert run_cli(db_url, "integrations", "replay", "no-such-receipt").exit_code == 2


def test_an_org_admin_replays_over_http(hooks: App, api: Client) -> None:
    """Only an admin token or an org admin's may; another org's admin sees no such receipt."""
    receipt_id = api.post(URL, content=late(), headers=KEYED).json()["receipt_id"]
    connect(hooks, "meetingbaas", LATE, user="eve")
    path = f"/v1/webhook-receipts/{receipt_id}/replay"
    is_problem(api.post(path, headers=issue(hooks, "acme", "ana")), 403)
    hooks.admin.add_org("other", "Other")
    hooks.admin.add_user("other", "olga", "Olga", active_hours=None, role="admin")
    is_problem(api.post(path, headers=issue(hooks, "other", "olga")), 404)
    done = api.post(path, headers=issue(hooks, "acme", "boss"))
    assert done.status_code == 200, done.text
    assert (done.json()["replayed"], done.json()["by"]) == (True, "boss via api")
    again = api.post(path, headers=issue(hooks, None, admin=True)).json()
    assert not again["replayed"] and again["job_id"] == done.json()["job_id"]
    assert len(jobs_of(hooks, "meeting_ended")) == 1


def test_an_org_admin_replays_from_the_console(hooks: App, api: Client) -> None:
    """The receipts page lists the waiting meeting only to an admin of the org its account now
    belongs to; Replay runs it once and opens its job; a second click (a stale tab) opens the same job."""
    receipt_id = api.post(URL, content=late(), headers=KEYED).json()["receipt_id"]
    boss = Session(hooks, api, "boss")
    assert "No meetings are waiting" in visible(boss.get("/receipts").text)
    connect(hooks, "meetingbaas", LATE, user="eve")
    page = boss.get("/receipts")
    assert page.status_code == 200 and f"/receipts/{receipt_id}/replay" in page.text
    assert f"for account {LATE}" in visible(page.text)
    assert Session(hooks, api, "ana").get("/receipts").status_code == 403
    hooks.admin.add_org("other", "Other")
    hooks.admin.add_user("other", "olga", "Olga", active_hours=None, role="admin")
    olga = Session(hooks, api, "olga", org="other")
    assert receipt_id not in olga.get("/receipts").text
    assert olga.post(f"/receipts/{receipt_id}/replay").status_code == 404
    stale = boss.http.post(f"/receipts/{receipt_id}/replay", data={"csrf": "x"}, headers=boss.headers)
    assert stale.status_code == 403 and jobs_of(hooks, "meeting_ended") == []
    done = boss.post(f"/receipts/{receipt_id}/replay")
    [job] = jobs_of(hooks, "meeting_ended")
    assert (done.status_code, done.headers["location"]) == (303, f"/jobs/{job.id}")
    assert store_receipt(hooks, receipt_id).work["by"] == "boss via web"
    assert "No meetings are waiting" in visible(boss.get("/receipts").text)
    again = boss.post(f"/receipts/{receipt_id}/replay")
    assert again.status_code == 303 and len(jobs_of(hooks, "meeting_ended")) == 1
