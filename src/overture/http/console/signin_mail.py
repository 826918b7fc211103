"""'Email me a link': one-time sign-in links sent to the address a person types.

The page answers the same whether or not the address is someone's, and sends after answering
(a background task), so neither the words nor the time taken tell who has an account. Links
go out only when SMTP and ``console_url`` are both set: a link's host never comes from the
request, which anyone can forge. Nothing about the address or the link is logged.
"""

from __future__ import annotations

import logging
import math
import time
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from overture.app import App
from overture.http.console.urls import link_url
from overture.integrations.smtp import SmtpServer
from overture.storage.queries import tenancy

log = logging.getLogger("overture.console.signin")


def server(app: App) -> SmtpServer | None:
    """The SMTP server sign-in links go through, when links can be emailed at all."""
    s = app.settings
    if not s.smtp_host or not s.console_url:
        return None
    password = s.smtp_password.get_secret_value() if s.smtp_password else None
    return SmtpServer(s.smtp_host, s.smtp_port, s.smtp_username, password, s.smtp_starttls, 10.0)


def message(app: App, user: tenancy.UserRow, url: str) -> EmailMessage:
    """The email: who it is for, the link, how long it works, and what to do if unasked."""
    minutes = round(app.settings.signin_link_ttl_s / 60)
    msg = EmailMessage()
    msg["From"] = app.settings.signin_mail_from
    msg["To"] = formataddr((user.name, str(user.email)))
    msg["Subject"] = "Your Overture sign-in link"
    msg["Message-ID"] = make_msgid(domain="overture")
    msg.set_content(
        f"Hello {user.name},\n\n"
        f"Open this link to sign in to Overture. It works once, within {minutes} minutes:\n\n"
        f"{url}\n\n"
        "If you did not ask for it, ignore this email: nobody can sign in without the link.\n"
    )
    return msg


def send_links(app: App, email: str, next_path: str | None) -> int:
    """Issue and email a link to each person with this address; how many were sent."""
    smtp = server(app)
    if smtp is None or app.settings.console_url is None:
        return 0
    sent = 0
    for org_id, user_id in app.sessions.people_with_email(email):
        with app.store.read() as conn:
            user = tenancy.get_user(conn, user_id, org_id)
        if user is None or not user.email:
            continue
        issued = app.sessions.issue_link(user_id, org_id, via="email", by="signin_page")
        try:
            smtp.send(message(app, user, link_url(app.settings.console_url, issued.code, next_path)))
            sent += 1
        except Exception as exc:  # the page already answered: say it in the log, without the address
            log.warning("could not email sign-in link %s: %s", issued.link.id, type(exc).__name__)
    return sent


class Requests:
    """How many 'email me a link' requests a client address, and an address typed in, may
    make (``signin_link_requests``, a moving window in this process)."""

    def __init__(self, rate: str) -> None:
        self.item: RateLimitItem = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def wait(self, client: str, email: str) -> int | None:
        """Seconds to wait when either is over its limit (nothing counted); else count, None."""
        keys = (("address", client), ("email", email.strip().lower()))
        for kind, key in keys:
            if not self._limiter.test(self.item, kind, key):
                reset, _left = self._limiter.get_window_stats(self.item, kind, key)
                return max(1, math.ceil(reset - time.time()))
        for kind, key in keys:
            self._limiter.hit(self.item, kind, key)
        return None
