"""Gmail through a Cloud Pub/Sub push subscription (docs/integrations/gmail.md).

The push says only "this mailbox changed, history id N"; it is authenticated by an OIDC token
Google signs, checked here with google-auth against a certificates URL we can point at a
loopback server in tests. What arrived is then read from ``users.history.list`` (from the
history id stored last time, not the one in the push) and ``users.messages.get`` (headers and
snippet only). A history id too old for Gmail (404) means a full sync and a new baseline.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from google.auth import exceptions as google_exceptions
from google.auth import transport
from google.oauth2 import id_token
from pydantic import BaseModel, ConfigDict, Field

from overture.errors import OvertureError
from overture.integrations import safe_json
from overture.integrations.apis import (
    ApiError,
    EventDraft,
    WebhookRejected,
    http_date,
    idempotency_key,
    malformed,
    obj,
    request_json,
    text,
    unauthenticated,
)

SOURCE = "webhook:email"
SERVICE = "gmail"
DEFAULT_BASE_URL = "https://gmail.googleapis.com/gmail/v1"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
METADATA_HEADERS = ["From", "To", "Cc", "Subject", "Date"]
MAX_PAGES = 200


class GmailPush(BaseModel):
    """One Pub/Sub push: which mailbox changed, up to which history id."""

    model_config = ConfigDict(frozen=True)

    email_address: str
    history_id: str
    message_id: str
    subscription: str
    publish_time: datetime | None = None
    delivery_attempt: int | None = None

    @property
    def dedupe_key(self) -> str:
        """Pub/Sub's message id: the same on every redelivery of this push."""
        return idempotency_key("gmail-push", self.message_id)


def _decode_data(data: Any) -> dict[str, Any]:
    if not isinstance(data, str) or not data:
        raise malformed("missing_data", "message.data is missing")
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        decoded = safe_json.loads(raw, what="message.data")
    except safe_json.JsonRefused as exc:
        raise malformed("malformed_data", str(exc)) from None
    except (binascii.Error, ValueError):
        raise malformed("malformed_data", "message.data is not base64-encoded JSON") from None
    if not isinstance(decoded, dict):
        raise malformed("malformed_data", "message.data is not a JSON object")
    return decoded


def parse_push(body: bytes) -> GmailPush:
    """Read a Pub/Sub push envelope and its Gmail data, or raise ``WebhookRejected`` (400)."""
    try:
        envelope = safe_json.loads(body)
    except ValueError as exc:
        raise malformed("malformed_body", safe_json.refusal(exc)) from None
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict):
        raise malformed("missing_message", "the body has no 'message' object")
    data = _decode_data(message.get("data"))
    address, history = data.get("emailAddress"), data.get("historyId")
    if not isinstance(address, str) or not address:
        raise malformed("missing_email", "message.data has no emailAddress")
    if isinstance(history, bool) or not isinstance(history, int | str) or not str(history).isdigit():
        raise malformed("missing_history_id", "message.data has no numeric historyId")
    message_id = message.get("messageId") or message.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise malformed("missing_message_id", "message.messageId is missing")
    published = message.get("publishTime") or message.get("publish_time")
    try:
        publish_time = datetime.fromisoformat(published) if isinstance(published, str) else None
    except ValueError:
        publish_time = None
    attempt = envelope.get("deliveryAttempt")
    return GmailPush(
        email_address=address,
        history_id=str(history),
        message_id=message_id,
        subscription=str(envelope.get("subscription") or ""),
        publish_time=publish_time,
        delivery_attempt=attempt if isinstance(attempt, int) else None,
    )


@dataclass(frozen=True)
class PushAuth:
    """What a genuine push token says: our audience, the subscription's service account."""

    audience: str
    service_account: str
    certs_url: str = GOOGLE_CERTS_URL
    clock_skew_s: int = 10


class _Response(transport.Response):
    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status, self._headers, self._data = status, dict(headers), data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class HttpxRequest(transport.Request):
    """google-auth's transport over httpx. Successful GETs are kept for the ``max-age`` the
    server gives (Google's certificates say hours), so a push does not cost a round trip."""

    def __init__(
        self, http: httpx.Client | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._owned = http is None
        self._http = http or httpx.Client(timeout=10.0)
        self._clock = clock
        self._cache: dict[str, tuple[float, _Response]] = {}
        self._lock = threading.Lock()

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        with self._lock:
            cached = self._cache.get(url) if method == "GET" else None
        if cached and cached[0] > self._clock():
            return cached[1]
        try:
            answer = self._http.request(method, url, content=body, headers=headers, timeout=timeout or 10.0)
        except httpx.HTTPError as exc:
            failure = f"{type(exc).__name__}: {exc}"
            raise google_exceptions.TransportError(failure) from exc  # type: ignore[no-untyped-call]
        response = _Response(answer.status_code, answer.headers, answer.content)
        max_age = _max_age(answer.headers.get("Cache-Control", ""))
        if method == "GET" and answer.status_code == 200 and max_age:
            with self._lock:
                self._cache[url] = (self._clock() + max_age, response)
        return response

    def close(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owned:
            self._http.close()


def _max_age(cache_control: str) -> int:
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.isdigit():
            return int(value)
    return 0


# google-auth tells its refusals apart only by message; an unknown one reads as malformed_token.
_LIBRARY_REASONS = (
    ("Token expired", "expired"),
    ("Token used too early", "not_yet_valid"),
    ("Could not verify token signature", "bad_signature"),
    ("Certificate for key id", "unknown_key"),
    ("does not contain required claim", "missing_claim"),
)


def verify_push_token(
    authorization: str | None, auth: PushAuth, request: transport.Request
) -> Mapping[str, Any]:
    """Check the push's ``Authorization: Bearer <JWT>`` and return its claims, or raise
    ``WebhookRejected``: 401 with a precise reason, or 503 if the certificates could not be
    fetched (so Pub/Sub redelivers instead of the push being lost)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if not authorization:
        raise unauthenticated("missing_token", "the Authorization header is missing")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("malformed_token", "the Authorization header is not 'Bearer <token>'")
    try:
        claims = id_token.verify_token(
            token.strip(), request, certs_url=auth.certs_url, clock_skew_in_seconds=auth.clock_skew_s
        )
    except google_exceptions.TransportError as exc:
        raise WebhookRejected(
            503, "certs_unavailable", f"could not fetch the signing certificates: {exc}"
        ) from exc
    except (ValueError, TypeError, google_exceptions.GoogleAuthError) as exc:
        text = str(exc)
        reason = next((r for marker, r in _LIBRARY_REASONS if marker in text), "malformed_token")
        raise unauthenticated(reason, f"the push token was refused ({reason.replace('_', ' ')})") from None
    checks = (
        (claims.get("aud") == auth.audience, "wrong_audience", "the token is for another audience"),
        (claims.get("iss") in GOOGLE_ISSUERS, "wrong_issuer", "the token was not issued by Google"),
        (claims.get("email") == auth.service_account, "wrong_account", "the token names another account"),
        (claims.get("email_verified") is True, "email_unverified", "the token's email is not verified"),
    )
    for ok, reason, detail in checks:
        if not ok:
            raise unauthenticated(reason, detail)
    return claims


class HistoryExpired(OvertureError):
    """The stored history id is too old for Gmail: do a full sync and store a new baseline."""


class EmailMessage(BaseModel):
    """A received email as the sequences see it, whichever provider delivered it."""

    model_config = ConfigDict(frozen=True)

    provider: str
    mailbox: str
    id: str
    thread_id: str | None = None
    sender: str | None = None
    to: tuple[str, ...] = ()
    subject: str | None = None
    snippet: str | None = Field(default=None, repr=False)
    date: datetime | None = None
    label_ids: tuple[str, ...] = ()

    def event(self) -> EventDraft:
        """The ``email_received`` event, one per message whatever the number of pushes."""
        return EventDraft(
            type="email_received",
            source=SOURCE,
            payload=self.model_dump(mode="json"),
            idempotency_key=idempotency_key(self.provider, self.mailbox, self.id),
            occurred_at=self.date,
        )


def _date(value: str | None, internal_ms: Any) -> datetime | None:
    moment = http_date(value)
    if moment is not None:
        return moment
    if isinstance(internal_ms, str) and internal_ms.isdigit():
        return datetime.fromtimestamp(int(internal_ms) / 1000, UTC)
    return None


def normalise_message(raw: Mapping[str, Any], mailbox: str) -> EmailMessage:
    """A ``users.messages.get`` answer in ``metadata`` format as an ``EmailMessage``."""
    payload = obj(raw.get("payload"))
    headers: dict[str, str] = {}
    for item in payload.get("headers") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            headers.setdefault(item["name"].lower(), str(item.get("value", "")))
    recipients = email.utils.getaddresses([headers.get("to", ""), headers.get("cc", "")])
    return EmailMessage(
        provider="gmail",
        mailbox=mailbox,
        id=str(raw["id"]),
        thread_id=text(raw.get("threadId")),
        sender=headers.get("from"),
        to=tuple(addr for _, addr in recipients if addr),
        subject=headers.get("subject"),
        snippet=text(raw.get("snippet")),
        date=_date(headers.get("date"), raw.get("internalDate")),
        label_ids=tuple(x for x in raw.get("labelIds") or () if isinstance(x, str)),
    )


def _added_ids(page: Mapping[str, Any]) -> list[str]:
    try:
        return [
            str(added["message"]["id"])
            for record in page.get("history") or []
            for added in record.get("messagesAdded") or []
        ]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ApiError(SERVICE, "a history record has no messagesAdded[].message.id") from exc


@dataclass(frozen=True)
class MailboxChanges:
    """New messages since the stored history id, and the history id to store now."""

    messages: tuple[EmailMessage, ...]
    history_id: str


class GmailClient:
    """``users.history.list`` and ``users.messages.get`` for one mailbox, on an
    ``httpx.Client`` from ``apis.make_client`` (``DEFAULT_BASE_URL`` or a loopback fake)."""

    def __init__(
        self, http: httpx.Client, mailbox: str, *, user_id: str = "me", label_id: str | None = "INBOX"
    ) -> None:
        self._http = http
        self._mailbox = mailbox
        self._user = user_id
        self._label = label_id

    def added_message_ids(self, start_history_id: str) -> tuple[tuple[str, ...], str]:
        """Ids of messages added since ``start_history_id`` (each once, oldest first), and the
        mailbox's current history id. Raises ``HistoryExpired`` on Gmail's 404."""
        params: dict[str, str | int] = {"startHistoryId": start_history_id, "historyTypes": "messageAdded"}
        params["maxResults"] = 500
        if self._label:
            params["labelId"] = self._label
        ids: dict[str, None] = {}
        for _ in range(MAX_PAGES):
            try:
                page = request_json(
                    self._http, "GET", f"/users/{self._user}/history", service=SERVICE, params=params
                )
            except ApiError as exc:
                if exc.status == 404:
                    raise HistoryExpired() from exc
                raise
            ids.update(dict.fromkeys(_added_ids(page)))
            if isinstance(page.get("nextPageToken"), str):
                params["pageToken"] = page["nextPageToken"]
                continue
            return tuple(ids), str(page.get("historyId") or start_history_id)
        raise ApiError(SERVICE, f"more than {MAX_PAGES} pages of history; giving up")

    def message(self, message_id: str) -> EmailMessage | None:
        """One message's headers and snippet; None if it was deleted in the meantime (404)."""
        params: dict[str, str | list[str]] = {"format": "metadata", "metadataHeaders": METADATA_HEADERS}
        try:
            raw = request_json(
                self._http,
                "GET",
                f"/users/{self._user}/messages/{quote(message_id, safe='')}",
                service=SERVICE,
                params=params,
            )
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        if raw.get("id") is None:
            raise ApiError(SERVICE, f"the answer for message {message_id} has no id")
        return normalise_message(raw, self._mailbox)

    def new_messages(self, start_history_id: str) -> MailboxChanges:
        """Everything that arrived since ``start_history_id``, read and normalised."""
        ids, history_id = self.added_message_ids(start_history_id)
        fetched = (self.message(i) for i in ids)
        return MailboxChanges(messages=tuple(m for m in fetched if m is not None), history_id=history_id)
