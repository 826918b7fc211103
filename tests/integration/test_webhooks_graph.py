"""POST /webhooks/microsoft-graph in process on both backends, Graph played by a loopback fake: the
validation handshake, clientState against its stored hash, fetching what changed, lifecycle events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.storage.tables.crm import calendar_events
from tests.integration.test_http_api import Client, in_process, is_problem
from tests.integration.test_webhooks_accounts import (
    account_state,
    connect,
    hooks_app,
    jobs_of,
    receipts,
    snapshot,
)
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen
from tests.unit.test_integrations_graph import (
    EVENT_UPDATED,
    MESSAGE_CREATED,
    STATE,
    SUB,
    FakeGraph,
    body,
    lifecycle,
)

URL = "/webhooks/microsoft-graph"


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


class Graph(FakeGraph):
    """Messages and events as in the unit tests, plus ``/subscriptions/{id}/reauthorize``."""

    def __call__(self, request: Seen) -> Reply:
        if request.method == "POST" and request.path == f"/v1.0/subscriptions/{SUB}/reauthorize":
            return Reply(200, {})
        return super().__call__(request)


@pytest.fixture
def graph(hooks: App) -> Iterator[tuple[FakeApi, Any]]:
    with FakeApi(Graph()) as fake:
        account = connect(hooks, "graph", SUB, secret=STATE, base_url=f"{fake.url}/v1.0")
        yield fake, account


@pytest.fixture
def api(hooks: App) -> Iterator[Client]:
    with in_process(hooks) as client:
        yield client


def test_the_validation_handshake_is_answered_in_plain_text(hooks: App, api: Client) -> None:
    """`?validationToken=` comes back decoded, verbatim, as text/plain, and nothing is written."""
    before = snapshot(hooks)
    response = api.post(
        URL, params={"validationToken": "Validation: Testing client application reachability"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Validation: Testing client application reachability"
    assert snapshot(hooks) == before
    is_problem(api.post(URL, params={"validationToken": ""}), 400)


def test_changes_are_acknowledged_then_fetched(hooks: App, api: Client, graph: tuple[FakeApi, Any]) -> None:
    """202 at once; then the message becomes `email_received` and the event is stored in the CRM
    and becomes `calendar_event_created`."""
    fake, _ = graph
    response = api.post(URL, content=body(MESSAGE_CREATED, EVENT_UPDATED))
    assert response.status_code == 202
    assert [a["status"] for a in response.json()] == ["accepted", "accepted"]
    assert sorted(s.path for s in fake.seen) == sorted(
        [f"/v1.0/{MESSAGE_CREATED['resource']}", f"/v1.0/{EVENT_UPDATED['resource']}"]
    )
    [email] = jobs_of(hooks, "email_received")
    assert (
        email.trigger_payload["provider"] == "graph" and email.trigger_payload["mailbox"] == "ana@acme.test"
    )
    [meeting] = jobs_of(hooks, "calendar_event_created")
    assert meeting.trigger_payload["provider"] == "graph"
    with hooks.store.read() as conn:
        [row] = conn.execute(sa.select(calendar_events)).mappings().all()
    assert row["external_id"] == f"graph:{meeting.trigger_payload['id']}" and row["status"] == "confirmed"
    assert [r.outcome for r in receipts(hooks)] == ["processed", "processed"]


def test_graph_retries_are_duplicates(hooks: App, api: Client, graph: tuple[FakeApi, Any]) -> None:
    """The same collection again: 202, each item a duplicate, nothing fetched twice."""
    fake, _ = graph
    api.post(URL, content=body(MESSAGE_CREATED, EVENT_UPDATED))
    again = api.post(URL, content=body(MESSAGE_CREATED, EVENT_UPDATED))
    assert again.status_code == 202 and [a["status"] for a in again.json()] == ["duplicate", "duplicate"]
    assert len(fake.seen) == 2
    assert len(jobs_of(hooks, "email_received")) == len(jobs_of(hooks, "calendar_event_created")) == 1


def test_a_wrong_client_state_is_401_and_changes_nothing(
    hooks: App, api: Client, graph: tuple[FakeApi, Any]
) -> None:
    """No item carries the clientState of a subscription we hold: 401, nothing fetched or written."""
    fake, _ = graph
    before = snapshot(hooks)
    for item in (
        {**MESSAGE_CREATED, "clientState": "guess"},
        {k: v for k, v in MESSAGE_CREATED.items() if k != "clientState"},
        {**MESSAGE_CREATED, "subscriptionId": "unknown-sub"},
    ):
        is_problem(api.post(URL, content=body(item)), 401)
    assert snapshot(hooks) == before and fake.seen == []


def test_forged_items_in_a_genuine_collection_are_discarded(
    hooks: App, api: Client, graph: tuple[FakeApi, Any]
) -> None:
    """Only the item whose clientState matches is taken."""
    forged = {**EVENT_UPDATED, "clientState": "guess"}
    response = api.post(URL, content=body(forged, MESSAGE_CREATED))
    assert response.status_code == 202 and len(response.json()) == 1
    assert jobs_of(hooks, "calendar_event_created") == [] and len(jobs_of(hooks, "email_received")) == 1


def test_malformed_collections_are_400(hooks: App, api: Client, graph: tuple[FakeApi, Any]) -> None:
    """Unreadable: 400, nothing written."""
    before = snapshot(hooks)
    for raw in (b"{", b"[]", b'{"value": {}}', b'{"value": [{"clientState": "x"}]}'):
        is_problem(api.post(URL, content=raw), 400)
    assert snapshot(hooks) == before


def test_lifecycle_notifications_are_handled(hooks: App, api: Client, graph: tuple[FakeApi, Any]) -> None:
    """reauthorizationRequired: the subscription is reauthorized after the 202. subscriptionRemoved
    and missed: recorded with what to do, and noted on the account."""
    fake, account = graph
    items = [lifecycle("reauthorizationRequired"), lifecycle("subscriptionRemoved"), lifecycle("missed")]
    items[1]["subscriptionExpirationDateTime"] = "2025-11-27T12:00:00Z"
    items[2]["subscriptionExpirationDateTime"] = "2025-11-27T13:00:00Z"
    response = api.post(URL, content=body(*items))
    assert response.status_code == 202
    assert [(a["status"], a["reason"]) for a in response.json()] == [
        ("accepted", "reauthorizationRequired"),
        ("recorded", "subscriptionRemoved"),
        ("recorded", "missed"),
    ]
    assert [(s.method, s.path) for s in fake.seen] == [("POST", f"/v1.0/subscriptions/{SUB}/reauthorize")]
    assert receipts(hooks)[0].reason == "reauthorized"
    state = account_state(hooks, account)
    assert {"reauthorized_at", "removed_at", "missed_at"} <= set(state)


def test_a_deleted_event_is_marked_cancelled_and_not_sent(
    hooks: App, api: Client, graph: tuple[FakeApi, Any]
) -> None:
    """`deleted` needs no fetch: the stored event is marked cancelled, nothing is sent."""
    api.post(URL, content=body(EVENT_UPDATED))
    deleted = {
        **EVENT_UPDATED,
        "changeType": "deleted",
        "resourceData": {**EVENT_UPDATED["resourceData"], "@odata.etag": "x"},
    }
    assert api.post(URL, content=body(deleted)).json()[0]["status"] == "accepted"
    with hooks.store.read() as conn:
        [row] = conn.execute(sa.select(calendar_events)).mappings().all()
    assert row["status"] == "cancelled" and len(jobs_of(hooks, "calendar_event_created")) == 1
    assert receipts(hooks)[-1].reason == "deleted"


def test_changes_to_existing_mail_are_recorded_not_sent(
    hooks: App, api: Client, graph: tuple[FakeApi, Any]
) -> None:
    """Only new mail is `email_received`: an `updated` message (read, moved) is recorded, unfetched."""
    fake, _ = graph
    updated = {**MESSAGE_CREATED, "changeType": "updated"}
    assert api.post(URL, content=body(updated)).status_code == 202
    assert fake.seen == [] and jobs_of(hooks, "email_received") == []
    assert (receipts(hooks)[0].outcome, receipts(hooks)[0].reason) == ("recorded", "message_updated")
