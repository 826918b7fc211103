"""Google Calendar: push notification headers, channel token, incremental sync over a fake API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from overture.core.events import parse_event
from overture.errors import RateLimited
from overture.integrations.apis import ApiError, WebhookRejected, make_client
from overture.integrations.google_calendar import (
    CalendarClient,
    check_channel_token,
    is_external,
    normalise_event,
    parse_notification,
)
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen

# The headers of the first message on a new channel, as sent by Google.
SYNC_HEADERS = {
    "X-Goog-Channel-ID": "01234567-89ab-cdef-0123456789ab",
    "X-Goog-Channel-Token": "org=acme&secret=s3cr3t",
    "X-Goog-Channel-Expiration": "Tue, 19 Nov 2013 01:13:52 GMT",
    "X-Goog-Resource-ID": "ret08u3rv24htgh289g",
    "X-Goog-Resource-URI": "https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json",
    "X-Goog-Resource-State": "sync",
    "X-Goog-Message-Number": "1",
    "User-Agent": "APIs-Google",
}
EXISTS_HEADERS = {**SYNC_HEADERS, "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "10"}
TOKEN = "org=acme&secret=s3cr3t"

TIMED_EVENT: dict[str, Any] = {
    "kind": "calendar#event",
    "etag": '"3181161784712000"',
    "id": "4p5lq1s0aa2fm4umtcdgbh9n3q",
    "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=NHA1",
    "created": "2025-11-20T08:00:00.000Z",
    "updated": "2025-11-20T08:00:01.356Z",
    "summary": "Acme <> Globex discovery",
    "creator": {"email": "ana@acme.test", "self": True},
    "organizer": {"email": "ana@acme.test", "displayName": "Ana Rep", "self": True},
    "start": {"dateTime": "2025-11-24T10:00:00+01:00", "timeZone": "Europe/Paris"},
    "end": {"dateTime": "2025-11-24T10:45:00+01:00", "timeZone": "Europe/Paris"},
    "iCalUID": "4p5lq1s0aa2fm4umtcdgbh9n3q@google.com",
    "sequence": 0,
    "attendees": [
        {"email": "ana@acme.test", "organizer": True, "self": True, "responseStatus": "accepted"},
        {"email": "sam@globex.example", "displayName": "Sam Buyer", "responseStatus": "needsAction"},
        {"email": "lee@eu.acme.test", "responseStatus": "tentative", "optional": True},
        {
            "email": "c_188@resource.calendar.google.com",
            "displayName": "Room 4",
            "resource": True,
            "responseStatus": "accepted",
        },
    ],
    "hangoutLink": "https://meet.google.com/abc-defg-hij",
}
ALL_DAY_EVENT: dict[str, Any] = {
    "id": "allday1",
    "status": "confirmed",
    "summary": "Offsite",
    "start": {"date": "2025-11-25"},
    "end": {"date": "2025-11-26"},
    "updated": "2025-11-20T09:00:00.000Z",
}
CANCELLED_EVENT: dict[str, Any] = {
    "kind": "calendar#event",
    "etag": '"1"',
    "id": "gone1",
    "status": "cancelled",
}


def test_the_sync_handshake_is_recognised() -> None:
    """The first message on a channel: acknowledge, fetch nothing."""
    notification = parse_notification(SYNC_HEADERS)
    assert notification.is_sync and notification.message_number == 1
    assert notification.channel_id == "01234567-89ab-cdef-0123456789ab"
    assert notification.resource_id == "ret08u3rv24htgh289g"
    assert notification.channel_expiration == datetime(2013, 11, 19, 1, 13, 52, tzinfo=UTC)
    assert notification.resource_uri is not None and "primary" in notification.resource_uri
    assert "s3cr3t" not in repr(notification)


def test_an_exists_notification_with_lower_case_headers() -> None:
    """ASGI lower-cases header names; optional headers may be absent."""
    headers = {k.lower(): v for k, v in EXISTS_HEADERS.items() if k != "X-Goog-Channel-Expiration"}
    notification = parse_notification(headers)
    assert (notification.resource_state, notification.message_number) == ("exists", 10)
    assert not notification.is_sync and notification.channel_expiration is None
    assert notification.channel_token == TOKEN


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-Goog-Channel-ID": None}, "missing_header"),
        ({"X-Goog-Resource-ID": None}, "missing_header"),
        ({"X-Goog-Resource-State": None}, "missing_header"),
        ({"X-Goog-Message-Number": None}, "missing_header"),
        ({"X-Goog-Channel-ID": ""}, "missing_header"),
        ({"X-Goog-Resource-State": "deleted"}, "unknown_state"),
        ({"X-Goog-Message-Number": "ten"}, "malformed_header"),
        ({"X-Goog-Message-Number": "-1"}, "malformed_header"),
    ],
)
def test_malformed_notifications_are_refused(change: dict[str, str | None], reason: str) -> None:
    headers = {k: v for k, v in {**EXISTS_HEADERS, **change}.items() if v is not None}
    with pytest.raises(WebhookRejected) as caught:
        parse_notification(headers)
    assert (caught.value.status, caught.value.reason) == (400, reason)


def test_an_unreadable_expiration_is_ignored() -> None:
    notification = parse_notification({**EXISTS_HEADERS, "X-Goog-Channel-Expiration": "whenever"})
    assert notification.channel_expiration is None


def test_the_channel_token_is_checked() -> None:
    check_channel_token(parse_notification(EXISTS_HEADERS), TOKEN)


@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "missing_token"), ("org=acme&secret=guess", "bad_token"), ("", "bad_token"), ("é", "bad_token")],
)
def test_a_wrong_or_missing_channel_token_is_refused(token: str | None, reason: str) -> None:
    headers = {k: v for k, v in {**EXISTS_HEADERS, "X-Goog-Channel-Token": token}.items() if v is not None}
    with pytest.raises(WebhookRejected) as caught:
        check_channel_token(parse_notification(headers), TOKEN)
    assert (caught.value.status, caught.value.reason) == (401, reason)


@pytest.mark.parametrize(
    ("address", "domains", "external"),
    [
        ("sam@globex.example", ["acme.test"], True),
        ("ana@acme.test", ["acme.test"], False),
        ("Ana@ACME.Test", ["acme.test"], False),
        ("lee@eu.acme.test", ["acme.test"], False),
        ("eve@notacme.test", ["acme.test"], True),
        ("x@acme.test", ["globex.example", "ACME.test"], False),
        ("x@acme.test", [], True),
    ],
)
def test_external_is_relative_to_the_org_domains(address: str, domains: list[str], external: bool) -> None:
    """Subdomains are inside; a look-alike suffix is not."""
    assert is_external(address, domains) is external


def test_a_timed_event_is_normalised() -> None:
    """Aware start and end, the organizer, attendees flagged external relative to the org."""
    event = normalise_event(TIMED_EVENT, "ana@acme.test", ["acme.test"])
    assert event.start == datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
    assert event.end == datetime(2025, 11, 24, 9, 45, tzinfo=UTC)
    assert event.start is not None and event.start.utcoffset() == timedelta(hours=1)
    assert (event.summary, event.status, event.all_day) == ("Acme <> Globex discovery", "confirmed", False)
    assert (event.organizer_email, event.organizer_name) == ("ana@acme.test", "Ana Rep")
    assert [(a.email, a.external, a.is_self, a.resource) for a in event.attendees] == [
        ("ana@acme.test", False, True, False),
        ("sam@globex.example", True, False, False),
        ("lee@eu.acme.test", False, False, False),
        ("c_188@resource.calendar.google.com", False, False, True),
    ]
    assert event.has_external_attendees and not event.cancelled
    assert event.meeting_url == "https://meet.google.com/abc-defg-hij"
    assert event.updated == datetime(2025, 11, 20, 8, 0, 1, 356000, tzinfo=UTC)


def test_an_all_day_event_starts_at_midnight_in_the_calendars_zone() -> None:
    event = normalise_event(ALL_DAY_EVENT, "primary", [], ZoneInfo("America/New_York"))
    assert event.all_day
    assert event.start == datetime(2025, 11, 25, tzinfo=ZoneInfo("America/New_York"))
    assert event.start is not None and event.start.utcoffset() == timedelta(hours=-5)


def test_a_naive_time_takes_its_time_zone_field() -> None:
    raw = {"id": "n", "start": {"dateTime": "2025-11-24T10:00:00", "timeZone": "Asia/Tokyo"}}
    event = normalise_event(raw, "primary", [])
    assert event.start is not None and event.start.utcoffset() == timedelta(hours=9)


def test_a_deleted_event_is_just_an_id_and_a_status() -> None:
    event = normalise_event(CANCELLED_EVENT, "primary", ["acme.test"])
    assert event.cancelled and event.start is None and event.attendees == ()


def test_the_event_draft_is_valid_and_versioned() -> None:
    """One ``calendar_event_created`` per event version; valid for the engine."""
    event = normalise_event(TIMED_EVENT, "ana@acme.test", ["acme.test"])
    draft = event.event()
    assert draft.type == "calendar_event_created" and draft.source == "webhook:calendar"
    assert draft.idempotency_key == (
        "google:ana@acme.test:4p5lq1s0aa2fm4umtcdgbh9n3q:2025-11-20T08:00:01.356000+00:00"
    )
    assert draft.payload["has_external_attendees"] is True
    assert draft.payload["start"] == "2025-11-24T10:00:00+01:00"
    parsed = parse_event(draft.for_user("acme", "ana"), datetime(2025, 11, 21, tzinfo=UTC))
    assert parsed.payload["attendees"][1]["email"] == "sam@globex.example"


class FakeCalendar:
    """Speaks events.list: pages of items, nextPageToken, nextSyncToken, 410 for old tokens."""

    def __init__(self) -> None:
        self.expired_tokens = {"stale-token"}

    def __call__(self, request: Seen) -> Reply:
        if request.path != "/calendar/v3/calendars/ana%40acme.test/events":
            return Reply(404, {"error": {"code": 404, "message": "Not Found"}})
        query = {k: v[0] for k, v in request.query.items()}
        if query.get("syncToken") in self.expired_tokens:
            message = "Sync token is no longer valid, a full sync is required."
            errors = [{"domain": "global", "reason": "fullSyncRequired", "message": message}]
            return Reply(410, {"error": {"errors": errors, "code": 410, "message": message}})
        base = {"kind": "calendar#events", "summary": "ana@acme.test", "timeZone": "Europe/Paris"}
        if "pageToken" not in query:
            return Reply(body={**base, "items": [TIMED_EVENT, CANCELLED_EVENT], "nextPageToken": "page-2"})
        return Reply(body={**base, "items": [ALL_DAY_EVENT, {"kind": "no id"}], "nextSyncToken": "sync-2"})


@pytest.fixture
def calendar() -> Iterator[tuple[FakeApi, CalendarClient]]:
    with FakeApi(FakeCalendar()) as api, make_client(f"{api.url}/calendar/v3", token="ya29.a0") as http:
        yield api, CalendarClient(http, org_domains=["acme.test"], page_size=2)


def test_incremental_sync_follows_pages_to_the_next_sync_token(
    calendar: tuple[FakeApi, CalendarClient],
) -> None:
    """Both pages are read with the same sync token; the last one carries the token to store."""
    api, client = calendar
    result = client.changes("ana@acme.test", "sync-1")
    assert [e.id for e in result.events] == ["4p5lq1s0aa2fm4umtcdgbh9n3q", "gone1", "allday1"]
    assert result.next_sync_token == "sync-2" and not result.reset
    first, second = api.seen
    assert first.query == {"maxResults": ["2"], "syncToken": ["sync-1"]}
    assert second.query == {"maxResults": ["2"], "syncToken": ["sync-1"], "pageToken": ["page-2"]}
    assert first.headers["authorization"] == "Bearer ya29.a0"
    allday = result.events[2]
    assert allday.start == datetime(2025, 11, 25, tzinfo=ZoneInfo("Europe/Paris"))


def test_an_expired_sync_token_turns_into_a_full_resync(calendar: tuple[FakeApi, CalendarClient]) -> None:
    """410 Gone: list everything again (from time_min), flagged reset."""
    api, client = calendar
    since = datetime(2025, 11, 1, tzinfo=timezone(timedelta(hours=1)))
    result = client.changes("ana@acme.test", "stale-token", time_min=since)
    assert result.reset and result.next_sync_token == "sync-2" and len(result.events) == 3
    assert api.seen[0].query["syncToken"] == ["stale-token"]
    assert api.seen[1].query == {"maxResults": ["2"], "timeMin": ["2025-10-31T23:00:00+00:00"]}


def test_the_first_sync_has_no_token(calendar: tuple[FakeApi, CalendarClient]) -> None:
    api, client = calendar
    result = client.changes("ana@acme.test", None)
    assert not result.reset and api.seen[0].query == {"maxResults": ["2"]}


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(429, {"error": {"message": "Rate Limit Exceeded"}}, {"Retry-After": "5"}), RateLimited),
        (Reply(403, {"error": {"code": 403, "message": "Insufficient Permission"}}), ApiError),
        (Reply(500, {"error": {"code": 500, "message": "Backend Error"}}), ApiError),
        (Reply(200, {"items": []}), ApiError),
    ],
)
def test_api_failures_surface(reply: Reply, error: type[Exception]) -> None:
    """Rate limits defer; other failures, and a last page without a sync token, raise."""
    with FakeApi(lambda _r: reply) as api, make_client(api.url) as http, pytest.raises(error):
        CalendarClient(http).changes("primary", "sync-1")


def test_an_empty_expected_token_is_a_configuration_error() -> None:
    """An empty token would accept a notification without one; every watch sets a token."""
    with pytest.raises(ValueError, match="empty"):
        check_channel_token(parse_notification({**EXISTS_HEADERS, "X-Goog-Channel-Token": ""}), "")


def test_an_unreadable_event_is_skipped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    """One bad item must not block every later sync; it is logged by id only."""
    bad = {"id": "bad1", "summary": "Secret agenda", "start": {"dateTime": "24/11/2025 10:00"}}
    page = {"items": [bad, CANCELLED_EVENT], "nextSyncToken": "s2"}
    with FakeApi(lambda _r: Reply(body=page)) as api, make_client(api.url) as http:
        result = CalendarClient(http).changes("primary", "s1")
    assert [e.id for e in result.events] == ["gone1"]
    assert "bad1" in caplog.text and "Secret agenda" not in caplog.text
