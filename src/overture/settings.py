"""One settings model, read from overture.toml and OVERTURE_* environment variables."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from overture.errors import ValidationFailed

#: A rate as operators write it: ``20/minute`` (second, minute, hour or day).
_RATE = r"^[1-9][0-9]*/(second|minute|hour|day)$"


class Settings(BaseSettings):
    """Everything an operator can set. Environment beats the file; the file beats defaults."""

    model_config = SettingsConfigDict(env_prefix="OVERTURE_", toml_file="overture.toml", extra="forbid")

    database_url: str = "sqlite:///overture.db"
    packs: list[str] = Field(default_factory=lambda: ["sales", "planner"])
    sqlite_synchronous: str = Field(default="FULL", pattern="^(FULL|NORMAL|EXTRA)$")
    time_budget_s: float = Field(default=150.0, gt=0)
    time_buffer_s: float = Field(default=15.0, ge=0)
    rate_limit_delay_s: float = Field(default=300.0, gt=0)
    approval_expiry_s: float = Field(default=48 * 3600.0, gt=0)
    max_chain_depth: int = Field(default=3, ge=1)
    tier1_cache_ttl_s: float = Field(default=60.0, ge=0)
    poll_interval_s: float = Field(default=0.5, gt=0)
    # Jobs one worker runs at once (threads); their step commits are group-committed.
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    # A job taken over from dead workers this many times without a committed step is
    # quarantined as failed (crashed_worker_repeatedly) instead of killing another worker.
    max_lost_claims: int = Field(default=5, ge=1)
    outbox_dir: Path = Path("outbox")
    schedules: list[dict[str, Any]] = Field(default_factory=list)
    llm_provider: str = Field(default="offline", pattern="^(offline|openai|anthropic)$")
    llm_model: str = ""
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_base_url: str | None = None
    slack_response_url_prefix: str = "https://hooks.slack.com/"
    meetingbaas_api_key: SecretStr | None = None
    meetingbaas_svix_secret: SecretStr | None = None
    # Recording bots: the API (a fake while testing), where their webhooks go, what they are called.
    meetingbaas_api_base_url: str | None = None
    meetingbaas_webhook_url: str | None = None
    meetingbaas_bot_name: str = "Overture notetaker"
    # Where a v2 webhook's transcript link may point (host patterns), and the otherwise refused
    # networks (private, loopback...) any fetched link may reach anyway, e.g. an on-premises store.
    meetingbaas_transcript_hosts: list[str] = Field(
        default_factory=lambda: [
            "s3.amazonaws.com",
            "*.s3.amazonaws.com",
            "s3.*.amazonaws.com",
            "*.s3.*.amazonaws.com",
            "*.meetingbaas.com",
        ]
    )
    fetch_allowed_networks: list[str] = Field(default_factory=list)
    # Failed authentications (bearer tokens, console sign-ins, webhook signatures) a client may
    # make before it is answered 429: per address, and per presented token's first characters.
    auth_failures_per_address: str = Field(default="20/minute", pattern=_RATE)
    auth_failures_per_token: str = Field(default="10/minute", pattern=_RATE)
    # The web console as people reach it (https://overture.example.com): the base of the sign-in
    # links Overture prints, emails and posts to Slack. Unset, only `overture console link` makes
    # them (for http://127.0.0.1:8000 unless told --base-url); email and Slack do not send any.
    console_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    # A console session ends after this long unused, and in any case this long after sign-in.
    console_session_idle_s: float = Field(default=3 * 86400.0, gt=0)
    console_session_max_s: float = Field(default=14 * 86400.0, gt=0)
    # A one-time sign-in link works once, within this many seconds of being made.
    signin_link_ttl_s: float = Field(default=900.0, ge=60, le=86400)
    # "Email me a link" requests answered per client address and per address typed in.
    signin_link_requests: str = Field(default="5/hour", pattern=_RATE)
    # The From of sign-in link emails (sent with the smtp_* settings).
    signin_mail_from: str = "Overture <overture@localhost>"
    # Events one org may have accepted in a window (off when unset); more are deferred, not dropped.
    org_ingest_rate: str | None = Field(default=None, pattern=_RATE)
    gmail_push_audience: str | None = None
    gmail_push_service_account: str | None = None
    gmail_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    apollo_base_url: str | None = None
    apollo_api_key: SecretStr | None = None
    apify_base_url: str | None = None
    apify_token: SecretStr | None = None
    apify_linkedin_actor: str | None = None
    apify_news_actor: str | None = None
    instantly_base_url: str | None = None
    instantly_api_key: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    sales_source_timeout_s: float = Field(default=10.0, gt=0)
    # Overture's own loggers (job activity is INFO), when set; otherwise `-v` decides.
    log_level: str = Field(default="INFO", pattern="(?i)^(debug|info|warning|error|critical)$")
    # "json": one JSON object a line, uvicorn's access log included; "text" for a terminal.
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # Traces go to this OTLP/HTTP collector (e.g. http://otel-collector:4318); unset, none are made.
    otlp_endpoint: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated)."""
        return Settings.model_validate({**self.model_dump(), **changes})


def load_settings(**overrides: Any) -> Settings:
    """The settings, or ValidationFailed naming each bad one and why (never its value: it may
    be a secret), instead of pydantic's traceback."""
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"overture.toml: not valid TOML ({exc})") from None
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ValidationFailed(f"settings (overture.toml or OVERTURE_* variables): {problems}") from None


def _problem(error: Any) -> str:
    name = ".".join(str(part) for part in error["loc"]) or "settings"
    if error["type"] == "extra_forbidden":
        return f"{name}: not a setting of Overture's"
    return f"{name}: {error['msg']}"
