"""Microsoft Graph change notifications for Outlook mail and calendar (docs/integrations/microsoft-graph.md).

Graph proves nothing cryptographically in a basic notification: each item echoes the
``clientState`` secret we set on the subscription, so items whose secret is wrong are dropped.
Items carry ids, not content, so the message or event is fetched afterwards with the client
below. Lifecycle notifications (``reauthorizationRequired``, ``subscriptionRemoved``,
``missed``) come in the same envelope and say what to do to the subscription instead.
"""

from __future__ import annotations

import email.utils
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, ConfigDict

from overture.integrations import safe_json
from overture.integrations.apis import (
    ApiError,
    idempotency_key,
    malformed,
    obj,
    request_json,
    text,
    unauthenticated,
)
from overture.integrations.gmail import EmailMessage
from overture.integrations.google_calendar import Attendee, CalendarEvent, is_external

SERVICE = "microsoft graph"
DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
MAX_VALIDATION_TOKEN = 4096
_MESSAGE_FIELDS = "id,conversationId,subject,bodyPreview,from,toRecipients,ccRecipients,receivedDateTime"
_EVENT_FIELDS = (
    "id,subject,start,end,isAllDay,isCancelled,organizer,attendees,onlineMeeting,webLink,"
    "seriesMasterId,lastModifiedDateTime"
)


def validation_token(query: Mapping[str, str]) -> str | None:
    """The subscription handshake's token, if this request is one: answer it within 10 s with
    200, ``Content-Type: text/plain``, and the token (already URL-decoded) as the body."""
    token = query.get("validationToken")
    if token is None:
        return None
    if not token or len(token) > MAX_VALIDATION_TOKEN:
        raise malformed("malformed_validation_token", "validationToken is empty or too long")
    return token


class Lifecycle(StrEnum):
    REAUTHORIZATION_REQUIRED = "reauthorizationRequired"
    SUBSCRIPTION_REMOVED = "subscriptionRemoved"
    MISSED = "missed"


class ResourceKind(StrEnum):
    MESSAGE = "message"
    EVENT = "event"
    OTHER = "other"


class ChangeNotification(BaseModel):
    """One item of a notification collection: a change to a resource, or a lifecycle event."""

    model_config = ConfigDict(frozen=True)

    subscription_id: str
    tenant_id: str | None = None
    change_type: str | None = None
    resource: str | None = None
    resource_kind: ResourceKind = ResourceKind.OTHER
    resource_id: str | None = None
    etag: str | None = None
    lifecycle_event: Lifecycle | str | None = None
    subscription_expires: datetime | None = None

    @property
    def dedupe_key(self) -> str:
        """Stable across Graph's retries of this item (same resource, change and version)."""
        parts: tuple[str, ...] = (
            self.resource_id or self.resource or "-",
            self.change_type or "-",
            self.etag or "-",
        )
        if self.lifecycle_event is not None:
            parts = (str(self.lifecycle_event), str(self.subscription_expires or "-"))
        return idempotency_key("graph", self.subscription_id, *parts)


class NotificationBatch(BaseModel):
    """A collection split by what to do: fetch and ingest ``changes``; act on ``lifecycle``;
    ``discarded`` counts items whose ``clientState`` was wrong or whose subscription is unknown."""

    model_config = ConfigDict(frozen=True)

    changes: tuple[ChangeNotification, ...] = ()
    lifecycle: tuple[ChangeNotification, ...] = ()
    discarded: int = 0


def _kind(item: Mapping[str, Any], data: Mapping[str, Any]) -> ResourceKind:
    odata = str(data.get("@odata.type", "")).lower()
    resource = str(item.get("resource", "")).lower()
    if odata.endswith(".message") or "/messages/" in resource:
        return ResourceKind.MESSAGE
    if odata.endswith(".event") or "/events/" in resource:
        return ResourceKind.EVENT
    return ResourceKind.OTHER


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _event_time(raw: Any) -> datetime | None:
    """Graph's ``{dateTime, timeZone}``: a naive time in the named zone (UTC, as we ask with
    ``Prefer: outlook.timezone``; an IANA name is honoured if Graph sends one anyway)."""
    if not isinstance(raw, dict):
        return None
    moment = _when(raw.get("dateTime"))
    zone = raw.get("timeZone")
    if moment is None or not isinstance(zone, str) or zone.upper() == "UTC":
        return moment
    try:
        return moment.replace(tzinfo=ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return moment


def _item(item: Mapping[str, Any]) -> ChangeNotification:
    data = obj(item.get("resourceData"))
    lifecycle = text(item.get("lifecycleEvent"))
    return ChangeNotification(
        subscription_id=str(item["subscriptionId"]),
        tenant_id=text(item.get("tenantId")),
        change_type=text(item.get("changeType")),
        resource=text(item.get("resource")),
        resource_kind=_kind(item, data),
        resource_id=text(data.get("id")),
        etag=text(data.get("@odata.etag")),
        lifecycle_event=Lifecycle(lifecycle) if lifecycle in set(Lifecycle) else lifecycle,
        subscription_expires=_when(item.get("subscriptionExpirationDateTime")),
    )


def parse_notifications(body: bytes, client_state: str | Mapping[str, str]) -> NotificationBatch:
    """Read a notification collection, keeping the items whose ``clientState`` matches (one
    secret for every subscription, or one per subscription id). Raises ``WebhookRejected``:
    400 if unreadable, 401 if it has items and none of them matches."""
    try:
        doc = safe_json.loads(body)
    except ValueError as exc:
        raise malformed("malformed_body", safe_json.refusal(exc)) from None
    items = doc.get("value") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise malformed("missing_value", "the body has no 'value' list")
    changes: list[ChangeNotification] = []
    lifecycle: list[ChangeNotification] = []
    discarded = 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("subscriptionId"), str):
            raise malformed("invalid_item", "a notification has no subscriptionId")
        expected = client_state if isinstance(client_state, str) else client_state.get(item["subscriptionId"])
        given = item.get("clientState")
        if (
            not expected
            or not isinstance(given, str)
            or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())
        ):
            discarded += 1
            continue
        notification = _item(item)
        (lifecycle if notification.lifecycle_event is not None else changes).append(notification)
    if items and discarded == len(items):
        raise unauthenticated("bad_client_state", "no notification carries the clientState we set")
    return NotificationBatch(changes=tuple(changes), lifecycle=tuple(lifecycle), discarded=discarded)


def _address(raw: Any) -> tuple[str | None, str | None]:
    box = raw.get("emailAddress") if isinstance(raw, dict) else None
    if not isinstance(box, dict):
        return None, None
    return text(box.get("name")), text(box.get("address"))


def _path(resource: str) -> str:
    """A notification's ``resource`` as a path under the base URL; refuses anything that could
    send our token elsewhere (a scheme, ``//host``, dot segments, query or fragment)."""
    path = resource.strip().lstrip("/")
    if not path or "://" in path or any(c in path for c in "?#\\") or {".", ".."} & set(path.split("/")):
        raise ApiError(SERVICE, f"refusing to fetch resource path {resource!r}")
    return "/" + path


class GraphClient:
    """Fetches what a notification points at, on an ``httpx.Client`` from
    ``apis.make_client`` (``DEFAULT_BASE_URL`` or a loopback fake). Times come back in UTC."""

    def __init__(self, http: httpx.Client, *, org_domains: Iterable[str] = ()) -> None:
        self._http = http
        self._domains = tuple(org_domains)

    def _get(self, resource: str, select: str) -> dict[str, Any] | None:
        headers = {"Prefer": 'outlook.timezone="UTC"'}
        try:
            raw = request_json(
                self._http,
                "GET",
                _path(resource),
                service=SERVICE,
                params={"$select": select},
                headers=headers,
            )
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        if raw.get("id") is None:
            raise ApiError(SERVICE, f"the answer for {resource!r} has no id")
        return raw

    def message(self, resource: str, mailbox: str) -> EmailMessage | None:
        """The message a notification names; None if it is gone already."""
        raw = self._get(resource, _MESSAGE_FIELDS)
        if raw is None:
            return None
        name, address = _address(raw.get("from"))
        recipients = [
            _address(r)[1] for r in (raw.get("toRecipients") or []) + (raw.get("ccRecipients") or [])
        ]
        return EmailMessage(
            provider="graph",
            mailbox=mailbox,
            id=str(raw["id"]),
            thread_id=text(raw.get("conversationId")),
            sender=email.utils.formataddr((name or "", address)) if address else None,
            to=tuple(r for r in recipients if r),
            subject=text(raw.get("subject")),
            snippet=text(raw.get("bodyPreview")),
            date=_when(raw.get("receivedDateTime")),
        )

    def event(self, resource: str, calendar_id: str) -> CalendarEvent | None:
        """The event a notification names; None if it is gone already."""
        raw = self._get(resource, _EVENT_FIELDS)
        if raw is None:
            return None
        organizer_name, organizer = _address(raw.get("organizer"))
        attendees = []
        for item in raw.get("attendees") or []:
            name, address = _address(item)
            if address:
                resource_kind = item.get("type") == "resource"
                response = text(obj(item.get("status")).get("response"))
                attendees.append(
                    Attendee(
                        email=address,
                        name=name,
                        external=not resource_kind and is_external(address, self._domains),
                        organizer=address == organizer,
                        resource=resource_kind,
                        response_status=response,
                    )
                )
        meeting = obj(raw.get("onlineMeeting"))
        return CalendarEvent(
            provider="graph",
            id=str(raw["id"]),
            calendar_id=calendar_id,
            status="cancelled" if raw.get("isCancelled") else "confirmed",
            summary=text(raw.get("subject")),
            start=_event_time(raw.get("start")),
            end=_event_time(raw.get("end")),
            all_day=raw.get("isAllDay") is True,
            organizer_email=organizer,
            organizer_name=organizer_name,
            attendees=tuple(attendees),
            meeting_url=text(meeting.get("joinUrl")),
            html_link=text(raw.get("webLink")),
            recurring_event_id=text(raw.get("seriesMasterId")),
            updated=_when(raw.get("lastModifiedDateTime")),
        )
