"""A fake storage host for the guarded client: https on 127.0.0.1 with a certificate for
``storage.test`` (made by trustme), a ``SafeFetch`` that trusts it and may reach that one loopback
address, and the service with its MeetingBaaS receiver fetching through a given client."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import trustme

from overture.app import App
from overture.http import create_app
from overture.http.webhooks.intake import Intake
from overture.integrations.apis import ApiError
from overture.integrations.safe_fetch import FetchPolicy, SafeFetch
from tests.integration.test_http_api import Client
from tests.unit.test_integrations_apis import FakeApi, Handler

STORAGE = "storage.test"
_CA = trustme.CA()
_CERT = _CA.issue_cert(STORAGE, "127.0.0.1")


@contextmanager
def tls_storage(handler: Handler) -> Iterator[FakeApi]:
    """A fake storage host speaking https on 127.0.0.1, its certificate for ``storage.test``;
    ``url`` names it by that host."""
    fake = FakeApi(handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _CERT.configure_cert(context)
    server = fake._server
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.url = f"https://{STORAGE}:{server.server_address[1]}"
    with fake:
        yield fake


def resolver(names: dict[str, str], calls: list[str] | None = None) -> Callable[[str, int], Sequence[str]]:
    """A resolver answering from ``names`` (literal addresses answer themselves)."""

    def resolve(host: str, _port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        if host not in names:
            raise ApiError("name resolution", f"{host} does not resolve")
        return [names[host]]

    return resolve


def trusting_fetcher(
    *, hosts: Sequence[str] = (STORAGE,), networks: Sequence[str] = ("127.0.0.1/32",), **policy: Any
) -> SafeFetch:
    """A guarded client that trusts the fake's certificate, resolves ``storage.test`` to
    127.0.0.1 and may reach that one loopback address (and no other)."""
    context = ssl.create_default_context()
    _CA.configure_trust(context)
    fetch_policy = FetchPolicy("meetingbaas artifacts", tuple(hosts), tuple(networks), **policy)
    return SafeFetch(fetch_policy, resolver=resolver({STORAGE: "127.0.0.1"}), verify=context)


@contextmanager
def receiver(app: App, fetcher: SafeFetch | None = None) -> Iterator[Client]:
    """The service, its MeetingBaaS receiver fetching with ``fetcher`` (the production one,
    built from the settings, when None)."""
    api = create_app(app)
    api.state.webhook_intake = Intake(app, fetcher=fetcher)
    client = Client(api)
    try:
        yield client
    finally:
        client.close()
