"""The morning brief on the seed org, fired by the schedule at 08:00 in the rep's own zone,
reproduced exactly in the seed's format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.packs.sales import testing as t

MONDAY = date(2026, 11, 23)
EXPECTED = "\n".join(
    (
        "Good morning, Maya. Here's your Monday.",
        "MEETINGS TODAY (3)",
        "10:00 AM -- Owen Pryce, Sable Cloud Security (demo)",
        "[Prep ready ->]",
        "1:30 PM -- Amara Usman, Vantage Dental Group (pricing review)",
        "[Prepping now...]",
        "4:00 PM -- Marcus Hale, Oakridge Senior Living (check in)",
        "No prep needed",
        "NEEDS YOUR ATTENTION (4)",
        "Tom Reyes (Harborview Bank) -- Quick question before I take this to our CFO:"
        " does the price include the SSO add-on?",
        "[Draft reply ->] [Open thread ->]",
        "Paul Dimitriou (Northstar Schools) -- I'll be honest: our budget is frozen"
        " until April, so we need to hold off for now.",
        "[Draft response ->] [Open deal ->]",
        "Owen Pryce (Sable Cloud Security) -- Can we add 15 minutes at the end to talk about data retention?",
        "[Draft reply ->] [Open thread ->]",
        "Grace Liu (Evergreen Property) -- Are you free for a quick call next week to"
        " talk about a pilot for our Toronto buildings?",
        "[Send times ->] [Open thread ->]",
        "PIPELINE PULSE",
        "6 deals need action today",
        "2 deal(s) at risk (Quarry Stone Insurance - Ops Cloud rollout -- 25 days no activity)",
        "$120,000 in proposals awaiting response",
        "OVERNIGHT UPDATES",
        "\u2709\ufe0f Paul Dimitriou (Northstar Schools) replied: Re: Next steps",
        "\u2705 Oakridge Senior Living moved to closed won ($36,000)",
        "\u2709\ufe0f Tom Reyes (Harborview Bank) replied: Re: Proposal for Harborview Bank",
        "\U0001f4c8 Q4 Logistics Outbound: 4 new replies, 3 meetings booked",
        "\u26a0\ufe0f Q4 Logistics Outbound: bounce rate 6.4% is above 5%",
        "[Expand pipeline ->] [Show full inbox ->]",
    )
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t.local(MONDAY, 6, 0))


@pytest.fixture
def app(db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[App]:
    application = t.sales_app(db_url, clock, tmp_path / "outbox")
    t.load_seed(application)
    yield application
    application.close()


def test_the_scheduled_brief_is_the_seeds_format_exactly(app: App, clock: FakeClock) -> None:
    """Sable's prep is done, Vantage's gets queued, Oakridge is a won account needing none; the
    rest comes from the inbox, the pipeline, the campaign snapshot and yesterday evening."""
    sable = t.step_context(app).context["tier3"]["crm"].meetings(owner_id=t.MAYA, status="scheduled")[0]
    app.emit(t.event("pre_meeting_90min", {"meeting_id": sable["id"]}, source="cron:pre_meeting"))
    clock.set(t.local(MONDAY, 8, 0))
    app.run_until_idle()
    assert [j.status.value for j in t.jobs(app, "pre_meeting_90min")] == ["completed"]
    clock.advance(timedelta(seconds=30))
    fired = app.scheduler("test").tick().fired
    assert [(name, target) for name, target, _ in fired] == [("sales_morning_brief", f"{t.ORG}/{t.MAYA}")]
    app.run_until_idle()
    (brief,) = t.jobs(app, "morning_brief")
    assert (brief.status.value, brief.event_source) == ("completed", "cron:morning")
    assert t.told(app, "deliver")[-1] == EXPECTED
    out = t.output(app, brief.id, "compose")
    assert out["counts"] == {
        "meetings": 3,
        "attention": 4,
        "deals_needing_action": 6,
        "at_risk": 2,
        "updates": 5,
    }
    buttons = [e["action_id"] for b in out["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons.count("brief_open_prep") == 1 and buttons.count("brief_primary") == 4
    queued = [j for j in t.jobs(app, "pre_meeting_90min") if j.parent_job_id == brief.id]
    assert len(queued) == 1 and queued[0].run_after == t.local(MONDAY, 12, 0)
    loads = (brief.execution_metadata or {})["context_loads"]
    assert loads["campaign_metrics"]["ok"] is False and loads["crm"]["ok"] is True
