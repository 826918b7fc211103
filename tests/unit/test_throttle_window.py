"""A client locked out for failed authentications may try again once its failures have left
the window, and a client that never failed is never held back."""

from __future__ import annotations

import time

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
