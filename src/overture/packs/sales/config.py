"""The sales pack's integration settings: Apollo, Apify, Instantly and SMTP, read from
``OVERTURE_*`` environment variables.

Kept here until they join the one settings model (``Settings``), under the same names, so an
operator sets them the same way either side of that move. A source without its key is not an
error: it is reported as unavailable and the steps that wanted it go on without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr

from overture.settings import Settings


def _text(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(f"OVERTURE_{name}", "").strip()
    return value or default


@dataclass(frozen=True)
class SalesConfig:
    """Where the external sources live and how to reach them."""

    apollo_base_url: str = "https://api.apollo.io"
    apollo_api_key: str | None = field(default=None, repr=False)
    apify_base_url: str = "https://api.apify.com"
    apify_token: str | None = field(default=None, repr=False)
    apify_linkedin_actor: str | None = None
    apify_news_actor: str | None = None
    instantly_base_url: str = "https://api.instantly.ai"
    instantly_api_key: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    source_timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SalesConfig:
        """The one settings model (overture.toml and OVERTURE_* variables) as the pack's config."""
        d = cls()

        def secret(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        return cls(
            apollo_base_url=settings.apollo_base_url or d.apollo_base_url,
            apollo_api_key=secret(settings.apollo_api_key),
            apify_base_url=settings.apify_base_url or d.apify_base_url,
            apify_token=secret(settings.apify_token),
            apify_linkedin_actor=settings.apify_linkedin_actor,
            apify_news_actor=settings.apify_news_actor,
            instantly_base_url=settings.instantly_base_url or d.instantly_base_url,
            instantly_api_key=secret(settings.instantly_api_key),
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_username=settings.smtp_username,
            smtp_password=secret(settings.smtp_password),
            smtp_starttls=settings.smtp_starttls,
            source_timeout_s=settings.sales_source_timeout_s,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SalesConfig:
        """Read ``OVERTURE_APOLLO_BASE_URL``, ``OVERTURE_APOLLO_API_KEY`` and the rest."""
        e = os.environ if env is None else env
        d = cls()
        return cls(
            apollo_base_url=_text(e, "APOLLO_BASE_URL", d.apollo_base_url) or d.apollo_base_url,
            apollo_api_key=_text(e, "APOLLO_API_KEY"),
            apify_base_url=_text(e, "APIFY_BASE_URL", d.apify_base_url) or d.apify_base_url,
            apify_token=_text(e, "APIFY_TOKEN"),
            apify_linkedin_actor=_text(e, "APIFY_LINKEDIN_ACTOR"),
            apify_news_actor=_text(e, "APIFY_NEWS_ACTOR"),
            instantly_base_url=_text(e, "INSTANTLY_BASE_URL", d.instantly_base_url) or d.instantly_base_url,
            instantly_api_key=_text(e, "INSTANTLY_API_KEY"),
            smtp_host=_text(e, "SMTP_HOST"),
            smtp_port=int(_text(e, "SMTP_PORT", "587") or 587),
            smtp_username=_text(e, "SMTP_USERNAME"),
            smtp_password=_text(e, "SMTP_PASSWORD"),
            smtp_starttls=(_text(e, "SMTP_STARTTLS", "true") or "true").lower() not in ("0", "false", "no"),
            source_timeout_s=float(_text(e, "SALES_SOURCE_TIMEOUT_S", "10") or 10),
        )
