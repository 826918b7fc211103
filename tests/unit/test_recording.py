"""Recording bots: the pure decisions (is there a call to record, when, what must change) and
the MeetingBaaS bots client over the wire against the loopback fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from overture.core.recording import (
    JOIN_LEAD,
    Change,
    Want,
    bot_change,
    external_guests,
    meeting_link,
    org_domains,
    plan_recording,
    video_link,
)
from overture.core.webhooks import Outcome, calendar_emits, holds_key
from overture.integrations.apis import ApiError
from overture.integrations.meetingbaas_bots import BotRequest, MeetingBaasBots, bots_client
from tests.fake_meetingbaas import API_KEY, FakeMeetingBaas

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
START = NOW + timedelta(hours=5)
MEET = "https://meet.google.com/abc-defg-hij"


@pytest.mark.parametrize(
    ("value", "link"),
    [
        (MEET, MEET),
        (
            "Join: https://acme.zoom.us/j/8123456789?pwd=xYz. Dial-in below",
            "https://acme.zoom.us/j/8123456789?pwd=xYz",
        ),
        (
            "<a href='https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0'>Join</a>",
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0",
        ),
        ({"entryPoints": [{"entryPointType": "phone", "uri": "tel:+1-555"}, {"uri": MEET}]}, MEET),
        ("Room 4, https://example.com/agenda", None),
        (None, None),
    ],
)
def test_video_links_are_found_where_calendars_put_them(value: Any, link: str | None) -> None:
    """Meet, Zoom and Teams URLs in text, HTML or conference data; other links are not calls."""
    assert video_link(value) == link


def test_the_event_link_is_taken_in_order_of_trust() -> None:
    """``meeting_url`` beats the description; the stored location is the last resort."""
    zoom = "https://zoom.us/j/1"
    assert meeting_link({"meeting_url": MEET, "description": f"or {zoom}"}) == MEET
    assert meeting_link({"description": f"Join {zoom}"}) == zoom
    assert meeting_link({"location": "HQ"}, stored_location=MEET) == MEET
    assert meeting_link({}) is None


def test_outside_guests_are_those_of_no_org_domain() -> None:
    """The profile's domains win over users' emails; subdomains are inside; rooms are no guests."""
    domains = org_domains({"domains": ["acme.test"]}, ["ana@other.test"])
    assert domains == ("acme.test",)
    assert org_domains({}, ["ana@Acme.test", None, "bo@acme.test"]) == ("acme.test",)
    attendees = [
        {"email": "ana@acme.test"},
        {"email": "lee@eu.acme.test"},
        {"email": "room@resource.calendar.google.com", "resource": True},
        {"email": "sam@buyer.example"},
        {"email": "sam@buyer.example"},
        "junk",
    ]
    assert external_guests(attendees, domains) == ["sam@buyer.example"]
    assert external_guests([{"email": "x@y.z", "external": True}], ()) == ["x@y.z"]


def test_a_future_external_call_with_a_link_is_recorded_a_minute_early() -> None:
    plan = plan_recording(cancelled=False, start=START, now=NOW, guests=["s@b.x"], link=MEET, has_bot=False)
    assert (plan.want, plan.reason, plan.join_at) == (Want.SCHEDULE, "external_call", START - JOIN_LEAD)


@pytest.mark.parametrize(
    ("changes", "has_bot", "want", "reason"),
    [
        ({"guests": []}, False, Want.LEAVE, "no_external_attendees"),
        ({"guests": []}, True, Want.CANCEL, "no_external_attendees"),
        ({"link": None}, False, Want.LEAVE, "no_video_link"),
        ({"cancelled": True}, True, Want.CANCEL, "event_cancelled"),
        ({"cancelled": True}, False, Want.LEAVE, "event_cancelled"),
        ({"start": NOW - timedelta(minutes=5)}, True, Want.LEAVE, "already_started"),
    ],
)
def test_no_bot_is_wanted_and_one_there_is_taken_back_unless_too_late(
    changes: dict[str, Any], has_bot: bool, want: Want, reason: str
) -> None:
    facts: dict[str, Any] = {
        "cancelled": False,
        "start": START,
        "now": NOW,
        "guests": ["s@b.x"],
        "link": MEET,
    }
    plan = plan_recording(**{**facts, **changes}, has_bot=has_bot)
    assert (plan.want, plan.reason) == (want, reason)


@pytest.mark.parametrize(
    ("want", "bot", "join_at", "url", "change"),
    [
        (Want.SCHEDULE, None, START, MEET, Change.CREATE),
        (Want.SCHEDULE, "b1", START, MEET, Change.KEEP),
        (Want.SCHEDULE, "b1", START + timedelta(hours=1), MEET, Change.REPLACE),
        (Want.SCHEDULE, "b1", START, "https://zoom.us/j/2", Change.REPLACE),
        (Want.CANCEL, "b1", None, None, Change.DELETE),
        (Want.CANCEL, None, None, None, Change.NOTHING),
    ],
)
def test_what_must_change_at_meetingbaas(
    want: Want, bot: str | None, join_at: datetime | None, url: str | None, change: Change
) -> None:
    assert bot_change(want, bot, START, MEET, join_at, url) == change


def test_cancellations_are_sent_only_to_take_a_bot_back() -> None:
    assert not calendar_emits(START, "confirmed", None, "cancelled")
    assert calendar_emits(START, "confirmed", None, "cancelled", recorded=True)
    assert not calendar_emits(START, "cancelled", None, "cancelled", recorded=True)
    assert not calendar_emits(None, None, None, "cancelled", recorded=True)


def test_refused_failed_and_unrouted_receipts_never_block_a_later_delivery() -> None:
    """Only a still-unrouted redelivery is a duplicate of the unrouted receipt."""
    for first in (Outcome.FAILED, Outcome.REJECTED):
        assert not holds_key(first, Outcome.PROCESSED) and not holds_key(first, Outcome.UNROUTED)
    assert not holds_key(Outcome.UNROUTED, Outcome.PROCESSED)
    assert holds_key(Outcome.UNROUTED, Outcome.UNROUTED)
    assert holds_key(Outcome.PROCESSED, Outcome.PROCESSED) and holds_key(Outcome.RECORDED, Outcome.UNROUTED)


# -- the client, against the fake ------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeMeetingBaas]:
    with FakeMeetingBaas() as server:
        yield server


def request(**changes: Any) -> BotRequest:
    base: dict[str, Any] = {
        "meeting_url": MEET,
        "bot_name": "Overture notetaker",
        "join_at": START,
        "deduplication_key": "ovt-1",
        "extra": {"overture_account": "ana-recorder", "calendar_event_id": "ce1"},
        "webhook_url": "https://overture.example/webhooks/meetingbaas",
    }
    return BotRequest(**{**base, **changes})


def test_a_bot_is_sent_as_the_join_request_says(fake: FakeMeetingBaas) -> None:
    """POST /bots with our key: start_time in whole seconds, transcription on, extra carried."""
    with bots_client(fake.url, API_KEY) as http:
        bot_id = MeetingBaasBots(http).create(request())
    [call] = fake.of("POST")
    sent = fake.bots[bot_id].request
    assert call.path == "/bots" and call.headers["x-meeting-baas-api-key"] == API_KEY
    assert "authorization" not in call.headers
    assert sent == {
        "meeting_url": MEET,
        "bot_name": "Overture notetaker",
        "reserved": False,
        "start_time": int(START.timestamp()),
        "speech_to_text": {"provider": "Default"},
        "deduplication_key": "ovt-1",
        "extra": {"overture_account": "ana-recorder", "calendar_event_id": "ce1"},
        "webhook_url": "https://overture.example/webhooks/meetingbaas",
    }
    assert "meeting.google" not in repr(request())


def test_bots_are_found_by_extra_and_removed_once(fake: FakeMeetingBaas) -> None:
    """A lost creation is found by its extra; removing a bot twice is not an error."""
    with bots_client(fake.url, API_KEY) as http:
        api = MeetingBaasBots(http)
        bot_id = api.create(request(extra={"overture_request": "ovt-7"}))
        assert api.find("overture_request", "ovt-7") == bot_id
        assert api.find("overture_request", "ovt-8") is None
        assert api.delete(bot_id) is True
        assert api.delete(bot_id) is False


def test_refusals_and_outages_are_api_errors_that_say_which(fake: FakeMeetingBaas) -> None:
    """A 4xx is final, a 5xx worth retrying; a wrong key is refused; the key is never in one."""
    with bots_client(fake.url, "wrong-key") as http, pytest.raises(ApiError) as refused:
        MeetingBaasBots(http).create(request())
    assert refused.value.status == 401 and not refused.value.retryable
    assert "wrong-key" not in str(refused.value)
    fake.fail("create", 503, "busy")
    with bots_client(fake.url, API_KEY) as http:
        api = MeetingBaasBots(http)
        with pytest.raises(ApiError) as busy:
            api.create(request())
        assert busy.value.retryable
        api.create(request())
        with pytest.raises(ApiError) as twice:
            api.create(request())
    assert twice.value.status == 409
