"""What the webhook receivers need to know from configuration, and API clients for accounts.

Secrets that must be recomputed to verify a request (the Slack signing secret, the MeetingBaaS
API key and Svix secret, the Gmail push audience) come from the settings model, falling back to
``OVERTURE_*`` environment variables while the settings do not declare them. Tokens for the
API clients are named by an account's ``token_ref`` (``env:NAME`` or ``file:PATH``) and read
when a client is made, so no token is ever stored in the database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from overture.integrations.apis import ApiError, make_client
from overture.integrations.gmail import GOOGLE_CERTS_URL, PushAuth
from overture.integrations.meetingbaas import MeetingBaasSecrets
from overture.storage.queries.integrations import Account

SLACK_RESPONSE_URL_PREFIX = "https://hooks.slack.com/"

#: The settings fields the receivers read (each also as ``OVERTURE_<NAME>``).
FIELDS = (
    "slack_signing_secret",
    "slack_response_url_prefix",
    "meetingbaas_api_key",
    "meetingbaas_svix_secret",
    "gmail_push_audience",
    "gmail_push_service_account",
    "gmail_certs_url",
)


def _read(settings: Any, name: str, environ: Mapping[str, str]) -> str | None:
    """The environment beats the settings object (as it does when settings load), read per request
    so a rotated secret applies without a restart."""
    value: Any = environ.get(f"OVERTURE_{name.upper()}")
    if value is None:
        value = getattr(settings, name, None)
        if value is not None and hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
    return str(value) if value else None


@dataclass(frozen=True, repr=False)
class WebhookSecrets:
    """The receivers' configuration; unset mechanisms are refused, never skipped."""

    slack_signing_secret: str | None = None
    slack_response_url_prefix: str = SLACK_RESPONSE_URL_PREFIX
    meetingbaas_api_key: str | None = None
    meetingbaas_svix_secret: str | None = None
    gmail_push_audience: str | None = None
    gmail_push_service_account: str | None = None
    gmail_certs_url: str = GOOGLE_CERTS_URL

    def __repr__(self) -> str:
        return "WebhookSecrets(<redacted>)"

    @classmethod
    def load(cls, settings: Any, environ: Mapping[str, str] | None = None) -> WebhookSecrets:
        env = os.environ if environ is None else environ
        found = {name: _read(settings, name, env) for name in FIELDS}
        return cls(**{k: v for k, v in found.items() if v is not None})

    def meetingbaas(self) -> MeetingBaasSecrets:
        """The shared MeetingBaaS credentials (per-bot callback secrets live on accounts)."""
        return MeetingBaasSecrets(api_key=self.meetingbaas_api_key, svix_secret=self.meetingbaas_svix_secret)

    def gmail_push_auth(self) -> PushAuth | None:
        """How to check a push's OIDC token; None when no audience is configured."""
        if self.gmail_push_audience is None:
            return None
        return PushAuth(
            audience=self.gmail_push_audience,
            service_account=self.gmail_push_service_account or "",
            certs_url=self.gmail_certs_url,
        )


def resolve_token(ref: str | None, service: str) -> str | None:
    """The API token an account's ``token_ref`` names: ``env:NAME`` or ``file:PATH``."""
    if ref is None:
        return None
    scheme, _, name = ref.partition(":")
    if scheme == "env":
        value = os.environ.get(name)
    elif scheme == "file":
        try:
            value = Path(name).read_text().strip()
        except OSError as exc:
            raise ApiError(service, f"token file {name!r} cannot be read: {exc.strerror}") from None
    else:
        raise ApiError(service, f"token reference {ref!r} is neither env:NAME nor file:PATH")
    if not value:
        raise ApiError(service, f"token reference {ref!r} names nothing")
    return value


def account_client(account: Account, default_base_url: str, service: str) -> httpx.Client:
    """An API client for ``account``: its base URL (a loopback fake in tests) and its token."""
    token = resolve_token(account.token_ref, service)
    return make_client(account.base_url or default_base_url, token=token)
