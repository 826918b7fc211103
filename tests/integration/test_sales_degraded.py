"""Tier-3 sources down, failing or unconfigured: sequences complete, degraded, and say so in their
execution metadata; the same sources working feed the steps (loopback fakes of the real APIs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.packs.sales import testing as t
from overture.storage.queries import jobs as jobq
from tests.unit.test_sales_clients import Fake

MONDAY = date(2026, 11, 23)
Build = Callable[[dict[str, str]], App]


@pytest.fixture
def fakes() -> Iterator[list[Fake]]:
    started: list[Fake] = []
    yield started
    for fake in started:
        fake.close()


@pytest.fixture
def build(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Build]:
    """An App on the seed org whose pack reads the given OVERTURE_* source settings."""
    apps: list[App] = []

    def make(env: dict[str, str]) -> App:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        app = t.sales_app(db_url, FakeClock(t.local(MONDAY, 8, 30)), tmp_path / "outbox")
        t.load_seed(app)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def serve(fakes: list[Fake], route: Callable[[str, str, dict[str, str], Any], tuple[int, Any]]) -> str:
    fakes.append(Fake(route))
    return fakes[-1].url


def prep(app: App) -> tuple[str, dict[str, Any]]:
    meeting = t.step_context(app).context["tier3"]["crm"].meetings(owner_id=t.MAYA, status="scheduled")[0]
    result = app.emit(t.event("pre_meeting_90min", {"meeting_id": meeting["id"]}, source="cron:pre_meeting"))
    app.run_until_idle()
    job = next(j for j in t.jobs(app) if j.id == result.job_id)
    assert job.status.value == "completed"
    return job.id, (job.execution_metadata or {})["context_loads"]


def test_failing_enrichment_sources_degrade_the_prep(build: Build, fakes: list[Fake]) -> None:
    """Apollo answers 500 and Apify 502: both recorded unavailable, the brief still delivered."""
    apollo = serve(fakes, lambda *a: (500, {"error": {"message": "down"}}))
    apify = serve(fakes, lambda *a: (502, {"error": "bad gateway"}))
    app = build(
        {
            "OVERTURE_APOLLO_BASE_URL": apollo,
            "OVERTURE_APOLLO_API_KEY": "k",
            "OVERTURE_APIFY_BASE_URL": apify,
            "OVERTURE_APIFY_TOKEN": "tok",
            "OVERTURE_APIFY_LINKEDIN_ACTOR": "a~linkedin",
            "OVERTURE_APIFY_NEWS_ACTOR": "a~news",
        }
    )
    job, loads = prep(app)
    assert {n: (loads[n]["ok"], loads[n]["error"]) for n in ("apollo", "linkedin", "company_news")} == {
        "apollo": (False, "ApiError"),
        "linkedin": (False, "ApiError"),
        "company_news": (False, "ApiError"),
    }
    enrich = t.output(app, job, "enrich")
    assert enrich["degraded"] is True and enrich["sources"] == {
        "apollo": False,
        "linkedin": False,
        "company_news": False,
    }
    assert t.told(app, "deliver")[0].endswith("(Prepared without: apollo, linkedin, company_news.)")


def test_working_enrichment_sources_feed_the_prep(build: Build, fakes: list[Fake]) -> None:
    """Apollo's person and Apify's news reach the brief; nothing is reported missing."""
    apollo = serve(
        fakes,
        lambda m, p, h, body: (
            200,
            {"person": {"title": "Head of Support", "headline": "Runs a 40-seat support floor"}},
        ),
    )
    apify = serve(
        fakes,
        lambda m, p, h, body: (
            201,
            [{"title": "Sable Cloud raises Series C", "url": "https://n.example/1"}]
            if "news" in p
            else [{"headline": "Support leader"}],
        ),
    )
    app = build(
        {
            "OVERTURE_APOLLO_BASE_URL": apollo,
            "OVERTURE_APOLLO_API_KEY": "k",
            "OVERTURE_APIFY_BASE_URL": apify,
            "OVERTURE_APIFY_TOKEN": "tok",
            "OVERTURE_APIFY_LINKEDIN_ACTOR": "a~linkedin",
            "OVERTURE_APIFY_NEWS_ACTOR": "a~news",
        }
    )
    job, loads = prep(app)
    assert all(loads[n]["ok"] for n in ("apollo", "linkedin", "company_news"))
    points = t.output(app, job, "meeting-prep")["talking_points"]
    assert "In the news: Sable Cloud raises Series C" in points
    assert "Owen Pryce: Support leader" in points
    assert "Prepared without" not in t.told(app, "deliver")[0]


def test_campaign_metrics_down_leaves_the_brief_on_the_snapshot(build: Build) -> None:
    """Instantly unreachable: the brief completes from the CRM snapshot and records the outage."""
    app = build(
        {
            "OVERTURE_INSTANTLY_BASE_URL": "http://127.0.0.1:9",
            "OVERTURE_INSTANTLY_API_KEY": "k",
            "OVERTURE_SALES_SOURCE_TIMEOUT_S": "1",
        }
    )
    result = app.emit(t.event("morning_brief", {}, source="cron:morning"))
    app.run_until_idle()
    job = next(j for j in t.jobs(app) if j.id == result.job_id)
    loads = (job.execution_metadata or {})["context_loads"]
    assert job.status.value == "completed" and (
        loads["campaign_metrics"]["ok"],
        loads["campaign_metrics"]["error"],
    ) == (False, "ApiError")
    assert t.output(app, job.id, "campaign-metrics")["source"] == "crm snapshot"
    with app.store.read() as conn:
        audits = [a for a in jobq.audit_of(conn, job_id=job.id) if a["action"] == "context_unavailable"]
    assert [a["detail"]["sources"] for a in audits] == [["campaign_metrics"]]


def test_live_campaign_metrics_replace_the_snapshot(build: Build, fakes: list[Fake]) -> None:
    """Instantly configured and up: its counters are compared with the last snapshot."""
    live = [
        {
            "campaign_id": "camp_q4_logistics",
            "emails_sent_count": 1300,
            "reply_count_unique": 25,
            "bounced_count": 20,
            "open_count_unique": 300,
            "total_meeting_booked": 5,
        }
    ]
    url = serve(fakes, lambda *a: (200, live))
    app = build({"OVERTURE_INSTANTLY_BASE_URL": url, "OVERTURE_INSTANTLY_API_KEY": "k"})
    assert isinstance(app.clock, FakeClock)
    app.clock.set(t.local(MONDAY, 9, 0, "America/Chicago"))
    result = app.emit(t.event("campaign_check", {}, user=f"{t.ORG}.dana", source="cron:campaign_check"))
    app.run_until_idle()
    assert t.output(app, result.job_id or "", "monitor")["source"] == "instantly"
    assert t.told(app, "notify", f"{t.ORG}.dana") == [
        "Campaigns (instantly):\nQ4 Logistics Outbound: 10 new replies, 5 meetings booked"
    ]
