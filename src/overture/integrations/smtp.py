"""Sending one email through the configured SMTP server (STARTTLS and login when set)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes and how to log in there."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    timeout_s: float = 10.0

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the server; raises smtplib's and socket errors as they come."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
