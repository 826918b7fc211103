"""POST /webhooks/google-calendar and /webhooks/gmail in process on both backends, the APIs they
fetch from played by loopback fakes: handshakes, tokens, incremental sync, retries and forgeries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.http.webhooks.intake import Intake
from overture.http.webhooks.work import WebhookWork
from overture.storage.tables.crm import calendar_events
from overture.storage.tables.orchestrator import events
from tests.integration.test_http_api import Client, in_process, is_problem
from tests.integration.test_webhooks_accounts import (
    account_state,
    connect,
    hooks_app,
    jobs_of,
    receipts,
    rows,
    snapshot,
)
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen
from tests.unit.test_integrations_gmail import (
    ACCOUNT,
    AUDIENCE,
    CERT_PEM,
    KID,
    OTHER_KEY_PEM,
    PUSH,
    FakeGmail,
)
from tests.unit.test_integrations_gmail import token as push_token
from tests.unit.test_integrations_google_calendar import (
    CANCELLED_EVENT,
    EXISTS_HEADERS,
    SYNC_HEADERS,
    TIMED_EVENT,
)

CHANNEL = EXISTS_HEADERS["X-Goog-Channel-ID"]
CHANNEL_TOKEN = EXISTS_HEADERS["X-Goog-Channel-Token"]
CALENDAR = "/webhooks/google-calendar"
GMAIL = "/webhooks/gmail"


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


class FakeCalendar:
    """events.list: the changes since each sync token, a full listing without one, 410 for an
    expired token; ``pages`` may be swapped between notifications."""

    def __init__(self) -> None:
        self.pages: dict[str | None, Reply] = {
            None: Reply(body={"items": [TIMED_EVENT], "nextSyncToken": "tok-1"}),
            "tok-1": Reply(body={"items": [TIMED_EVENT, CANCELLED_EVENT], "nextSyncToken": "tok-2"}),
            "tok-2": Reply(body={"items": [], "nextSyncToken": "tok-3"}),
            "expired": Reply(410, {"error": {"code": 410, "message": "Sync token is no longer valid."}}),
        }

    def __call__(self, request: Seen) -> Reply:
        assert request.path == "/calendar/v3/calendars/primary/events", request.path
        token = request.query.get("syncToken", [None])[0]
        return self.pages[token]


@pytest.fixture
def calendar_api() -> Iterator[tuple[FakeApi, FakeCalendar]]:
    fake = FakeCalendar()
    with FakeApi(fake) as api:
        yield api, fake


@pytest.fixture
def api(hooks: App) -> Iterator[Client]:
    with in_process(hooks) as client:
        yield client


def watch(app: App, fake: FakeApi, sync_token: str | None = "tok-1") -> Any:
    state = {"sync_token": sync_token} if sync_token else {}
    return connect(
        app, "google_calendar", CHANNEL, secret=CHANNEL_TOKEN, base_url=f"{fake.url}/calendar/v3", state=state
    )


def notify(api: Client, number: int, **changes: str | None) -> Any:
    headers = {**EXISTS_HEADERS, "X-Goog-Message-Number": str(number), **changes}
    return api.post(CALENDAR, headers={k: v for k, v in headers.items() if v is not None})


# -- Google Calendar -------------------------------------------------------------------------


def test_the_sync_handshake_is_answered_and_fetches_nothing(
    hooks: App, api: Client, calendar_api: tuple[FakeApi, FakeCalendar]
) -> None:
    """`sync` is acknowledged with 200 and recorded; the channel's resource id is kept, and a
    notification about another resource on that channel is refused."""
    fake, _ = calendar_api
    account = watch(hooks, fake)
    response = api.post(CALENDAR, headers=SYNC_HEADERS)
    assert response.status_code == 200 and response.json()["reason"] == "sync_handshake"
    assert fake.seen == [] and rows(hooks, events) == 0
    assert account_state(hooks, account)["resource_id"] == SYNC_HEADERS["X-Goog-Resource-ID"]
    before = snapshot(hooks)
    is_problem(notify(api, 10, **{"X-Goog-Resource-ID": "another-resource"}), 401)
    assert snapshot(hooks) == before and fake.seen == []


def test_a_change_is_fetched_incrementally_and_new_events_are_sent(
    hooks: App, api: Client, calendar_api: tuple[FakeApi, FakeCalendar]
) -> None:
    """`exists`: 200 at once, then events.list from the stored sync token; the new event is
    stored in the CRM and becomes `calendar_event_created`; the cancelled one is not sent."""
    fake, _ = calendar_api
    account = watch(hooks, fake)
    response = notify(api, 10)
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    [seen] = fake.seen
    assert seen.query["syncToken"] == ["tok-1"]
    assert account_state(hooks, account)["sync_token"] == "tok-2"
    with hooks.store.read() as conn:
        [row] = conn.execute(sa.select(calendar_events)).mappings().all()
    assert (row["user_id"], row["external_id"], row["title"]) == (
        "ana",
        f"google:{TIMED_EVENT['id']}",
        "Acme <> Globex discovery",
    )
    [job] = jobs_of(hooks, "calendar_event_created")
    assert job.trigger_payload["id"] == TIMED_EVENT["id"] and job.trigger_payload["has_external_attendees"]
    [receipt] = receipts(hooks, "google_calendar")
    assert (receipt.outcome, receipt.reason, receipt.events[0]["job_id"]) == ("processed", "synced", job.id)
    hooks.run_until_idle()
    assert jobs_of(hooks, "calendar_event_created")[0].status.value == "completed"


def test_a_redelivered_notification_is_a_duplicate(
    hooks: App, api: Client, calendar_api: tuple[FakeApi, FakeCalendar]
) -> None:
    """Google's retry of message 10 is recorded as a duplicate and fetches nothing more."""
    fake, _ = calendar_api
    watch(hooks, fake)
    first = notify(api, 10).json()
    again = notify(api, 10).json()
    assert again["status"] == "duplicate" and again["receipt_id"] == first["receipt_id"]
    assert len(fake.seen) == 1 and len(jobs_of(hooks, "calendar_event_created")) == 1


def test_only_news_is_sent_again(hooks: App, api: Client, calendar_api: tuple[FakeApi, FakeCalendar]) -> None:
    """An unchanged event in a later sync sends nothing; the same event moved to another start does."""
    fake, calendar = calendar_api
    watch(hooks, fake)
    notify(api, 10)
    calendar.pages["tok-2"] = Reply(body={"items": [TIMED_EVENT], "nextSyncToken": "tok-3"})
    notify(api, 11)
    assert len(jobs_of(hooks, "calendar_event_created")) == 1
    moved = {
        **TIMED_EVENT,
        "updated": "2025-11-21T08:00:00Z",
        "start": {"dateTime": "2025-11-25T10:00:00+01:00"},
    }
    calendar.pages["tok-3"] = Reply(body={"items": [moved], "nextSyncToken": "tok-4"})
    notify(api, 12)
    assert len(jobs_of(hooks, "calendar_event_created")) == 2


def test_an_expired_sync_token_means_a_full_listing(
    hooks: App, api: Client, calendar_api: tuple[FakeApi, FakeCalendar]
) -> None:
    """410 Gone: the calendar is listed again from scratch and the new token stored."""
    fake, _ = calendar_api
    account = watch(hooks, fake, sync_token="expired")
    notify(api, 10)
    assert [s.query.get("syncToken") for s in fake.seen] == [["expired"], None]
    assert account_state(hooks, account)["sync_token"] == "tok-1"
    assert receipts(hooks)[0].reason == "resynced"


def test_a_failed_fetch_is_recorded_and_done_again_later(
    hooks: App, api: Client, calendar_api: tuple[FakeApi, FakeCalendar]
) -> None:
    """The API fails after the 200: the receipt says so, the sync token stays, and resuming
    unfinished receipts fetches it again."""
    fake, calendar = calendar_api
    account = watch(hooks, fake)
    calendar.pages["tok-1"] = Reply(503, {"error": {"message": "backend error"}})
    assert notify(api, 10).status_code == 200
    [receipt] = receipts(hooks)
    assert (receipt.outcome, receipt.reason) == ("failed", "api_error") and "503" in receipt.detail
    assert account_state(hooks, account)["sync_token"] == "tok-1"
    calendar.pages["tok-1"] = FakeCalendar().pages["tok-1"]
    assert WebhookWork(hooks).resume(older_than_s=0) == 1
    assert receipts(hooks)[0].outcome == "processed" and len(jobs_of(hooks, "calendar_event_created")) == 1


def test_work_left_by_a_crash_is_done_on_resume(
    hooks: App, calendar_api: tuple[FakeApi, FakeCalendar]
) -> None:
    """A receipt answered but never worked on (the process died after the 200) stays `accepted`
    and is fetched when unfinished receipts are resumed."""
    fake, _ = calendar_api
    watch(hooks, fake)
    taken = Intake(hooks).calendar(EXISTS_HEADERS)
    assert taken.receipt.outcome == "accepted" and fake.seen == []
    assert WebhookWork(hooks).resume(older_than_s=0) == 1
    assert receipts(hooks)[0].outcome == "processed" and len(jobs_of(hooks, "calendar_event_created")) == 1
    assert WebhookWork(hooks).resume(older_than_s=0) == 0


BAD_NOTIFICATIONS: list[tuple[dict[str, str | None], int]] = [
    ({"X-Goog-Channel-Token": None}, 401),
    ({"X-Goog-Channel-Token": "org=acme&secret=guess"}, 401),
    ({"X-Goog-Channel-ID": "someone-elses-channel"}, 401),
    ({"X-Goog-Resource-State": "deleted"}, 400),
    ({"X-Goog-Message-Number": None}, 400),
    ({"X-Goog-Channel-ID": None}, 400),
]


def test_forged_and_malformed_notifications_change_nothing(
    hooks: App, api: Client, calendar_api: tuple[FakeApi, FakeCalendar]
) -> None:
    """A wrong, missing or unknown channel token is a 401; a broken header a 400; nothing is
    fetched or written."""
    fake, _ = calendar_api
    watch(hooks, fake)
    before = snapshot(hooks)
    for changes, status in BAD_NOTIFICATIONS:
        is_problem(notify(api, 10, **changes), status)
    assert snapshot(hooks) == before and fake.seen == []


# -- Gmail -----------------------------------------------------------------------------------


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeApi, FakeApi]]:
    """Google's certificates endpoint and the Gmail API, on loopback; OIDC checking on."""
    certs_body = {KID: CERT_PEM}
    with (
        FakeApi(lambda _r: Reply(body=certs_body, headers={"Cache-Control": "max-age=3600"})) as certs,
        FakeApi(FakeGmail()) as gmail,
    ):
        monkeypatch.setenv("OVERTURE_GMAIL_PUSH_AUDIENCE", AUDIENCE)
        monkeypatch.setenv("OVERTURE_GMAIL_PUSH_SERVICE_ACCOUNT", ACCOUNT)
        monkeypatch.setenv("OVERTURE_GMAIL_CERTS_URL", f"{certs.url}/oauth2/v1/certs")
        yield certs, gmail


def mailbox(app: App, gmail: FakeApi, history_id: str | None = "9876543210") -> Any:
    state = {"history_id": history_id} if history_id else {}
    return connect(app, "gmail", "ana@acme.test", base_url=f"{gmail.url}/gmail/v1", state=state)


def push(api: Client, body: dict[str, Any] = PUSH, token: str | None = None) -> Any:
    authorization = {"Authorization": f"Bearer {token or push_token()}"}
    return api.post(GMAIL, content=json.dumps(body).encode(), headers=authorization)


def test_a_verified_push_reads_history_and_sends_email_received(
    hooks: App, api: Client, google: tuple[FakeApi, FakeApi]
) -> None:
    """The OIDC token checks out; the history since the stored id is read; each new message is
    an `email_received` job; the new history id is stored."""
    _, gmail = google
    account = mailbox(hooks, gmail)
    response = push(api)
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    history = [s for s in gmail.seen if s.path.endswith("/history")]
    assert history[0].query["startHistoryId"] == ["9876543210"]
    found = jobs_of(hooks, "email_received")
    assert sorted(j.trigger_payload["id"] for j in found) == ["18c1", "18c2"]
    assert {j.user_id for j in found} == {"ana"}
    assert account_state(hooks, account)["history_id"] == "9876543300"
    assert receipts(hooks, "gmail")[0].outcome == "processed"


def test_pub_sub_redelivery_is_acknowledged_once(
    hooks: App, api: Client, google: tuple[FakeApi, FakeApi]
) -> None:
    """The same message id again: 200, a duplicate receipt, no second read of the mailbox."""
    _, gmail = google
    mailbox(hooks, gmail)
    push(api)
    reads = len(gmail.seen)
    again = push(api)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(gmail.seen) == reads and len(jobs_of(hooks, "email_received")) == 2


def test_forged_push_tokens_are_401_and_change_nothing(
    hooks: App, api: Client, google: tuple[FakeApi, FakeApi]
) -> None:
    """No token, one signed by another key, for another audience, or expired: 401, nothing read."""
    _, gmail = google
    mailbox(hooks, gmail)
    before = snapshot(hooks)
    is_problem(api.post(GMAIL, content=json.dumps(PUSH).encode()), 401)
    variants: list[dict[str, Any]] = [
        {"key_pem": OTHER_KEY_PEM},
        {"aud": "https://evil.example/hook"},
        {"iat": 1_000_000, "exp": 1_003_600},
    ]
    for variant in variants:
        is_problem(push(api, token=push_token(**variant)), 401)
    assert snapshot(hooks) == before and gmail.seen == []


def test_malformed_pushes_are_400(hooks: App, api: Client, google: tuple[FakeApi, FakeApi]) -> None:
    """Authentic but unreadable: 400, nothing written."""
    before = snapshot(hooks)
    for body in (b"{", b"{}", b'{"message": {"data": "***", "messageId": "1"}}'):
        authorization = {"Authorization": f"Bearer {push_token()}"}
        is_problem(api.post(GMAIL, content=body, headers=authorization), 400)
    assert snapshot(hooks) == before


def test_first_push_sets_the_baseline_and_an_old_one_resets_it(
    hooks: App, api: Client, google: tuple[FakeApi, FakeApi]
) -> None:
    """No stored history id: the push's becomes the baseline. A history id Gmail has forgotten
    (404): recorded, and the push's becomes the baseline."""
    _, gmail = google
    account = mailbox(hooks, gmail, history_id=None)
    push(api)
    assert receipts(hooks)[0].reason == "baseline_set" and gmail.seen == []
    assert account_state(hooks, account)["history_id"] == "9876543210"
    with hooks.store.write() as conn:
        from overture.storage.queries import integrations as store

        store.update_state(conn, account.id, {"history_id": "1"}, hooks.clock.now())
    second = {**PUSH, "message": {**PUSH["message"], "messageId": "m-2", "message_id": "m-2"}}
    push(api, second)
    assert receipts(hooks)[-1].reason == "history_expired"
    assert account_state(hooks, account)["history_id"] == "9876543210"
    assert jobs_of(hooks, "email_received") == []


def test_unknown_mailboxes(
    hooks: App, api: Client, google: tuple[FakeApi, FakeApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authenticated: acknowledged and recorded as refused, so Pub/Sub stops. Unauthenticated
    (no audience configured): 404 and nothing written."""
    answer = push(api).json()
    assert (answer["status"], answer["reason"]) == ("rejected", "unknown_mailbox")
    monkeypatch.delenv("OVERTURE_GMAIL_PUSH_AUDIENCE")
    before = snapshot(hooks)
    second = {**PUSH, "message": {**PUSH["message"], "messageId": "m-3", "message_id": "m-3"}}
    is_problem(api.post(GMAIL, content=json.dumps(second).encode()), 404)
    assert snapshot(hooks) == before
