"""A client locked out for failed authentications may try again once its failures have left
the window, and a client that never failed is never held back."""

from __future__ import annotations

import time

import pytest

from overture.http.throttle import Throttle


def test_a_lockout_lifts_once_the_failures_leave_the_window() -> None:
    throttle = Throttle("2 per 1 second", "100 per 1 minute")
    assert throttle.retry_after("bearer", "192.0.2.1") is None
    throttle.failed("bearer", "192.0.2.1")
    assert throttle.retry_after("bearer", "192.0.2.1") is None  # one failure: under the limit
    throttle.failed("bearer", "192.0.2.1")
    assert throttle.retry_after("bearer", "192.0.2.1") == 1  # locked out
    assert throttle.retry_after("bearer", "192.0.2.2") is None  # another client is not
    assert throttle.retry_after("signin", "192.0.2.1") is None  # nor another kind of check
    time.sleep(1.1)
    assert throttle.retry_after("bearer", "192.0.2.1") is None
    throttle.failed("bearer", "192.0.2.1")
    assert throttle.retry_after("bearer", "192.0.2.1") is None  # counting starts afresh
    throttle.failed("bearer", "192.0.2.1")
    assert throttle.retry_after("bearer", "192.0.2.1") == 1


def test_failures_from_ever_new_addresses_are_forgotten_once_out_of_their_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A spray of failures, each from an address never seen before, leaves behind only the
    keys still inside their window: what is remembered stays bounded by the failure rate."""
    clock = [1_000_000.0]
    monkeypatch.setattr("overture.http.throttle.time.time", lambda: clock[0])
    throttle = Throttle("5 per 1 minute", "20 per 1 minute")
    for i in range(20_000):
        clock[0] += 0.01  # 100 failures a second, 6,000 inside any one minute
        throttle.failed("bearer", f"2001:db8::{i:x}", token=f"ov_{i:05x}")
    remembered = len(throttle._last_failure)
    assert remembered <= 4 * 6_000  # two keys (address, token) a failure, at most twice a window's
    assert throttle.retry_after("bearer", "2001:db8::0") is None  # the first left its window
    throttle.failed("bearer", "2001:db8::0")
    assert ("bearer", "address", "2001:db8::0") in throttle._last_failure  # and counts afresh
