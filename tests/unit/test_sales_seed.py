"""The seed generator, without a database: deterministic, believable, and complete."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from overture.packs.sales.crm.queries import STAGES
from overture.packs.sales.seed.generate import build
from overture.storage.tables import crm as t

DAY = date(2026, 11, 20)


def test_same_seed_and_day_give_the_same_rows() -> None:
    """Ids included, so the demo and the tests can name the story's records."""
    a, b = build("northwind", 1, DAY), build("northwind", 1, DAY)
    assert {k.name: v for k, v in a.rows.items()} == {k.name: v for k, v in b.rows.items()}


def test_another_seed_changes_the_generated_people_but_not_the_story() -> None:
    """Drawn names and values differ; the story's cast and ids scheme stay."""
    a, b = build("northwind", 1, DAY), build("northwind", 2, DAY)
    assert [c["name"] for c in a.rows[t.contacts]] != [c["name"] for c in b.rows[t.contacts]]
    assert a.summary.contacts["Jordan Blake"].startswith("ct-") and "Jordan Blake" in b.summary.contacts


def test_the_org_has_reps_in_several_zones_and_a_few_dozen_companies() -> None:
    """Thirty companies, more contacts than companies, owners in four rep time zones."""
    b = build("northwind", 1, DAY)
    assert len(b.rows[t.companies]) == 30 and 30 < len(b.rows[t.contacts]) <= 60
    zones = {c["details"]["hq_timezone"] for c in b.rows[t.companies]}
    assert {"America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney"} <= zones
    assert set(b.summary.users) == {"maya", "leo", "sofia", "kenji", "dana"}


def test_deals_cover_every_stage_with_stale_and_at_risk_ones() -> None:
    """Every stage appears; some deals have gone quiet, one is past its close date."""
    b = build("northwind", 1, DAY)
    deals = b.rows[t.deals]
    assert set(Counter(d["stage"] for d in deals)) == set(STAGES)
    now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    idle = {
        d["name"].split(" - ")[0]: (now - d["last_activity_at"]).days for d in deals if d["last_activity_at"]
    }
    assert idle["Quarry Stone Insurance"] == 23 and idle["Keystone Credit Union"] == 40
    assert sum(1 for days in idle.values() if days >= 21) >= 3
    keystone = next(d for d in deals if d["name"].startswith("Keystone"))
    assert keystone["close_date"] < DAY


def test_a_week_of_meetings_with_speaker_attributed_transcripts() -> None:
    """Eight recorded calls across four reps, timed segments with named speakers, plus upcoming ones."""
    b = build("northwind", 1, DAY)
    meetings = b.rows[t.meetings]
    assert Counter(m["status"] for m in meetings) == {"completed": 8, "scheduled": 5}
    story = next(m for m in meetings if m["id"] == b.summary.meetings["story"])
    transcript = next(tr for tr in b.rows[t.transcripts] if tr["meeting_id"] == story["id"])
    speakers = {s["speaker"] for s in transcript["segments"]}
    assert speakers == {"Maya Chen", "Jordan Blake"} and len(transcript["segments"]) == 25
    assert all(s["end_s"] > s["start_s"] for s in transcript["segments"])
    assert any("I'll send you the proposal by Friday" in s["text"] for s in transcript["segments"])
    assert story["starts_at"] == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_calendars_have_external_attendees_and_internal_blocks() -> None:
    """Each meeting's calendar event lists the outside guests; standups fill the week."""
    b = build("northwind", 1, DAY)
    events = b.rows[t.calendar_events]
    external = [e for e in events if any(a.get("external") for a in e["attendees"])]
    assert len(external) == 13 and sum(1 for e in events if e["title"] == "Team standup") == 5 * 13


def test_inbox_campaigns_and_templates() -> None:
    """Threads needing replies, an active and a paused campaign, two proposal templates."""
    b = build("northwind", 1, DAY)
    assert sum(1 for th in b.rows[t.email_threads] if th["needs_reply"]) == 6
    assert sorted(c["status"] for c in b.rows[t.campaigns]) == ["active", "paused"]
    assert [tpl["name"] for tpl in b.rows[t.proposal_templates]] == [
        "Standard platform proposal",
        "Pilot proposal",
    ]
