"""``POST /v1/events`` on its shorter stack answers exactly as the full stack does: the same
statuses, problem documents and headers, for events accepted and for every kind of refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from overture.app import App
from overture.http import create_app
from tests.conftest import event as make_event
from tests.integration.test_http_api import issue

_ID = re.compile(r"\b[0-9a-f]{32}\b")  # ids differ between the two runs
_VOLATILE_HEADERS = {"date", "content-length"}


def _answers(app: App, *, lean: bool) -> list[tuple[int, dict[str, str], Any]]:
    api = create_app(app)
    assert api.lean_routes, "the service is not traced here: the route should be lean"
    if not lean:
        api.lean_routes = {}
    ana = issue(app, "acme", "ana")
    tag = "lean" if lean else "full"
    event = make_event("five_steps", {"ref": tag})
    sends: list[dict[str, Any]] = [
        {"json": event, "headers": ana},
        {"json": event, "headers": ana},  # a duplicate
        {"json": event},  # no token
        {"json": event, "headers": {"Authorization": "Bearer ov_not-a-real-token-at-all-000000000"}},
        {"content": b"type=meeting_ended", "headers": {**ana, "Content-Type": "text/plain"}},
        {"content": b"{not json", "headers": {**ana, "Content-Type": "application/json"}},
        {"content": b"x" * 2_000_000, "headers": ana},
        {"json": {**event, "type": "no_such_event"}, "headers": ana},
        {"json": {**event, "org_id": "globex"}, "headers": ana},  # another org's
        {"json": {**event, "idempotency_key": "a"}, "headers": {**ana, "Idempotency-Key": "b"}},
    ]
    found = []
    with TestClient(api, base_url="http://testserver") as client:
        for send in sends:
            answer = client.post("/v1/events", **send)
            headers = {k: v for k, v in answer.headers.items() if k not in _VOLATILE_HEADERS}
            body = _ID.sub("<id>", answer.text.replace(tag, "<tag>"))
            found.append((answer.status_code, headers, body))
    return found


def test_the_lean_route_answers_as_the_full_stack_does(app: App) -> None:
    full = _answers(app, lean=False)
    lean = _answers(app, lean=True)
    assert [status for status, _, _ in lean] == [202, 202, 401, 401, 415, 400, 413, 422, 403, 422]
    assert lean == full


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_other_methods_on_the_path_take_the_full_stack(app: App, method: str) -> None:
    with TestClient(create_app(app)) as client:
        answer = client.request(method, "/v1/events", headers=issue(app, "acme", "ana"))
    assert answer.status_code == 405
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_an_unexpected_error_is_answered_500_as_on_the_full_stack(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(app, "ingest_async", broken)
    found = []
    for lean in (True, False):
        api = create_app(app)
        if not lean:
            api.lean_routes = {}
        with TestClient(api, raise_server_exceptions=False) as client:
            answer = client.post(
                "/v1/events", json=make_event("five_steps"), headers=issue(app, "acme", "ana")
            )
        found.append((answer.status_code, answer.headers["content-type"], answer.json()["detail"]))
    assert found[0] == found[1]
    assert found[0][0] == 500 and found[0][1].startswith("application/problem+json")
    assert "disk" not in found[0][2]  # the cause is logged, not told
