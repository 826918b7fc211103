"""/openapi.json says what the service does: problem+json errors, bearer security, and a
schemathesis run over every operation finds no server error and no response outside the schema."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from overture.app import App
from overture.http import create_app
from tests.integration.test_http_api import in_process, issue, paused

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Per operation, mode and id set; the suite keeps it small (the security schema run adds a
# bounded all-checks pass against a real server, and `-m slow` a long one).
EXAMPLES = int(os.environ.get("OVERTURE_SCHEMA_EXAMPLES", "15"))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()
    ]


def test_every_error_is_documented_as_problem_json(app: App) -> None:
    """Each documented 4xx/5xx is application/problem+json; FastAPI's own 422 schema is gone."""
    document = create_app(app).openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert {"Problem", "EventIn"} <= set(document["components"]["schemas"])
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_v1_operations_declare_bearer_security_and_their_refusals(app: App) -> None:
    """Every /v1 operation needs the bearer scheme and documents 401; probes need nothing."""
    document = create_app(app).openapi()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ov_ token",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    for method, path, op in operations(document):
        if path.startswith("/v1/"):
            assert op["security"] == [{"bearer": []}] and "401" in op["responses"], (method, path)
        else:
            assert "security" not in op, (method, path)
    events = document["paths"]["/v1/events"]["post"]
    assert set(events["responses"]) == {"202", "400", "401", "403", "413", "415", "422", "429", "503"}
    assert "Retry-After" in events["responses"]["429"]["headers"]
    assert events["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EventIn"
    }
    assert [p["name"] for p in events["parameters"]] == ["Idempotency-Key"]


def _run(case_strategy: Any, headers: dict[str, str], failures: list[str], label: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=case_strategy)
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except Exception as exc:
        failures.append(f"{label}: {exc}")


# One backend: the cases read little of the database, and the bounded all-checks run of
# test_security_schema fuzzes a real server on PostgreSQL.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_schemathesis_finds_no_server_errors_or_schema_violations(app: App) -> None:
    """Valid and invalid requests to every operation, with random and real ids: no 5xx, all as documented."""
    ana = issue(app, "acme", "ana")
    admin = issue(app, None, admin=True)
    with in_process(app) as client:
        job_id, action_id = paused(client, app, ana)
    api = create_app(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    real_ids = {"job_id": job_id, "action_id": action_id, "org_id": "acme"}
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        op = result.ok()
        headers = admin if op.path.startswith("/v1/orgs") else ana
        has_inputs = bool(op.path_parameters or op.query or op.headers or op.body)
        modes = (
            (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_inputs else (GenerationMode.POSITIVE,)
        )
        id_sets: list[dict[str, str] | None] = [None]
        if op.path_parameters:
            names = {p.name for p in op.path_parameters}
            id_sets.append({k: v for k, v in real_ids.items() if k in names})
        for mode in modes:
            for ids in id_sets:
                strategy = op.as_strategy(generation_mode=mode, path_parameters=ids)
                _run(strategy, headers, failures, f"{op.label} {mode.value} ids={ids}")
                ran += 1
    assert ran >= 20
    assert failures == []
