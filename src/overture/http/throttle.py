"""Throttling failed authentication: bearer tokens, console sign-ins and webhook signatures.

Each failure counts against the client's address and, when a token was presented, against the
token's first characters (guesses spread over many addresses still share them). Once either is
over its limit (a moving window, by ``limits``), every attempt from there is answered 429 with
``Retry-After`` until the window frees a try, before anything is checked: a valid credential
too, so a guess that happens to be right is not told so. Successes are never counted.

The counts live in this process (an in-memory store): each server process throttles on its
own. The start of each lockout is audited once (``auth_throttled``, with the kind and the key,
never the secret), and failures and refusals are counted for /metrics.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from overture.app import App
from overture.engine.audit import audit_row
from overture.http.problem import ProblemError
from overture.storage.queries import jobs as jobq

log = logging.getLogger("overture.http")

#: How many characters of a presented token name it for throttling (``ov_`` and five more).
PREFIX_CHARS = 8
#: Keys remembered before the first sweep of those whose last failure left its window.
SWEEP_FROM = 1024

Lockout = Callable[[str, str, str], None]
"""Called once when a key is locked out: (kind, "address" or "token", the key)."""


class Throttle:
    """The failure counts of one service."""

    def __init__(self, per_address: str, per_token: str, on_lockout: Lockout | None = None) -> None:
        self.per_address: RateLimitItem = parse(per_address)
        self.per_token: RateLimitItem = parse(per_token)
        self.on_lockout = on_lockout
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        # When each key last failed: a key with no failure inside its window cannot be locked
        # out, so the check every request makes skips the limiter for it.
        self._last_failure: dict[tuple[str, str, str], float] = {}
        self._sweep_at = SWEEP_FROM
        self.failures: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    def _keys(self, kind: str, address: str, token: str | None) -> list[tuple[RateLimitItem, str, str]]:
        keys = [(self.per_address, "address", address)]
        if token:
            keys.append((self.per_token, "token", token.strip()[:PREFIX_CHARS]))
        return keys

    def retry_after(self, kind: str, address: str, token: str | None = None) -> int | None:
        """Seconds before this client may try again (counted as a refusal), or None: it may now."""
        now = time.time()
        for item, key_kind, key in self._keys(kind, address, token):
            failed = self._last_failure.get((kind, key_kind, key))
            if failed is None:
                continue
            if now - failed > item.get_expiry():
                self._last_failure.pop((kind, key_kind, key), None)
                continue
            if not self._limiter.test(item, kind, key_kind, key):
                reset, _remaining = self._limiter.get_window_stats(item, kind, key_kind, key)
                self.refused[kind] += 1
                return max(1, math.ceil(reset - time.time()))
        return None

    def check(self, kind: str, address: str, token: str | None = None, what: str = "attempts") -> None:
        """Raise the 429 problem if this client is locked out."""
        wait = self.retry_after(kind, address, token)
        if wait is not None:
            raise ProblemError(
                429,
                f"too many failed {what} from this client; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, kind: str, address: str, token: str | None = None) -> None:
        """Count a failure; the one that uses up a key's last try starts its lockout."""
        self.failures[kind] += 1
        now = time.time()
        for item, key_kind, key in self._keys(kind, address, token):
            self._last_failure[(kind, key_kind, key)] = now
            spent = self._limiter.hit(item, kind, key_kind, key) and not self._limiter.test(
                item, kind, key_kind, key
            )
            if spent and self.on_lockout is not None:
                self.on_lockout(kind, key_kind, key)
        if len(self._last_failure) >= self._sweep_at:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Forget keys whose last failure has left the longest window. Failures from ever new
        addresses (or token prefixes) would otherwise each leave an entry behind for good; the
        next sweep comes once the keys still in their windows have doubled, so sweeping costs
        O(1) per failure and the keys kept stay within twice what the windows hold."""
        longest = max(self.per_address.get_expiry(), self.per_token.get_expiry())
        stale = [key for key, at in self._last_failure.items() if now - at > longest]
        for key in stale:
            del self._last_failure[key]
        self._sweep_at = max(SWEEP_FROM, 2 * len(self._last_failure))

    def collector(self) -> Collector:
        return _ThrottleCollector(self)


class _ThrottleCollector(Collector):
    """This process's counts, for /metrics."""

    def __init__(self, throttle: Throttle) -> None:
        self.throttle = throttle

    def collect(self) -> Iterable[CounterMetricFamily]:
        failures = CounterMetricFamily(
            "overture_auth_failures", "Failed authentications in this process, by kind.", labels=["kind"]
        )
        for kind, n in sorted(self.throttle.failures.items()):
            failures.add_metric([kind], n)
        yield failures
        refused = CounterMetricFamily(
            "overture_auth_throttled",
            "Attempts answered 429 in this process (too many failed authentications), by kind.",
            labels=["kind"],
        )
        for kind, n in sorted(self.throttle.refused.items()):
            refused.add_metric([kind], n)
        yield refused


def audited(app: App) -> Lockout:
    """A lockout handler that records each lockout in the audit log (never the key itself when
    it is a token's characters) and logs it."""

    def record(kind: str, key_kind: str, key: str) -> None:
        who = key if key_kind == "address" else "a token prefix"
        log.warning("auth throttled: too many failed %s attempts from %s", kind, who)
        row = audit_row(
            app.clock.now(), "auth_throttled", "too_many_failures", actor="http", kind=kind, key=key_kind
        )
        with app.store.write() as conn:
            jobq.insert_audit(conn, [row])

    return record


def throttle_for(app: App) -> Throttle:
    """The service's throttle, with the limits the settings give, its lockouts audited."""
    settings = app.settings
    return Throttle(
        settings.auth_failures_per_address, settings.auth_failures_per_token, on_lockout=audited(app)
    )


def client_address(scope_client: tuple[str, int] | None) -> str:
    """The address a request came from, as the server reports it (proxies it trusts included)."""
    return scope_client[0] if scope_client else "unknown"
