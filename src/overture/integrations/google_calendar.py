"""Google Calendar push notifications and incremental sync (docs/integrations/google-calendar.md).

A notification has no body: its headers only say that something in a watched calendar changed.
So a receiver checks the channel token, answers at once, and the changes are fetched with
``events.list`` from the stored sync token, page by page, up to the ``nextSyncToken`` to store
for next time. An expired token (410 Gone) means a full listing, flagged ``reset`` so that the
caller replaces what it held for that calendar instead of treating everything as new.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, ConfigDict, Field

from overture.integrations.apis import (
    ApiError,
    EventDraft,
    header,
    http_date,
    idempotency_key,
    malformed,
    obj,
    request_json,
    text,
    unauthenticated,
)

SOURCE = "webhook:calendar"
SERVICE = "google calendar"
DEFAULT_BASE_URL = "https://www.googleapis.com/calendar/v3"
RESOURCE_STATES = frozenset({"sync", "exists", "not_exists"})
MAX_PAGES = 500

log = logging.getLogger(__name__)


class CalendarNotification(BaseModel):
    """The headers of one push notification."""

    model_config = ConfigDict(frozen=True)

    channel_id: str
    resource_id: str
    resource_state: str
    resource_uri: str | None
    message_number: int
    channel_expiration: datetime | None
    channel_token: str | None = Field(repr=False)

    @property
    def is_sync(self) -> bool:
        """The handshake sent when a channel is created: acknowledge it, fetch nothing."""
        return self.resource_state == "sync"


def parse_notification(headers: Mapping[str, str]) -> CalendarNotification:
    """Read the ``X-Goog-*`` headers, or raise ``WebhookRejected`` (400) naming the bad one."""
    values = {
        name: header(headers, f"X-Goog-{name}")
        for name in ("Channel-ID", "Resource-ID", "Resource-State", "Message-Number")
    }
    for name, value in values.items():
        if not value:
            raise malformed("missing_header", f"the X-Goog-{name} header is missing")
    state = str(values["Resource-State"])
    if state not in RESOURCE_STATES:
        raise malformed(
            "unknown_state", f"X-Goog-Resource-State {state!r} is not one of {sorted(RESOURCE_STATES)}"
        )
    number = str(values["Message-Number"])
    if not (number.isascii() and number.isdigit()):
        raise malformed("malformed_header", "X-Goog-Message-Number is not a whole number")
    return CalendarNotification(
        channel_id=str(values["Channel-ID"]),
        resource_id=str(values["Resource-ID"]),
        resource_state=state,
        resource_uri=header(headers, "X-Goog-Resource-URI"),
        message_number=int(number),
        channel_expiration=http_date(header(headers, "X-Goog-Channel-Expiration")),
        channel_token=header(headers, "X-Goog-Channel-Token"),
    )


def check_channel_token(notification: CalendarNotification, expected: str) -> None:
    """Refuse (401) a notification whose channel token is not the one we set on the watch."""
    if not expected:
        raise ValueError("the channel's expected token is empty; every watch must set one")
    given = notification.channel_token
    if given is None:
        raise unauthenticated("missing_token", "the X-Goog-Channel-Token header is missing")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
        raise unauthenticated("bad_token", "X-Goog-Channel-Token does not match the channel's token")


class Attendee(BaseModel):
    """One invitee. ``external`` is relative to the org's domains; rooms are never external."""

    model_config = ConfigDict(frozen=True)

    email: str
    name: str | None = None
    external: bool = False
    organizer: bool = False
    is_self: bool = False
    resource: bool = False
    response_status: str | None = None


class CalendarEvent(BaseModel):
    """A calendar event as the sequences see it, whatever calendar it came from."""

    model_config = ConfigDict(frozen=True)

    provider: str = "google"
    id: str
    calendar_id: str
    status: str
    summary: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    organizer_email: str | None = None
    organizer_name: str | None = None
    attendees: tuple[Attendee, ...] = ()
    meeting_url: str | None = None
    html_link: str | None = None
    recurring_event_id: str | None = None
    updated: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def has_external_attendees(self) -> bool:
        return any(a.external for a in self.attendees)

    def event(self) -> EventDraft:
        """The ``calendar_event_created`` event. Its sequence upserts the meeting, so a changed
        event is sent too; the key holds ``updated``, so each version is taken once."""
        version = self.updated.isoformat() if self.updated else "-"
        return EventDraft(
            type="calendar_event_created",
            source=SOURCE,
            payload=self.model_dump(mode="json") | {"has_external_attendees": self.has_external_attendees},
            idempotency_key=idempotency_key(self.provider, self.calendar_id, self.id, version),
        )


def is_external(address: str, org_domains: Iterable[str]) -> bool:
    """Whether an address is outside every org domain (a subdomain counts as inside)."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return not any(
        domain == d or domain.endswith("." + d) for d in (o.lower().strip(".") for o in org_domains)
    )


def _zone(name: Any, default: tzinfo) -> tzinfo:
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def _moment(raw: Any, default_zone: tzinfo) -> tuple[datetime | None, bool]:
    """An event time as an aware datetime, and whether it is an all-day date (taken as
    midnight in the event's or the calendar's time zone)."""
    if not isinstance(raw, dict):
        return None, False
    zone = _zone(raw.get("timeZone"), default_zone)
    if isinstance(raw.get("dateTime"), str):
        moment = datetime.fromisoformat(raw["dateTime"])
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)), False
    if isinstance(raw.get("date"), str):
        return datetime.combine(date.fromisoformat(raw["date"]), time(), zone), True
    return None, False


def normalise_event(
    item: Mapping[str, Any], calendar_id: str, org_domains: Iterable[str], default_zone: tzinfo = UTC
) -> CalendarEvent:
    """One ``events.list`` item as a ``CalendarEvent``. Deleted events come back as little more
    than ``{id, status: "cancelled"}``, so every other field is optional."""
    domains = tuple(org_domains)
    start, all_day = _moment(item.get("start"), default_zone)
    end, _ = _moment(item.get("end"), default_zone)
    organizer = obj(item.get("organizer"))
    attendees = []
    for raw in item.get("attendees") or []:
        address = text(raw.get("email")) if isinstance(raw, dict) else None
        if address is None:
            continue
        resource = raw.get("resource") is True
        attendees.append(
            Attendee(
                email=address,
                name=text(raw.get("displayName")),
                external=not resource and not raw.get("self") and is_external(address, domains),
                organizer=raw.get("organizer") is True,
                is_self=raw.get("self") is True,
                resource=resource,
                response_status=text(raw.get("responseStatus")),
            )
        )
    updated = text(item.get("updated"))
    return CalendarEvent(
        id=str(item["id"]),
        calendar_id=calendar_id,
        status=text(item.get("status")) or "confirmed",
        summary=text(item.get("summary")),
        start=start,
        end=end,
        all_day=all_day,
        organizer_email=text(organizer.get("email")),
        organizer_name=text(organizer.get("displayName")),
        attendees=tuple(attendees),
        meeting_url=text(item.get("hangoutLink")),
        html_link=text(item.get("htmlLink")),
        recurring_event_id=text(item.get("recurringEventId")),
        updated=datetime.fromisoformat(updated) if updated else None,
    )


@dataclass(frozen=True)
class CalendarSync:
    """What changed, and the token to ask from next time. ``reset``: the stored token had
    expired, so ``events`` is the whole calendar and local state for it must be replaced."""

    events: tuple[CalendarEvent, ...]
    next_sync_token: str
    reset: bool = False


class CalendarClient:
    """``events.list`` for one account, on an ``httpx.Client`` from ``apis.make_client``
    (base URL ``DEFAULT_BASE_URL`` in production, a loopback fake in tests)."""

    def __init__(self, http: httpx.Client, *, org_domains: Iterable[str] = (), page_size: int = 250) -> None:
        self._http = http
        self._domains = tuple(org_domains)
        self._page_size = page_size

    def changes(
        self, calendar_id: str, sync_token: str | None, *, time_min: datetime | None = None
    ) -> CalendarSync:
        """Events changed since ``sync_token`` (deleted ones included, ``status: cancelled``);
        with no token, a full listing from ``time_min``. A 410 turns into a full listing."""
        if sync_token is None:
            return self._list(calendar_id, None, time_min, reset=False)
        try:
            return self._list(calendar_id, sync_token, None, reset=False)
        except ApiError as exc:
            if exc.status != 410:
                raise
        return self._list(calendar_id, None, time_min, reset=True)

    def _list(
        self, calendar_id: str, sync_token: str | None, time_min: datetime | None, *, reset: bool
    ) -> CalendarSync:
        params: dict[str, str | int] = {"maxResults": self._page_size}
        if sync_token is not None:
            params["syncToken"] = sync_token
        elif time_min is not None:
            params["timeMin"] = time_min.astimezone(UTC).isoformat()
        path = f"/calendars/{quote(calendar_id, safe='')}/events"
        items: list[CalendarEvent] = []
        for _ in range(MAX_PAGES):
            page = request_json(self._http, "GET", path, service=SERVICE, params=params)
            zone = _zone(page.get("timeZone"), UTC)
            for item in page.get("items") or []:
                if not (isinstance(item, dict) and item.get("id")):
                    continue
                try:
                    items.append(normalise_event(item, calendar_id, self._domains, zone))
                except (TypeError, ValueError) as exc:
                    log.warning("skipping unreadable calendar event %s: %s", item["id"], type(exc).__name__)
            if isinstance(page.get("nextPageToken"), str):
                params["pageToken"] = page["nextPageToken"]
                continue
            token = page.get("nextSyncToken")
            if not isinstance(token, str):
                raise ApiError(SERVICE, "the last page carries no nextSyncToken")
            return CalendarSync(events=tuple(items), next_sync_token=token, reset=reset)
        raise ApiError(SERVICE, f"more than {MAX_PAGES} pages; giving up")
