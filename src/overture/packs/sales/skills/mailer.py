"""Sending email as the rep, after commit, once per idempotency key (the ``sales.email`` outbox
effect).

With SMTP configured the message goes out through the rep's server; otherwise it is written as
an ``.eml`` file named by the key into the outbox folder. Either way the
Message-ID is derived from the key, so a message sent again on request is recognisable as the
same one (mail clients and most receiving servers collapse copies by Message-ID).

The folder is exactly once: a file already written is never written again. An SMTP server
cannot be asked whether it already has a message, so the SMTP handler is ``unrepeatable``: the
outbox records each attempt before and after the send, and an attempt cut short by a dying
worker is reported in doubt to the rep instead of sent a second time blindly.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from overture.core.step_context import EffectRequest
from overture.engine.run.outbox import unrepeatable
from overture.integrations.smtp import SmtpServer
from overture.packs.sales.config import SalesConfig

log = logging.getLogger("overture.sales.mailer")
EFFECT = "sales.email"


def file_name(key: str) -> str:
    """The outbox file for an idempotency key (``job:3:send-follow-up`` -> ``job_3_send-follow-up.eml``)."""
    return key.replace(":", "_").replace("#", "_").replace("/", "_") + ".eml"


def build_message(key: str, payload: dict[str, Any]) -> EmailMessage:
    """The RFC 5322 message for a queued email."""
    msg = EmailMessage()
    msg["From"] = formataddr((str(payload.get("from_name") or ""), str(payload["from"])))
    msg["To"] = ", ".join(payload["to"]) if isinstance(payload["to"], list) else str(payload["to"])
    if payload.get("cc"):
        msg["Cc"] = ", ".join(payload["cc"])
    msg["Subject"] = str(payload["subject"])
    if payload.get("date"):
        msg["Date"] = format_datetime(datetime.fromisoformat(str(payload["date"])))
    msg["Message-ID"] = f"<{key.replace(':', '.').replace('#', '.')}@overture>"
    if payload.get("in_reply_to"):
        msg["In-Reply-To"] = str(payload["in_reply_to"])
    msg.set_content(str(payload["body"]))
    return msg


def make_sender(config: SalesConfig, outbox_dir: Path) -> Any:
    """The effect handler, bound to the SMTP settings and the outbox folder."""

    def send(effect: EffectRequest) -> None:
        """Send the rep's email by SMTP when configured, else write it to the outbox folder."""
        message = build_message(effect.idempotency_key, effect.payload)
        if config.smtp_host:
            SmtpServer(
                config.smtp_host,
                config.smtp_port,
                config.smtp_username,
                config.smtp_password,
                config.smtp_starttls,
                config.source_timeout_s,
            ).send(message)
            log.info("email %s sent by SMTP", effect.idempotency_key)
            return
        outbox_dir.mkdir(parents=True, exist_ok=True)
        path = outbox_dir / file_name(effect.idempotency_key)
        if path.exists():
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(message))
        tmp.replace(path)
        log.info("email %s written to the outbox folder", effect.idempotency_key)

    return unrepeatable(send) if config.smtp_host else send
