"""Gmail via Pub/Sub push: the envelope, the OIDC token (signed here with our own key and
served from a loopback certificates URL), and the history and messages API over a fake."""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from overture.core.events import parse_event
from overture.errors import RateLimited
from overture.integrations.apis import WebhookRejected, make_client
from overture.integrations.gmail import (
    GmailClient,
    HistoryExpired,
    HttpxRequest,
    PushAuth,
    normalise_message,
    parse_push,
    verify_push_token,
)
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen

MAILBOX = "ana@acme.test"


def b64url(data: dict[str, Any], pad: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    return encoded if pad else encoded.rstrip("=")


# A push as Pub/Sub delivers it.
PUSH: dict[str, Any] = {
    "message": {
        "data": b64url({"emailAddress": MAILBOX, "historyId": "9876543210"}),
        "messageId": "2070443601311540",
        "message_id": "2070443601311540",
        "publishTime": "2025-11-21T09:59:58.123Z",
        "publish_time": "2025-11-21T09:59:58.123Z",
        "attributes": {},
    },
    "subscription": "projects/acme-prod/subscriptions/gmail-push",
}


def raw(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def test_a_push_is_decoded() -> None:
    """Base64url data without padding decodes to the mailbox and its history id."""
    push = parse_push(raw(PUSH))
    assert (push.email_address, push.history_id) == (MAILBOX, "9876543210")
    assert push.message_id == "2070443601311540"
    assert push.subscription == "projects/acme-prod/subscriptions/gmail-push"
    assert push.publish_time == datetime(2025, 11, 21, 9, 59, 58, 123000, tzinfo=UTC)
    assert push.dedupe_key == "gmail-push:2070443601311540"
    assert push.delivery_attempt is None


def test_variants_pub_sub_is_known_to_send() -> None:
    """A numeric history id, padded data, snake_case ids only, and a delivery attempt."""
    message = {"data": b64url({"emailAddress": MAILBOX, "historyId": 12345}, pad=True), "message_id": "m-1"}
    push = parse_push(raw({"message": message, "subscription": "s", "deliveryAttempt": 3}))
    assert (push.history_id, push.message_id, push.delivery_attempt, push.publish_time) == (
        "12345",
        "m-1",
        3,
        None,
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "malformed_body"),
        (b"[]", "missing_message"),
        (raw({"subscription": "s"}), "missing_message"),
        (raw({"message": {"messageId": "1"}}), "missing_data"),
        (raw({"message": {"data": "***", "messageId": "1"}}), "malformed_data"),
        (raw({"message": {"data": b64url([1]), "messageId": "1"}}), "malformed_data"),  # type: ignore[arg-type]
        (raw({"message": {"data": "bm90IGpzb24", "messageId": "1"}}), "malformed_data"),
        (raw({"message": {"data": b64url({"historyId": "1"}), "messageId": "1"}}), "missing_email"),
        (
            raw({"message": {"data": b64url({"emailAddress": MAILBOX}), "messageId": "1"}}),
            "missing_history_id",
        ),
        (
            raw(
                {"message": {"data": b64url({"emailAddress": MAILBOX, "historyId": True}), "messageId": "1"}}
            ),
            "missing_history_id",
        ),
        (
            raw(
                {"message": {"data": b64url({"emailAddress": MAILBOX, "historyId": "12a"}), "messageId": "1"}}
            ),
            "missing_history_id",
        ),
        (
            raw({"message": {"data": b64url({"emailAddress": MAILBOX, "historyId": "1"})}}),
            "missing_message_id",
        ),
    ],
)
def test_malformed_pushes_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookRejected) as caught:
        parse_push(body)
    assert (caught.value.status, caught.value.reason) == (400, reason)


# -- OIDC ------------------------------------------------------------------------------------

AUDIENCE = "https://overture.acme.test/webhooks/gmail"
ACCOUNT = "gmail-push@acme-prod.iam.gserviceaccount.com"
KID = "test-key-1"


def _key_and_cert() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "overture-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, cert.public_bytes(serialization.Encoding.PEM).decode()


KEY_PEM, CERT_PEM = _key_and_cert()
OTHER_KEY_PEM, _ = _key_and_cert()


def token(key_pem: bytes = KEY_PEM, kid: str = KID, **changes: Any) -> str:
    """A push token as Google signs it, with our own key."""
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": "1234567890",
        "sub": "1234567890",
        "email": ACCOUNT,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return str(jwt.encode(_signer(key_pem, kid), claims).decode())


@functools.cache
def _signer(key_pem: bytes, kid: str) -> crypt.RSASigner:
    return crypt.RSASigner.from_string(key_pem, key_id=kid)


@pytest.fixture
def certs() -> Iterator[FakeApi]:
    """Google's v1 certificates endpoint: ``{kid: x509 PEM}``, cacheable for an hour."""
    body = {KID: CERT_PEM}
    with FakeApi(lambda _r: Reply(body=body, headers={"Cache-Control": "public, max-age=3600"})) as api:
        yield api


def auth_for(api: FakeApi) -> PushAuth:
    return PushAuth(audience=AUDIENCE, service_account=ACCOUNT, certs_url=f"{api.url}/oauth2/v1/certs")


@pytest.fixture
def google_request() -> Iterator[HttpxRequest]:
    transport = HttpxRequest()
    yield transport
    transport.close()


def test_a_token_we_signed_is_verified_against_the_loopback_certs(
    certs: FakeApi, google_request: HttpxRequest
) -> None:
    claims = verify_push_token(f"Bearer {token()}", auth_for(certs), google_request)
    assert (claims["email"], claims["aud"]) == (ACCOUNT, AUDIENCE)
    assert certs.seen[0].path == "/oauth2/v1/certs"


def test_certificates_are_cached_for_their_max_age(certs: FakeApi) -> None:
    """One fetch serves many pushes until max-age runs out."""
    now = [1000.0]
    with httpx.Client() as http:
        cached = HttpxRequest(http, clock=lambda: now[0])
        for _ in range(3):
            verify_push_token(f"Bearer {token()}", auth_for(certs), cached)
        assert len(certs.seen) == 1
        now[0] += 3601
        verify_push_token(f"Bearer {token()}", auth_for(certs), cached)
    assert len(certs.seen) == 2


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing_token"),
        ("", "missing_token"),
        ("Basic dXNlcjpwYXNz", "malformed_token"),
        ("Bearer", "malformed_token"),
        ("Bearer not-a-jwt", "malformed_token"),
        ("Bearer a.b.c", "malformed_token"),
        ("Bearer {expired}", "expired"),
        ("Bearer {future}", "not_yet_valid"),
        ("Bearer {no_exp}", "missing_claim"),
        ("Bearer {other_key}", "bad_signature"),
        ("Bearer {unknown_kid}", "unknown_key"),
        ("Bearer {wrong_aud}", "wrong_audience"),
        ("Bearer {wrong_iss}", "wrong_issuer"),
        ("Bearer {wrong_email}", "wrong_account"),
        ("Bearer {unverified}", "email_unverified"),
        ("Bearer {no_verified}", "email_unverified"),
    ],
)
def test_forged_and_stale_tokens_are_refused(
    certs: FakeApi, google_request: HttpxRequest, authorization: str | None, reason: str
) -> None:
    """Each way a push token can be wrong is a 401 with its own reason."""
    now = int(time.time())
    variants: dict[str, dict[str, Any]] = {
        "expired": {"iat": now - 7200, "exp": now - 3600},
        "future": {"iat": now + 600, "exp": now + 4200},
        "no_exp": {"exp": None},
        "other_key": {"key_pem": OTHER_KEY_PEM},
        "unknown_kid": {"kid": "rotated-away"},
        "wrong_aud": {"aud": "https://evil.example/hook"},
        "wrong_iss": {"iss": "https://evil.example"},
        "wrong_email": {"email": "someone@evil.iam.gserviceaccount.com"},
        "unverified": {"email_verified": False},
        "no_verified": {"email_verified": None},
    }
    name = authorization[8:-1] if authorization and authorization.startswith("Bearer {") else None
    header = f"Bearer {token(**variants[name])}" if name else authorization
    with pytest.raises(WebhookRejected) as caught:
        verify_push_token(header, auth_for(certs), google_request)
    assert (caught.value.status, caught.value.reason) == (401, reason)


@pytest.mark.parametrize("status", [500, 404])
def test_unavailable_certificates_ask_pub_sub_to_retry(google_request: HttpxRequest, status: int) -> None:
    """503, so the push is redelivered later rather than lost or wrongly refused."""
    with FakeApi(lambda _r: Reply(status, {})) as api, pytest.raises(WebhookRejected) as caught:
        verify_push_token(f"Bearer {token()}", auth_for(api), google_request)
    assert (caught.value.status, caught.value.reason) == (503, "certs_unavailable")


def test_an_unreachable_certificates_url_asks_pub_sub_to_retry(google_request: HttpxRequest) -> None:
    with FakeApi(lambda _r: Reply()) as api:
        auth = auth_for(api)
    with pytest.raises(WebhookRejected) as caught:
        verify_push_token(f"Bearer {token()}", auth, google_request)
    assert (caught.value.status, caught.value.reason) == (503, "certs_unavailable")


# -- history and messages ----------------------------------------------------------------------


def _message(message_id: str, **headers: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "threadId": f"t-{message_id}",
        "labelIds": ["INBOX", "UNREAD"],
        "snippet": "Could you send the proposal by Friday?",
        "historyId": "9876543300",
        "internalDate": "1763719200000",
        "sizeEstimate": 4321,
        "payload": {
            "partId": "",
            "mimeType": "multipart/alternative",
            "filename": "",
            "headers": [{"name": k.replace("_", "-"), "value": v} for k, v in headers.items()],
        },
    }


MESSAGES = {
    "18c1": _message(
        "18c1",
        From="Sam Buyer <sam@globex.example>",
        To="Ana Rep <ana@acme.test>, lee@acme.test",
        Cc="boss@acme.test",
        Subject="Re: proposal",
        Date="Fri, 21 Nov 2025 10:30:00 +0100",
    ),
    "18c2": _message("18c2", From="news@vendor.example", Subject="Digest"),
}


class FakeGmail:
    """Speaks users.history.list (two pages, 404 for old ids) and users.messages.get."""

    def __call__(self, request: Seen) -> Reply:
        query = {k: v if k == "metadataHeaders" else v[0] for k, v in request.query.items()}
        if request.path == "/gmail/v1/users/me/history":
            if query["startHistoryId"] == "1":
                return Reply(404, {"error": {"code": 404, "message": "Requested entity was not found."}})
            if "pageToken" not in query:
                history = [
                    {
                        "id": "9876543211",
                        "messages": [{"id": "18c1", "threadId": "t-18c1"}],
                        "messagesAdded": [
                            {"message": {"id": "18c1", "threadId": "t", "labelIds": ["INBOX"]}}
                        ],
                    },
                ]
                return Reply(body={"history": history, "nextPageToken": "p2", "historyId": "9876543300"})
            history = [
                {
                    "id": "9876543250",
                    "messagesAdded": [{"message": {"id": "18c2"}}, {"message": {"id": "18c1"}}],
                },
                {"id": "9876543260", "messagesAdded": [{"message": {"id": "18c9"}}]},
            ]
            return Reply(body={"history": history, "historyId": "9876543300"})
        message_id = request.path.rsplit("/", 1)[-1]
        if message_id in MESSAGES:
            return Reply(body=MESSAGES[message_id])
        return Reply(404, {"error": {"code": 404, "message": "Requested entity was not found."}})


@pytest.fixture
def gmail() -> Iterator[tuple[FakeApi, GmailClient]]:
    with FakeApi(FakeGmail()) as api, make_client(f"{api.url}/gmail/v1", token="ya29.gm") as http:
        yield api, GmailClient(http, MAILBOX)


def test_new_messages_follow_history_pages_and_read_metadata(gmail: tuple[FakeApi, GmailClient]) -> None:
    """Each added message once, oldest first; a message deleted meanwhile (404) is skipped."""
    api, client = gmail
    changes = client.new_messages("9876543210")
    assert changes.history_id == "9876543300"
    assert [m.id for m in changes.messages] == ["18c1", "18c2"]
    first = changes.messages[0]
    assert (first.thread_id, first.sender, first.subject) == (
        "t-18c1",
        "Sam Buyer <sam@globex.example>",
        "Re: proposal",
    )
    assert first.to == ("ana@acme.test", "lee@acme.test", "boss@acme.test")
    assert first.date == datetime(2025, 11, 21, 9, 30, tzinfo=UTC)
    assert first.snippet == "Could you send the proposal by Friday?"
    assert "proposal by Friday" not in repr(first)
    history_1, history_2 = api.seen[0], api.seen[1]
    assert history_1.query == {
        "startHistoryId": ["9876543210"],
        "historyTypes": ["messageAdded"],
        "maxResults": ["500"],
        "labelId": ["INBOX"],
    }
    assert history_2.query["pageToken"] == ["p2"]
    get = api.seen[2]
    assert get.path == "/gmail/v1/users/me/messages/18c1"
    assert get.query == {"format": ["metadata"], "metadataHeaders": ["From", "To", "Cc", "Subject", "Date"]}
    assert get.headers["authorization"] == "Bearer ya29.gm"
    assert [s.path.rsplit("/", 1)[-1] for s in api.seen[2:]] == ["18c1", "18c2", "18c9"]


def test_a_too_old_history_id_means_a_full_sync(gmail: tuple[FakeApi, GmailClient]) -> None:
    _, client = gmail
    with pytest.raises(HistoryExpired):
        client.new_messages("1")


def test_rate_limits_surface_as_rate_limited() -> None:
    reply = Reply(429, {"error": {"code": 429, "message": "User-rate limit exceeded"}}, {"Retry-After": "12"})
    with FakeApi(lambda _r: reply) as api, make_client(api.url) as http, pytest.raises(RateLimited) as caught:
        GmailClient(http, MAILBOX).new_messages("5")
    assert caught.value.retry_after_s == 12.0


def test_a_message_without_a_date_header_uses_internal_date() -> None:
    message = normalise_message(MESSAGES["18c2"], MAILBOX)
    assert message.date == datetime.fromtimestamp(1763719200, UTC)
    assert (message.to, message.sender) == ((), "news@vendor.example")


def test_the_email_received_draft_is_valid_and_keyed_per_message() -> None:
    """One event per message, however many pushes mention it."""
    draft = normalise_message(MESSAGES["18c1"], MAILBOX).event()
    assert (draft.type, draft.source, draft.idempotency_key) == (
        "email_received",
        "webhook:email",
        "gmail:ana@acme.test:18c1",
    )
    event = parse_event(draft.for_user("acme", "ana"), datetime(2025, 11, 21, 12, tzinfo=UTC))
    assert event.occurred_at == datetime(2025, 11, 21, 9, 30, tzinfo=UTC)
    assert event.payload["subject"] == "Re: proposal"


def test_fields_of_the_wrong_type_read_as_absent() -> None:
    message = normalise_message({"id": 5, "threadId": 9, "snippet": None, "labelIds": ["INBOX", 3]}, MAILBOX)
    assert (message.id, message.thread_id, message.snippet, message.label_ids) == (
        "5",
        None,
        None,
        ("INBOX",),
    )
