"""Probes, metrics and the console's front door: /healthz, /readyz, /metrics and /."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from overture.app import App
from overture.settings import Settings
from tests.conftest import MECHANICS, event, make_app
from tests.integration.test_http_api import in_process, is_problem, issue, paused


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_healthz_needs_nothing(app: App) -> None:
    """/healthz answers 200 without a token and without asking the database."""
    with in_process(app) as api:
        response = api.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(app: App) -> None:
    """/readyz answers 200 with the schema revision when the database is reachable and current."""
    with in_process(app) as api:
        response = api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready" and response.json()["schema_revision"]


def test_readyz_is_503_on_a_database_never_migrated(tmp_path: Path) -> None:
    """/readyz answers 503 problem+json telling the operator to migrate."""
    app = App(Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}", packs=[MECHANICS]))
    try:
        with in_process(app) as api:
            problem = is_problem(api.get("/readyz"), 503)
    finally:
        app.close()
    assert "no revision (never migrated)" in problem["detail"] and "overture migrate" in problem["detail"]


def test_readyz_and_metrics_are_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    """With the database gone, /readyz and /metrics answer 503 and /healthz still 200."""
    app = App(Settings(database_url=f"sqlite:///{tmp_path / 'missing' / 'x.db'}", packs=[MECHANICS]))
    try:
        with in_process(app) as api:
            ready = is_problem(api.get("/readyz"), 503)
            metrics = is_problem(api.get("/metrics"), 503)
            alive = api.get("/healthz").status_code
    finally:
        app.close()
    assert ready["detail"] == metrics["detail"] == "the database is unreachable (OperationalError)"
    assert alive == 200


def test_metrics_count_events_jobs_queue_approvals_and_steps(app: App) -> None:
    """/metrics reports events by outcome, jobs by status, queue depth, pending approvals, step durations."""
    org = issue(app, "acme")
    with in_process(app) as api:
        paused(api, app, org)
        api.post("/v1/events", json=event("gated", {"ref": "r1"}), headers=org)
        api.post("/v1/events", json=event("five_steps"), headers=org)
        api.post("/v1/events", json=event("five_steps", {"n": 2}), headers=org)
        response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = samples(response.text)
    assert got[("overture_events_total", (("outcome", "accepted"),))] == 3
    assert got[("overture_events_total", (("outcome", "duplicate"),))] == 1
    assert got[("overture_jobs", (("status", "awaiting_approval"),))] == 1
    assert got[("overture_jobs", (("status", "pending"),))] == 2
    assert got[("overture_jobs", (("status", "completed"),))] == 0
    assert got[("overture_queue_depth", ())] == 2
    assert got[("overture_pending_approvals", ())] == 1
    completed = (("event_type", "gated"), ("status", "completed"), ("step", "draft"))
    assert got[("overture_step_duration_seconds_count", completed)] == 1
    assert got[("overture_step_duration_seconds_bucket", tuple(sorted((("le", "+Inf"), *completed))))] == 1
    assert got[("overture_step_duration_seconds_sum", completed)] >= 0


def test_each_app_has_its_own_metrics_registry(app: App, db_url: str, tmp_path: Path) -> None:
    """Two services in one process report their own databases, and nothing goes to the global registry."""
    other = make_app(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        app.admin.set_feature("acme", "five_steps", False)
        app.emit(event("five_steps"))
        with in_process(app) as first, in_process(other) as second:
            ours = samples(first.get("/metrics").text)
            theirs = samples(second.get("/metrics").text)
    finally:
        other.close()
    assert ours[("overture_events_total", (("outcome", "skipped"),))] == 1
    assert not any(name == "overture_events_total" for name, _ in theirs)
    assert REGISTRY.get_sample_value("overture_queue_depth") is None


def test_the_console_sign_in_page_is_served(app: App) -> None:
    """/ leads to the console's sign-in page (HTML), which links the API's documentation."""
    with in_process(app) as api:
        response = api.get("/", follow_redirects=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<h1>Sign in</h1>" in response.text and 'href="/docs"' in response.text
