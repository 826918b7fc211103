"""What both clients share about HTTP: the base URL and token they default to, the headers they
send, and how an answer becomes JSON or an exception."""

from __future__ import annotations

import os
from typing import Any

import httpx

from overture import __version__
from overture.client.calls import Call
from overture.client.errors import error_for

DEFAULT_URL = "http://127.0.0.1:8000"


def settings(base_url: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    """The base URL (argument, else ``OVERTURE_URL``, else a local ``overture serve``) and the
    headers every request carries (the token: argument, else ``OVERTURE_TOKEN``)."""
    url = base_url or os.environ.get("OVERTURE_URL") or DEFAULT_URL
    secret = token or os.environ.get("OVERTURE_TOKEN")
    if not secret:
        raise ValueError("token: pass token= or set OVERTURE_TOKEN (make one with `overture tokens create`)")
    return url, {"Authorization": f"Bearer {secret}", "User-Agent": f"overture-client/{__version__}"}


def request_options(call: Call, timeout: httpx.Timeout) -> dict[str, Any]:
    options: dict[str, Any] = {"params": call.params, "headers": dict(call.headers)}
    if call.json is not None:
        options["json"] = call.json
    if call.timeout is not None:
        options["timeout"] = httpx.Timeout(timeout.connect, read=max(call.timeout, timeout.read or 0))
    return options


def answer(response: httpx.Response) -> Any:
    """The JSON of a successful answer; raise the typed error of any other."""
    if response.is_success:
        return response.json()
    try:
        body = response.json()
    except ValueError:
        body = None
    raise error_for(response.status_code, body, response.reason_phrase, response.headers.get("Retry-After"))
