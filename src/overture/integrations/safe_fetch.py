"""The one guarded client for URLs that come from a request body (a v2 transcript link).

A sender who can name a URL could otherwise make the server fetch its own internal services.
So a URL is fetched only if it is https, its host is on the integration's allowlist, and every
address its name resolves to is public: loopback, private, link-local (the cloud metadata
address among them), shared, multicast and reserved addresses are refused after resolution,
not by name. The connection then goes to the very address that was checked (TLS still verifies
the host name), so a second resolution cannot swap in another (DNS rebinding). Redirects are
followed by hand and each hop is checked the same way; answers are read up to a size limit
within a time limit. A refusal is ``FetchRefused`` (the sender is to be told 422: sending the
same URL again will not help); a failure of the network or the far side is ``ApiError``.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import httpx

from overture.errors import OvertureError
from overture.integrations import safe_json
from overture.integrations.apis import USER_AGENT, ApiError, check_response

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""Host and port to the addresses they resolve to (``socket.getaddrinfo`` unless a test says)."""

METADATA = ipaddress.ip_address("169.254.169.254")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ERROR_BYTES = 65_536


class FetchRefused(OvertureError):
    """The URL is not one Overture fetches: scheme, host, address, redirect or answer size."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class FetchPolicy:
    """What one integration may fetch. ``hosts`` are lower-case patterns (``*.s3.amazonaws.com``);
    ``allowed_networks`` are otherwise refused networks it may reach anyway (an on-premises
    store, a test's fake on loopback)."""

    service: str
    hosts: tuple[str, ...]
    allowed_networks: tuple[str, ...] = ()
    max_bytes: int = 33_554_432
    timeout_s: float = 30.0
    max_redirects: int = 3
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        try:
            networks = tuple(ipaddress.ip_network(n, strict=False) for n in self.allowed_networks)
        except ValueError as exc:
            raise ValueError(f"allowed networks: {exc}") from None
        object.__setattr__(self, "_networks", networks)

    def host_allowed(self, host: str) -> bool:
        return any(fnmatchcase(host.lower(), pattern.lower()) for pattern in self.hosts)

    def excepted(self, address: Address) -> bool:
        return any(address in network for network in self._networks)


def why_not_public(address: Address) -> str | None:
    """Why ``address`` is not to be fetched from (None: it is a public address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address == METADATA:
        return "the cloud metadata address"
    for test, name in (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_private, "a private address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
    ):
        if test:
            return name
    return None if address.is_global else "a non-public address"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ApiError("name resolution", f"{host[:100]} does not resolve ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class SafeFetch:
    """GETs URLs under one ``FetchPolicy``; no credential of ours ever goes with them."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.verify = verify

    def get_json(self, url: str, limits: safe_json.JsonLimits | None = None) -> Any:
        """The JSON a URL answers, read by the safe reader within ``limits``."""
        body = self.get(url)
        limits = limits or safe_json.JsonLimits(max_bytes=self.policy.max_bytes, max_keys=10_000_000)
        try:
            return safe_json.loads(body, limits, what="the answer")
        except safe_json.JsonRefused as exc:
            raise FetchRefused("answer_refused", str(exc)) from None
        except ValueError:
            raise ApiError(self.policy.service, "the answer is not JSON") from None

    def get(self, url: str) -> bytes:
        """The body of a 2xx answer to ``GET url``, following at most ``max_redirects`` checked
        redirects; ``FetchRefused``, ``ApiError`` or ``RateLimited`` otherwise."""
        deadline = time.monotonic() + self.policy.timeout_s
        target = self.check_url(url)
        with httpx.Client(verify=self.verify, follow_redirects=False, trust_env=False) as http:
            for _hop in range(self.policy.max_redirects + 1):
                response_or_next = self._hop(http, target, deadline)
                if isinstance(response_or_next, bytes):
                    return response_or_next
                target = response_or_next
        raise FetchRefused(
            "too_many_redirects", f"more than {self.policy.max_redirects} redirects; none followed further"
        )

    def check_url(self, url: str) -> httpx.URL:
        """``url`` parsed, if its scheme and host are allowed."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise FetchRefused("bad_url", "the URL cannot be parsed") from None
        if parsed.scheme != "https":
            raise FetchRefused("scheme", f"only https URLs are fetched, not {parsed.scheme or 'none'!r}")
        if parsed.userinfo:
            raise FetchRefused("credentials", "a URL with credentials in it is not fetched")
        if not parsed.host or not self.policy.host_allowed(parsed.host):
            allowed = ", ".join(self.policy.hosts) or "none"
            raise FetchRefused(
                "host", f"{parsed.host[:100]!r} is not a {self.policy.service} host (allowed: {allowed})"
            )
        return parsed

    def address_of(self, url: httpx.URL) -> str:
        """The address to connect to: the first the host resolves to, once all were checked."""
        host, port = url.host, url.port or 443
        addresses = list(self.resolver(host, port))
        if not addresses:
            raise ApiError(self.policy.service, f"{host} resolves to no address")
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            why = why_not_public(address)
            if why is not None and not self.policy.excepted(address):
                raise FetchRefused("address", f"{host[:100]} resolves to {why}; it is not fetched")
        return addresses[0]

    def _hop(self, http: httpx.Client, url: httpx.URL, deadline: float) -> bytes | httpx.URL:
        """One request to the checked address: the body, or the next (checked) URL."""
        address = self.address_of(url)
        pinned = url.copy_with(host=address)
        left = deadline - time.monotonic()
        if left <= 0:
            raise ApiError(self.policy.service, f"no answer within {self.policy.timeout_s:.0f} s")
        headers = {"Host": url.netloc.decode("ascii"), "User-Agent": USER_AGENT, "Accept": "application/json"}
        extensions = {"sni_hostname": url.host}
        try:
            request = http.build_request(
                "GET", pinned, headers=headers, extensions=extensions, timeout=httpx.Timeout(left)
            )
            response = http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ApiError(self.policy.service, type(exc).__name__) from None
        try:
            if response.status_code in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise ApiError(self.policy.service, "a redirect without a Location", response.status_code)
                return self.check_url(str(url.join(location)))
            if not response.is_success:
                body = self._read(response, _ERROR_BYTES, deadline, refuse=False)
                check_response(
                    httpx.Response(response.status_code, headers=response.headers, content=body),
                    self.policy.service,
                )
            return self._read(response, self.policy.max_bytes, deadline)
        finally:
            response.close()

    def _read(self, response: httpx.Response, limit: int, deadline: float, *, refuse: bool = True) -> bytes:
        """The body, up to ``limit`` bytes (more is refused, or cut for an error answer)."""
        declared = response.headers.get("content-length", "")
        if refuse and declared.isdigit() and int(declared) > limit:
            raise FetchRefused("too_large", f"the answer is {declared} bytes; at most {limit} are read")
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > limit:
                    if not refuse:
                        break
                    raise FetchRefused("too_large", f"the answer is over {limit} bytes; it was not read")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise ApiError(
                        self.policy.service, f"no full answer within {self.policy.timeout_s:.0f} s"
                    )
        except httpx.HTTPError as exc:
            raise ApiError(self.policy.service, type(exc).__name__) from None
        return b"".join(chunks)[:limit]
