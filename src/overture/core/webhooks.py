"""Pure decisions for the webhook receivers: keys, secrets, routing and what a click means.

Nothing here touches the database, the network or the clock: the receivers in
``overture.http.webhooks.routes`` gather the facts, ask these functions, and act on the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

from overture.core.records import Decision
from overture.errors import ValidationFailed

MAX_KEY = 255


class Provider(StrEnum):
    """Who sends us webhooks; the ``provider`` of an integration account and of a receipt."""

    SLACK = "slack"
    MEETINGBAAS = "meetingbaas"
    GOOGLE_CALENDAR = "google_calendar"
    GMAIL = "gmail"
    GRAPH = "graph"


class Outcome(StrEnum):
    """What became of one receipt. ``accepted`` means answered, with work still to do;
    ``unrouted`` means authentic but for an account we do not know yet: kept to be replayed."""

    ACCEPTED = "accepted"
    PROCESSED = "processed"
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    UNROUTED = "unrouted"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self not in (Outcome.ACCEPTED, Outcome.FAILED)


def holds_key(first: Outcome, retry: Outcome) -> bool:
    """Whether the receipt that took a dedupe key first makes a later delivery a duplicate.

    A failed, refused or unrouted receipt never blocks: the same delivery sent again once the
    API is back or the account exists is taken afresh. Only a delivery that would be kept
    unrouted again is a duplicate of the unrouted one (its transcript is kept once)."""
    if first == Outcome.UNROUTED:
        return retry == Outcome.UNROUTED
    return first not in (Outcome.FAILED, Outcome.REJECTED)


# What the external id of each provider's account is, for help texts and errors.
EXTERNAL_IDS = {
    Provider.SLACK: "the Slack team id (T...)",
    Provider.MEETINGBAAS: "the account name the bots' extra.overture_account carries",
    Provider.GOOGLE_CALENDAR: "the watch channel id",
    Provider.GMAIL: "the mailbox address",
    Provider.GRAPH: "the subscription id",
}
# Providers whose requests are authenticated by a secret we keep only as a hash.
NEEDS_SECRET = frozenset({Provider.GOOGLE_CALENDAR, Provider.GRAPH})


def secret_hash(secret: str) -> str:
    """The SHA-256 hex digest we store instead of a secret we only ever compare."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def secret_matches(given: str | None, stored_hash: str | None) -> bool:
    """Whether ``given`` hashes to ``stored_hash``, compared in constant time."""
    if not given or not stored_hash:
        return False
    return hmac.compare_digest(secret_hash(given).encode(), stored_hash.encode())


def receipt_key(provider: Provider, key: str) -> str:
    """The unique dedupe key of a receipt, ``provider:key``, hashed past 255 characters."""
    full = f"{provider.value}:{key}"
    if len(full) <= MAX_KEY:
        return full
    return f"{provider.value}:sha256:{hashlib.sha256(full.encode()).hexdigest()}"


def external_event_id(provider: str, event_id: str) -> str:
    """A calendar event's ``external_id`` in the CRM: ``provider:id``, hashed past 255."""
    full = f"{provider}:{event_id}"
    if len(full) <= MAX_KEY:
        return full
    return f"{provider}:sha256:{hashlib.sha256(full.encode()).hexdigest()}"


def normalise_external_id(provider: Provider, external_id: str) -> str:
    """Mailbox addresses compare case-insensitively; every other id is kept as given."""
    value = external_id.strip()
    return value.lower() if provider == Provider.GMAIL else value


def check_account(provider: str, user_id: str | None, secret: str | None, external_id: str) -> Provider:
    """Validate a new integration account, naming the field that is wrong."""
    try:
        kind = Provider(provider)
    except ValueError:
        known = ", ".join(p.value for p in Provider)
        raise ValidationFailed(f"provider: {provider!r} is not one of {known}") from None
    if not external_id.strip() or len(external_id) > MAX_KEY:
        raise ValidationFailed(f"external_id: {EXTERNAL_IDS[kind]}, 1 to {MAX_KEY} characters")
    if kind != Provider.SLACK and not user_id:
        raise ValidationFailed(f"user: a {kind.value} account belongs to one user")
    if kind in NEEDS_SECRET and not secret:
        raise ValidationFailed(f"secret: a {kind.value} account needs the secret set on the subscription")
    if secret is not None and not secret:
        raise ValidationFailed("secret: empty; leave it out instead")
    return kind


# -- Slack -----------------------------------------------------------------------------------

_DECISION_ID = re.compile(r"^(?:overture[_.:-])?(approve|edit|skip|cancel)(?:[_.:-].*)?$")


def decision_for(action_id: str | None) -> Decision | None:
    """The decision a button stands for: its ``action_id`` is ``approve``, ``edit``, ``skip``
    or ``cancel``, optionally prefixed ``overture_`` and suffixed (``approve:2``)."""
    match = _DECISION_ID.match(action_id or "")
    return Decision(match.group(1)) if match else None


def pending_action_ref(raw: str | None) -> str | None:
    """The pending action a button's ``value`` or a modal's ``private_metadata`` names: the id
    itself, or JSON with ``pending_action_id`` or ``action_id``."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):  # nested too deeply to be ours
            return None
        if not isinstance(data, dict):
            return None
        value = data.get("pending_action_id") or data.get("action_id")
        return value if isinstance(value, str) and value else None
    return text


def modifications_from(values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """A modal's inputs as draft edits: each input block's ``block_id`` names a draft field."""
    edits: dict[str, Any] = {}
    for block_id, elements in values.items():
        for element in elements.values():
            value = element.get("value") if isinstance(element, Mapping) else None
            if isinstance(value, str):
                edits[block_id] = value
                break
    return edits


def may_decide(decider_id: str, decider_role: str, owner_id: str) -> bool:
    """Only the user the action belongs to, or an org admin."""
    return decider_id == owner_id or decider_role == "admin"


def decision_label(decision: Decision) -> str:
    return {
        Decision.APPROVE: "Approved",
        Decision.EDIT: "Edited and approved",
        Decision.SKIP: "Skipped",
        Decision.CANCEL: "Cancelled",
    }[decision]


# -- MeetingBaaS -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRoute:
    """Where a MeetingBaaS webhook authenticated by a shared credential goes: the account its
    bot's ``extra`` names, or the org and user it names."""

    account: str | None = None
    org_id: str | None = None
    user_id: str | None = None


def meeting_route(extra: Mapping[str, Any]) -> MeetingRoute | None:
    """Read ``extra`` (echoed back from our bot request) for routing, or None if it has none."""
    account = extra.get("overture_account")
    if isinstance(account, str) and account:
        return MeetingRoute(account=account)
    org, user = extra.get("org_id"), extra.get("user_id")
    if isinstance(org, str) and org and isinstance(user, str) and user:
        return MeetingRoute(org_id=org, user_id=user)
    return None


# -- calendars -------------------------------------------------------------------------------

_CALENDAR_PATH = re.compile(r"/calendars/([^/]+)/events/?$")


def calendar_id_from_uri(uri: str | None) -> str | None:
    """The calendar a Google ``X-Goog-Resource-URI`` names (``.../calendars/{id}/events``)."""
    if not uri:
        return None
    match = _CALENDAR_PATH.search(urlsplit(uri).path)
    return unquote(match.group(1)) if match else None


def calendar_emits(
    stored_start: datetime | None,
    stored_status: str | None,
    new_start: datetime | None,
    new_status: str,
    recorded: bool = False,
) -> bool:
    """Whether a changed calendar event is news for ``calendar_event_created``: a new event,
    one moved to another start, or one back from cancelled. Cancellations are stored, not sent,
    unless a recording bot is scheduled for the event (``recorded``): its sequence takes it back."""
    if new_status == "cancelled":
        return recorded and stored_status not in (None, "cancelled")
    if new_start is None:
        return False
    if stored_status is None:
        return True
    return stored_status == "cancelled" or stored_start != new_start
