"""Finding 2: every receiver and the /v1 API read JSON through one reader with depth, size and key
limits. Bodies nested thousands of levels deep, or holding too many keys, are a 400 problem that
changes nothing and logs no traceback; fuzzed bodies never produce a 5xx."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from overture.app import App
from overture.clock import FakeClock
from overture.core.webhooks import pending_action_ref
from overture.integrations import graph as graph_api
from overture.integrations import safe_json
from overture.integrations.apis import WebhookRejected
from tests.integration.test_http_api import Client, in_process, is_problem, issue
from tests.integration.test_webhooks_accounts import connect, hooks_app, snapshot
from tests.integration.test_webhooks_meetingbaas import API_KEY, v1
from tests.integration.test_webhooks_slack import SECRET, signed
from tests.unit.test_integrations_meetingbaas import V1_COMPLETE
from tests.unit.test_integrations_slack import BLOCK_ACTIONS

DEPTHS = (1_000, 100_000)
LIMIT = 1_048_576


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def deep_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


@pytest.fixture
def api(hooks: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("OVERTURE_MEETINGBAAS_API_KEY", API_KEY)
    monkeypatch.setenv("OVERTURE_SLACK_SIGNING_SECRET", SECRET)
    connect(hooks, "slack", "T111", user=None)
    connect(hooks, "meetingbaas", "ana-recorder", secret="cb-secret")
    with in_process(hooks) as client:
        yield client


def slack_form(payload: bytes) -> bytes:
    return b"payload=" + quote(payload).encode()


def gmail_push(data: bytes) -> bytes:
    encoded = base64.urlsafe_b64encode(data).decode()
    return json.dumps({"message": {"data": encoded, "messageId": "m1"}, "subscription": "s"}).encode()


def deliveries(hooks: App, body: bytes) -> list[tuple[str, bytes, dict[str, str]]]:
    """The body sent to every JSON receiver, each with credentials it accepts (Graph's are
    inside the body, Gmail's are not configured, so those two take it unauthenticated)."""
    json_type = {"content-type": "application/json"}
    return [
        ("/webhooks/meetingbaas", body, {"x-meeting-baas-api-key": API_KEY, **json_type}),
        ("/webhooks/gmail", body, json_type),
        ("/webhooks/gmail", gmail_push(body), json_type),
        ("/webhooks/microsoft-graph", body, json_type),
        ("/slack/interactions", slack_form(body), signed(hooks, slack_form(body))),
    ]


@pytest.mark.parametrize("depth", DEPTHS)
def test_deeply_nested_bodies_are_400_at_every_receiver(
    hooks: App, api: Client, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Objects and arrays nested 1,000 and 100,000 deep: 400 problem+json naming the limit, nothing
    recorded, no error logged, at every receiver, credentials valid or not needed."""
    before = snapshot(hooks)
    for body in (nested(depth), deep_list(depth)):
        for url, content, headers in deliveries(hooks, body):
            with caplog.at_level(logging.INFO):
                response = api.post(url, content=content, headers=headers)
            if len(content) > LIMIT:  # URL-encoded for Slack, it is over the body limit first
                is_problem(response, 413)
                continue
            detail = is_problem(response, 400)["detail"]
            assert f"nested {depth} levels deep; at most 128" in detail, (url, detail)
    assert snapshot(hooks) == before
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_too_many_keys_is_400(hooks: App, api: Client) -> None:
    """A body with more keys than the limit is refused before it is parsed."""
    body = b"{" + b'"a":0,' * 100_000 + b'"a":0}'
    for url, content, headers in deliveries(hooks, body)[:2]:
        detail = is_problem(api.post(url, content=content, headers=headers), 400)["detail"]
        assert "has 100001 keys; at most 100000" in detail


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_api_refuses_deep_bodies_on_every_route_that_takes_one(app: App, depth: int) -> None:
    """/v1/events, a decision and /v1/orgs: 400 problem+json, nothing written."""
    ana, admin = issue(app, "acme", "ana"), issue(app, None, admin=True)
    json_type = {"Content-Type": "application/json"}
    with in_process(app) as client:
        for url, token in (
            ("/v1/events", ana),
            ("/v1/approvals/a1/decision", ana),
            ("/v1/orgs", admin),
            ("/v1/orgs/acme/users", admin),
        ):
            response = client.post(url, content=nested(depth), headers={**token, **json_type})
            detail = is_problem(response, 400)["detail"]
            assert f"nested {depth} levels deep; at most 128" in detail, url


def test_the_reader_measures_without_recursing() -> None:
    """Depth and key counts ignore brackets and colons inside strings, escapes included."""
    assert safe_json.measure(b'{"a": "[[[{:", "b\\"[": [1, {"c": 2}]}') == (3, 3)
    assert safe_json.measure(b"7") == (0, 0)
    assert safe_json.loads(b'{"x": [1, 2]}') == {"x": [1, 2]}
    with pytest.raises(safe_json.JsonRefused, match="at most 2"):
        safe_json.loads(b"[[[1]]]", safe_json.JsonLimits(max_depth=2))
    with pytest.raises(safe_json.JsonRefused, match="4 bytes; at most 3"):
        safe_json.loads(b"[11]", safe_json.JsonLimits(max_bytes=3))
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        safe_json.loads(b"[NaN]")


# -- fuzzing ------------------------------------------------------------------------------------

_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


def _shaped(doc: Any) -> bytes:
    """Valid-looking senders' bodies with a fuzzed part, or fuzzed JSON, or raw bytes."""
    return json.dumps(doc).encode()


_SHAPED = st.one_of(
    _JSON.map(_shaped),
    _JSON.map(lambda d: _shaped({"event": "complete", "data": d})),
    _JSON.map(lambda d: _shaped({**V1_COMPLETE, "data": {**V1_COMPLETE["data"], "transcript": d}})),
    _JSON.map(lambda d: _shaped({"value": [d]})),
    _JSON.map(lambda d: _shaped({"value": [{"subscriptionId": "s", "clientState": "x", "resource": d}]})),
    _JSON.map(lambda d: _shaped({**BLOCK_ACTIONS, "actions": d})),
    st.integers(1, 3000).map(nested),
    st.binary(max_size=200),
)


def _fuzz(hooks: App, api: Client, examples: int) -> dict[str, int]:
    tally = {"tries": 0, "accepted": 0, "5xx": 0}

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=_SHAPED, target=st.integers(0, 4))
    def run(body: bytes, target: int) -> None:
        url, content, headers = deliveries(hooks, body)[target]
        response = api.post(url, content=content, headers=headers)
        tally["tries"] += 1
        tally["accepted"] += response.status_code < 300
        tally["5xx"] += response.status_code >= 500
        assert response.status_code < 500, (url, content[:200], response.text)

    run()
    return tally


def test_fuzzed_webhook_bodies_never_produce_a_5xx(hooks: App, api: Client) -> None:
    """A bounded hypothesis run over the five JSON receivers: every answer is below 500."""
    tally = _fuzz(hooks, api, 60)
    assert tally["tries"] >= 60 and tally["5xx"] == 0


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_long_fuzz_run_never_produces_a_5xx(hooks: App, api: Client) -> None:
    """The same, 3,000 examples (`pytest -m slow`)."""
    tally = _fuzz(hooks, api, 3_000)
    print(f"webhook fuzz: {tally}")
    assert tally["5xx"] == 0


def test_a_valid_body_still_goes_through(hooks: App, api: Client) -> None:
    """The limits leave real senders' bodies alone."""
    response = api.post(
        "/webhooks/meetingbaas",
        content=json.dumps(v1()).encode(),
        headers={"x-meeting-baas-api-key": API_KEY, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text


def test_a_deeply_nested_button_value_names_no_action() -> None:
    """A button value or modal metadata is JSON inside the (already measured) Slack payload; one
    nested 50,000 deep names no pending action instead of raising RecursionError."""
    assert pending_action_ref("{" + '"a":{' * 50_000 + "}" * 50_001) is None
    assert pending_action_ref('{"pending_action_id": "pa_1"}') == "pa_1"


def test_a_lone_surrogate_client_state_is_refused_not_a_crash() -> None:
    """Graph's clientState is compared as bytes; one that is a lone surrogate (valid JSON, not
    encodable as UTF-8) is a mismatch, 401, where it raised UnicodeEncodeError (a 500)."""
    body = b'{"value": [{"subscriptionId": "s1", "clientState": "\\ud800"}]}'
    with pytest.raises(WebhookRejected) as caught:
        graph_api.parse_notifications(body, {"s1": "the-secret"})
    assert caught.value.status == 401
