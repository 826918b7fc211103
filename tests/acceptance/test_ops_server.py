"""Operating jobs over real HTTP (uvicorn on loopback), on both backends: cancel a waiting job,
retry a failed one and every failed one of a type, replay an event despite dedupe, and an event
missing a field its sequence needs refused with a problem naming it."""

from __future__ import annotations

import httpx

from overture.app import App
from overture.clock import FakeClock
from overture.settings import Settings
from tests.acceptance.test_http_server import served
from tests.conftest import MECHANICS, event
from tests.integration.test_http_api import issue


def test_cancel_retry_and_replay_over_the_wire(app: App) -> None:
    ana = issue(app, "acme", "ana")
    with served(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        gated = http.post("/v1/events", json=event("gated", {"ref": "w"}), headers=ana).json()
        broken = http.post("/v1/events", json=event("must_stop", {"n": 1}), headers=ana).json()
        app.run_until_idle()
        cancelled = http.post(
            f"/v1/jobs/{gated['job_id']}/cancel", json={"reason": "not this one"}, headers=ana
        )
        assert cancelled.status_code == 200 and cancelled.json()["was"] == "awaiting_approval"
        assert http.get("/v1/approvals", headers=ana).json()["items"] == []
        assert http.get(f"/v1/jobs/{broken['job_id']}", headers=ana).json()["status"] == "failed"
        retried = http.post(f"/v1/jobs/{broken['job_id']}/retry", headers=ana)
        assert retried.status_code == 200 and retried.json()["status"] == "pending"
        app.run_until_idle()  # the step still breaks: failed again
        since = http.get(f"/v1/jobs/{broken['job_id']}", headers=ana).json()["created_at"]
        listed = http.post(
            "/v1/jobs/retry",
            json={"event_type": "must_stop", "since": since, "dry_run": True},
            headers=issue(app, "acme", "boss"),
        )
        assert [j["id"] for j in listed.json()["items"]] == [broken["job_id"]]
        refused = http.post("/v1/jobs/retry", json={"since": since}, headers=ana)
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        again = http.post("/v1/events", json=event("gated", {"ref": "w"}), headers=ana).json()
        assert again["status"] == "duplicate"
        replayed = http.post(
            f"/v1/events/{gated['event_id']}/replay", json={"reason": "try again"}, headers=ana
        )
        assert replayed.status_code == 202
        assert replayed.json()["status"] == "accepted" and replayed.json()["replay_of"] == gated["event_id"]


def test_an_event_missing_a_needed_field_is_refused_over_the_wire(db_url: str, clock: FakeClock) -> None:
    app = App(Settings(database_url=db_url, packs=[MECHANICS, "demo"]), clock=clock)
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    try:
        with served(app) as base, httpx.Client(base_url=base, timeout=10) as http:
            sent = http.post(
                "/v1/events",
                json=event("proposal_requested", {"account": "Globex"}),
                headers=issue(app, "acme", "ana"),
            )
        assert sent.status_code == 422 and sent.headers["content-type"] == "application/problem+json"
        assert sent.json()["errors"] == [
            {
                "location": "payload.to",
                "message": "missing; the proposal_requested sequence needs it (a string)",
            }
        ]
    finally:
        app.close()
