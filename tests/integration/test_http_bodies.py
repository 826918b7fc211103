"""Request bodies and errors on both backends: size limits, malformed and invalid input, problem+json."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from overture.app import App
from overture.http import create_app
from overture.storage.tables.orchestrator import audit_log, events, sequence_jobs
from tests.conftest import event
from tests.integration.test_http_api import Client, count, in_process, is_problem, issue

LIMIT = 4096


@pytest.fixture
def api(app: App) -> Iterator[Client]:
    with in_process(app, max_body_bytes=LIMIT) as client:
        yield client


@pytest.fixture
def org(app: App) -> dict[str, str]:
    return issue(app, "acme")


def nothing_written(app: App) -> bool:
    return count(app, events) == count(app, sequence_jobs) == count(app, audit_log) == 0


def test_a_declared_oversized_body_is_413_before_parsing(app: App, api: Client, org: dict[str, str]) -> None:
    """A Content-Length over the limit is refused with 413: the (invalid) JSON is never parsed."""
    body = b"{" + b"x" * LIMIT
    response = api.post("/v1/events", content=body, headers={**org, "Content-Type": "application/json"})
    problem = is_problem(response, 413)
    assert problem["detail"] == f"the request body is {LIMIT + 1} bytes; the limit is {LIMIT} bytes"
    assert nothing_written(app)


def test_a_chunked_oversized_body_is_413(app: App, api: Client, org: dict[str, str]) -> None:
    """A body without Content-Length is read only up to the limit, then refused with 413."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    headers = {**org, "Content-Type": "application/json"}
    response = api.post("/v1/events", content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    assert is_problem(response, 413)["detail"] == f"the request body exceeds the limit of {LIMIT} bytes"
    assert nothing_written(app)


def test_a_body_at_the_limit_is_accepted(app: App, api: Client, org: dict[str, str]) -> None:
    """A body of exactly the limit is read and processed; one byte more is not."""
    data = event("five_steps", {"pad": ""})
    data["payload"]["pad"] = "p" * (LIMIT - len(json.dumps(data)))
    exact = json.dumps(data).encode()
    assert len(exact) == LIMIT
    headers = {**org, "Content-Type": "application/json"}
    assert api.post("/v1/events", content=exact, headers=headers).status_code == 202
    assert api.post("/v1/events", content=exact + b" ", headers=headers).status_code == 413


def test_the_limit_applies_to_every_route(app: App, api: Client, org: dict[str, str]) -> None:
    """Even a route that takes no body refuses an oversized one before authenticating."""
    response = api.request("GET", "/v1/jobs", content=b"x" * (LIMIT + 1))
    assert is_problem(response, 413)["instance"] == "/v1/jobs"


def test_a_bad_content_length_is_400(app: App, api: Client) -> None:
    """A Content-Length that is not a number of bytes is a 400."""
    response = api.post("/v1/events", content=b"{}", headers={"Content-Length": "lots"})
    assert is_problem(response, 400)["detail"] == "Content-Length: 'lots' is not a number of bytes"


def test_max_body_bytes_must_be_positive(app: App) -> None:
    """create_app refuses a limit below one byte."""
    with pytest.raises(ValueError, match="max_body_bytes"):
        create_app(app, max_body_bytes=0)


@pytest.mark.parametrize(
    ("content", "status", "detail"),
    [
        (
            b"{bad",
            400,
            "the request body is not valid JSON: Expecting property name enclosed in double quotes ",
        ),
        (b"", 400, "the request body is empty; expected a JSON object"),
        (b'{"type": NaN}', 400, "the request body is not valid JSON: NaN is not a JSON number"),
        (b"[" * 2000 + b"]" * 2000, 400, "the request body is nested 2000 levels deep; at most 128 are read"),
        (b"[1, 2]", 422, "event: expected a JSON object, got list"),
        (b'"five_steps"', 422, "event: expected a JSON object, got str"),
    ],
)
def test_malformed_bodies_are_refused_precisely(
    app: App, api: Client, org: dict[str, str], content: bytes, status: int, detail: str
) -> None:
    """Bodies that are not a JSON object are 400 (not JSON) or 422 (not an object), nothing written."""
    response = api.post("/v1/events", content=content, headers={**org, "Content-Type": "application/json"})
    assert is_problem(response, status)["detail"].startswith(detail)
    assert nothing_written(app)


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"payload": []}, "payload: Input should be a valid dictionary"),
        ({"type": 7}, "type: Input should be a valid string"),
        ({"type": "Bad Type"}, "type: invalid value 'Bad Type' (expected pattern ^[a-z][a-z0-9_]{0,63}$)"),
        ({"type": "no_such_type"}, "type: unknown event type 'no_such_type' (known: "),
        ({"colour": "red"}, "colour: unknown field"),
        (
            {"occurred_at": "2026-01-01T10:00:00"},
            "occurred_at: Value error, must carry a time zone",
        ),
        ({"user_id": None}, "user_id: Input should be a valid string"),
        ({"payload": {"note": "a\x00b"}}, "payload.note: NUL characters (\\u0000) are not allowed"),
        ({"payload": {"big": 1e400}}, "payload.big: number out of range"),
        ({"idempotency_key": "k\x00"}, "idempotency_key: NUL characters"),
    ],
)
def test_invalid_events_are_422_naming_the_field(
    app: App, api: Client, org: dict[str, str], changes: dict[str, Any], detail: str
) -> None:
    """Wrong types, bad patterns, unknown types and fields, and unstorable values: 422, nothing written."""
    data = {**event("five_steps"), **changes}
    body = json.dumps(data).replace("Infinity", "1e400").encode()
    response = api.post("/v1/events", content=body, headers={**org, "Content-Type": "application/json"})
    assert is_problem(response, 422)["detail"].startswith(detail)
    assert nothing_written(app)


def test_a_missing_field_is_named(app: App, api: Client, org: dict[str, str]) -> None:
    """An event without user_id is a 422 saying user_id is required."""
    data = event("five_steps")
    del data["user_id"]
    assert (
        is_problem(api.post("/v1/events", json=data, headers=org), 422)["detail"] == "user_id: Field required"
    )


def test_events_must_be_sent_as_json(app: App, api: Client, org: dict[str, str]) -> None:
    """A form-encoded or untyped body is a 415 naming what was sent."""
    form = api.post("/v1/events", data={"type": "five_steps"}, headers=org)
    assert is_problem(form, 415)["detail"] == (
        "Content-Type: expected application/json, got 'application/x-www-form-urlencoded'"
    )
    bare = api.post("/v1/events", content=b"{}", headers=org)
    assert is_problem(bare, 415)["detail"] == "Content-Type: expected application/json, got none"
    assert nothing_written(app)


def test_json_with_a_suffix_media_type_is_accepted(app: App, api: Client, org: dict[str, str]) -> None:
    """application/<something>+json and a charset parameter are JSON too."""
    body = json.dumps(event("five_steps")).encode()
    for ctype in ("application/json; charset=utf-8", "application/vnd.overture.event+json"):
        assert api.post("/v1/events", content=body, headers={**org, "Content-Type": ctype}).status_code == 202


def test_unknown_routes_and_methods_are_problems(api: Client, org: dict[str, str]) -> None:
    """404 for an unknown path, 405 with Allow for a wrong method, both problem+json."""
    missing = is_problem(api.get("/v2/jobs", headers=org), 404)
    assert missing["detail"] == "no resource at /v2/jobs" and missing["instance"] == "/v2/jobs"
    wrong = api.request("DELETE", "/v1/events", headers=org)
    assert is_problem(wrong, 405)["detail"] == "DELETE is not allowed on /v1/events; allowed: POST"
    assert wrong.headers["allow"] == "POST"


def test_path_ids_are_validated(api: Client, org: dict[str, str]) -> None:
    """An id that cannot exist (bad characters) is a 422 naming the path parameter."""
    bad = is_problem(api.get("/v1/jobs/%00nul", headers=org), 422)
    assert bad["errors"][0]["location"] == "path.job_id"


def test_idempotency_key_header_is_validated(app: App, api: Client, org: dict[str, str]) -> None:
    """An over-long Idempotency-Key header is a 422 naming the header; nothing is written."""
    headers = {**org, "Idempotency-Key": "k" * 300}
    response = api.post("/v1/events", json=event("five_steps"), headers=headers)
    assert is_problem(response, 422)["errors"][0]["location"] == "header.Idempotency-Key"
    assert nothing_written(app)
