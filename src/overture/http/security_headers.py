"""Security headers on every answer: no content sniffing, no framing, no referrer, nothing of the
API's or the console's kept in caches, and HSTS once the request came over https.

Whether it came over https is what the server says (``scope["scheme"]``): uvicorn takes
``X-Forwarded-Proto`` from the proxies it trusts (``--forwarded-allow-ips``, 127.0.0.1 by
default), so a client cannot claim https on its own.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"
#: Paths whose answers are never stored: the API's and the senders' (webhooks, Slack).
NO_STORE_PREFIXES = ("/v1/", "/webhooks/", "/slack/")
_ALWAYS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


class SecurityHeaders:
    """ASGI middleware adding the headers to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        api = path.startswith(NO_STORE_PREFIXES) or path == "/v1"
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS.items():
                    headers.setdefault(name, value)
                if api or headers.get("content-type", "").startswith("text/html"):
                    headers["Cache-Control"] = "no-store"
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
