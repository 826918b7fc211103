"""Microsoft Graph: the validation handshake, notification collections, clientState,
lifecycle events, and fetching the message or event a notification names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest

from overture.integrations.apis import ApiError, WebhookRejected, make_client
from overture.integrations.graph import (
    GraphClient,
    Lifecycle,
    ResourceKind,
    parse_notifications,
    validation_token,
)
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen

STATE = "secretClientValue"
SUB = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
TENANT = "84bd8158-6d4d-4958-8b9f-9d6445542f95"
MESSAGE_RESOURCE = f"Users/ad6c-user@{TENANT}/Messages/AAMkAGUwNjQ4ZjIxAAA="
EVENT_RESOURCE = f"Users/ad6c-user@{TENANT}/Events/AAMkAGEventAAA="

# A basic (ids-only) notification collection.
MESSAGE_CREATED: dict[str, Any] = {
    "id": "lsgTZMr9KwAAA",
    "subscriptionId": SUB,
    "subscriptionExpirationDateTime": "2025-11-27T22:11:09.952Z",
    "clientState": STATE,
    "changeType": "created",
    "resource": MESSAGE_RESOURCE,
    "tenantId": TENANT,
    "resourceData": {
        "@odata.type": "#Microsoft.Graph.Message",
        "@odata.id": MESSAGE_RESOURCE,
        "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
        "id": "AAMkAGUwNjQ4ZjIxAAA=",
    },
}
EVENT_UPDATED: dict[str, Any] = {
    **MESSAGE_CREATED,
    "id": "lsgTZMr9KwAAB",
    "changeType": "updated",
    "resource": EVENT_RESOURCE,
    "resourceData": {
        "@odata.type": "#Microsoft.Graph.Event",
        "@odata.id": EVENT_RESOURCE,
        "@odata.etag": 'W/"DwAAABYAAAB"',
        "id": "AAMkAGEventAAA=",
    },
}


def lifecycle(event: str, state: str = STATE) -> dict[str, Any]:
    return {
        "subscriptionId": SUB,
        "subscriptionExpirationDateTime": "2025-11-27T11:00:00.0000000Z",
        "tenantId": TENANT,
        "clientState": state,
        "lifecycleEvent": event,
    }


def body(*items: Any) -> bytes:
    return json.dumps({"value": list(items)}).encode()


def test_the_validation_handshake_token_is_returned_decoded() -> None:
    """The framework decodes the query; the token goes back verbatim as text/plain."""
    query = dict(parse_qsl("validationToken=Validation%3A+Testing+client+application+reachability"))
    assert validation_token(query) == "Validation: Testing client application reachability"
    assert validation_token({}) is None


@pytest.mark.parametrize("token", ["", "x" * 4097])
def test_an_absurd_validation_token_is_refused(token: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        validation_token({"validationToken": token})
    assert (caught.value.status, caught.value.reason) == (400, "malformed_validation_token")


def test_change_notifications_are_classified_by_resource() -> None:
    batch = parse_notifications(body(MESSAGE_CREATED, EVENT_UPDATED), STATE)
    assert batch.discarded == 0 and batch.lifecycle == ()
    message, event = batch.changes
    assert (message.resource_kind, message.change_type, message.resource_id) == (
        ResourceKind.MESSAGE,
        "created",
        "AAMkAGUwNjQ4ZjIxAAA=",
    )
    assert (message.tenant_id, message.resource) == (TENANT, MESSAGE_RESOURCE)
    assert message.subscription_expires == datetime(2025, 11, 27, 22, 11, 9, 952000, tzinfo=UTC)
    assert (event.resource_kind, event.change_type) == (ResourceKind.EVENT, "updated")


def test_the_resource_path_classifies_when_odata_type_is_missing() -> None:
    item = {**MESSAGE_CREATED, "resourceData": None, "resource": "me/events/AAA="}
    (change,) = parse_notifications(body(item), STATE).changes
    assert change.resource_kind == ResourceKind.EVENT and change.resource_id is None
    other = {
        **MESSAGE_CREATED,
        "resourceData": {"@odata.type": "#Microsoft.Graph.Contact"},
        "resource": "me/x",
    }
    assert parse_notifications(body(other), STATE).changes[0].resource_kind == ResourceKind.OTHER


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("reauthorizationRequired", Lifecycle.REAUTHORIZATION_REQUIRED),
        ("subscriptionRemoved", Lifecycle.SUBSCRIPTION_REMOVED),
        ("missed", Lifecycle.MISSED),
        ("somethingNew", "somethingNew"),
    ],
)
def test_lifecycle_notifications_are_classified(event: str, expected: Lifecycle | str) -> None:
    """Lifecycle items say what to do to the subscription; they are never changes."""
    batch = parse_notifications(body(lifecycle(event)), STATE)
    assert batch.changes == ()
    (item,) = batch.lifecycle
    assert item.lifecycle_event == expected and item.subscription_id == SUB


def test_items_with_a_wrong_client_state_are_discarded() -> None:
    """A batch may mix subscriptions; only the items that prove themselves are kept."""
    forged = {**MESSAGE_CREATED, "clientState": "guess"}
    missing = {k: v for k, v in MESSAGE_CREATED.items() if k != "clientState"}
    batch = parse_notifications(body(forged, EVENT_UPDATED, missing, lifecycle("missed", "guess")), STATE)
    assert [c.resource_kind for c in batch.changes] == [ResourceKind.EVENT]
    assert batch.discarded == 3 and batch.lifecycle == ()


def test_per_subscription_client_states() -> None:
    other = {**EVENT_UPDATED, "subscriptionId": "other-sub", "clientState": "other-secret"}
    unknown = {**EVENT_UPDATED, "subscriptionId": "unknown-sub"}
    batch = parse_notifications(
        body(MESSAGE_CREATED, other, unknown), {SUB: STATE, "other-sub": "other-secret"}
    )
    assert [c.subscription_id for c in batch.changes] == [SUB, "other-sub"] and batch.discarded == 1


@pytest.mark.parametrize(
    "items",
    [
        [{**MESSAGE_CREATED, "clientState": "guess"}],
        [{**MESSAGE_CREATED, "clientState": None}],
        [{**MESSAGE_CREATED, "clientState": "secretClientValuE"}, lifecycle("missed", "x")],
    ],
)
def test_a_batch_with_no_genuine_item_is_refused(items: list[dict[str, Any]]) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_notifications(body(*items), STATE)
    assert (caught.value.status, caught.value.reason) == (401, "bad_client_state")


def test_an_empty_collection_is_fine() -> None:
    assert parse_notifications(body(), STATE).changes == ()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "malformed_body"),
        (b"<xml/>", "malformed_body"),
        (b"[]", "missing_value"),
        (b'{"value": {}}', "missing_value"),
        (b'{"value": ["x"]}', "invalid_item"),
        (body({**MESSAGE_CREATED, "subscriptionId": None}), "invalid_item"),
    ],
)
def test_malformed_collections_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_notifications(raw, STATE)
    assert (caught.value.status, caught.value.reason) == (400, reason)


def test_dedupe_keys_are_stable_per_change_version() -> None:
    """Graph's retry of the same item dedupes; a new version of the resource does not."""
    (first,) = parse_notifications(body(MESSAGE_CREATED), STATE).changes
    (again,) = parse_notifications(body(MESSAGE_CREATED), STATE).changes
    changed = {**MESSAGE_CREATED, "resourceData": {**MESSAGE_CREATED["resourceData"], "@odata.etag": 'W/"2"'}}
    (newer,) = parse_notifications(body(changed), STATE).changes
    (missed,) = parse_notifications(body(lifecycle("missed")), STATE).lifecycle
    assert first.dedupe_key == again.dedupe_key != newer.dedupe_key
    assert missed.dedupe_key.startswith(f"graph:{SUB}:missed:")


GRAPH_MESSAGE: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ad6c')/messages/$entity",
    "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
    "id": "AAMkAGUwNjQ4ZjIxAAA=",
    "conversationId": "AAQkAGUwNjQ4ZjIxConv=",
    "subject": "Pricing question",
    "bodyPreview": "Hi Ana, what would 40 seats cost?",
    "receivedDateTime": "2025-11-21T09:58:12Z",
    "from": {"emailAddress": {"name": "Sam Buyer", "address": "sam@globex.example"}},
    "toRecipients": [{"emailAddress": {"name": "Ana Rep", "address": "ana@acme.test"}}],
    "ccRecipients": [{"emailAddress": {"name": "", "address": "lee@acme.test"}}],
}
GRAPH_EVENT: dict[str, Any] = {
    "id": "AAMkAGEventAAA=",
    "subject": "Globex pricing call",
    "isAllDay": False,
    "isCancelled": False,
    "start": {"dateTime": "2025-11-24T09:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2025-11-24T09:30:00.0000000", "timeZone": "UTC"},
    "organizer": {"emailAddress": {"name": "Ana Rep", "address": "ana@acme.test"}},
    "attendees": [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Sam Buyer", "address": "sam@globex.example"},
        },
        {
            "type": "resource",
            "status": {"response": "accepted"},
            "emailAddress": {"name": "Room", "address": "r@x.io"},
        },
        {"type": "optional", "emailAddress": {"name": "No address"}},
    ],
    "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/abc"},
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMk",
    "lastModifiedDateTime": "2025-11-21T08:00:00.1234567Z",
    "seriesMasterId": None,
}


class FakeGraph:
    def __call__(self, request: Seen) -> Reply:
        if request.path == f"/v1.0/{MESSAGE_RESOURCE}":
            return Reply(body=GRAPH_MESSAGE)
        if request.path == f"/v1.0/{EVENT_RESOURCE}":
            return Reply(body=GRAPH_EVENT)
        return Reply(
            404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found."}}
        )


@pytest.fixture
def graph() -> Iterator[tuple[FakeApi, GraphClient]]:
    with FakeApi(FakeGraph()) as api, make_client(f"{api.url}/v1.0", token="eyJ0eXAi.graph") as http:
        yield api, GraphClient(http, org_domains=["acme.test"])


def test_a_message_is_fetched_and_normalised(graph: tuple[FakeApi, GraphClient]) -> None:
    api, client = graph
    message = client.message(MESSAGE_RESOURCE, "ana@acme.test")
    assert message is not None
    assert (message.provider, message.id, message.thread_id) == (
        "graph",
        "AAMkAGUwNjQ4ZjIxAAA=",
        "AAQkAGUwNjQ4ZjIxConv=",
    )
    assert (message.sender, message.subject) == ("Sam Buyer <sam@globex.example>", "Pricing question")
    assert message.to == ("ana@acme.test", "lee@acme.test")
    assert message.date == datetime(2025, 11, 21, 9, 58, 12, tzinfo=UTC)
    assert message.snippet == "Hi Ana, what would 40 seats cost?"
    seen = api.seen[0]
    assert seen.query["$select"][0].startswith("id,conversationId,subject")
    assert seen.headers["prefer"] == 'outlook.timezone="UTC"'
    assert seen.headers["authorization"] == "Bearer eyJ0eXAi.graph"
    assert message.event().idempotency_key == "graph:ana@acme.test:AAMkAGUwNjQ4ZjIxAAA="


def test_an_event_is_fetched_and_normalised(graph: tuple[FakeApi, GraphClient]) -> None:
    _, client = graph
    event = client.event(f"/{EVENT_RESOURCE}", "ana@acme.test")
    assert event is not None
    assert (event.provider, event.summary, event.status) == ("graph", "Globex pricing call", "confirmed")
    assert event.start == datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
    assert event.end is not None and event.end - event.start == timedelta(minutes=30)
    assert (event.organizer_email, event.organizer_name) == ("ana@acme.test", "Ana Rep")
    assert [(a.email, a.external, a.resource, a.response_status) for a in event.attendees] == [
        ("sam@globex.example", True, False, "none"),
        ("r@x.io", False, True, "accepted"),
    ]
    assert event.meeting_url == "https://teams.microsoft.com/l/meetup-join/abc"
    assert event.updated is not None and event.updated.tzinfo is not None
    assert event.event().idempotency_key.startswith("graph:ana@acme.test:AAMkAGEventAAA=:2025-11-21T08:00:00")


def test_event_times_honour_an_iana_zone() -> None:
    """If Graph ignores our Prefer header and names an IANA zone, the time is read in it."""
    raw = {**GRAPH_EVENT, "start": {"dateTime": "2025-11-24T10:00:00.0000000", "timeZone": "Europe/Paris"}}
    with FakeApi(lambda _r: Reply(body=raw)) as api, make_client(api.url) as http:
        event = GraphClient(http).event("me/events/x", "c")
    assert event is not None and event.start == datetime(2025, 11, 24, 9, 0, tzinfo=UTC)


def test_a_vanished_resource_is_none(graph: tuple[FakeApi, GraphClient]) -> None:
    _, client = graph
    assert client.message("Users/u/Messages/deleted", "m") is None
    assert client.event("Users/u/Events/deleted", "c") is None


@pytest.mark.parametrize(
    "resource",
    ["https://evil.example/x", "Users/../../x", "./Users", "me/messages/x?$expand=all", "a\\b", "", "  /"],
)
def test_resource_paths_that_could_leave_the_base_url_are_refused(
    graph: tuple[FakeApi, GraphClient], resource: str
) -> None:
    """Our bearer token never goes anywhere but the Graph base URL."""
    api, client = graph
    with pytest.raises(ApiError, match="refusing"):
        client.message(resource, "m")
    assert api.seen == []


def test_a_protocol_relative_resource_stays_on_the_base_url(graph: tuple[FakeApi, GraphClient]) -> None:
    api, client = graph
    assert client.message("//evil.example/x", "m") is None
    assert api.seen[0].path == "/v1.0/evil.example/x"


def test_an_empty_expected_client_state_matches_nothing() -> None:
    """A subscription configured without a secret cannot be forged with an empty one."""
    with pytest.raises(WebhookRejected):
        parse_notifications(body({**MESSAGE_CREATED, "clientState": ""}), "")


def test_fields_of_the_wrong_type_read_as_absent() -> None:
    item = {**MESSAGE_CREATED, "tenantId": 42, "changeType": ["created"], "resourceData": {"id": 7}}
    (change,) = parse_notifications(body(item), STATE).changes
    assert (change.tenant_id, change.change_type, change.resource_id) == (None, None, None)


def test_an_answer_without_an_id_is_an_api_error() -> None:
    with (
        FakeApi(lambda _r: Reply(body={"subject": "x"})) as api,
        make_client(api.url) as http,
        pytest.raises(ApiError, match="has no id"),
    ):
        GraphClient(http).message("me/messages/x", "m")
