"""The pack's pure logic: pipeline health, mutual free time, the brief's layout, campaigns, coaching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from overture.packs.sales.rules.pipeline import analyse
from overture.packs.sales.skills.campaigns import report
from overture.packs.sales.skills.coaching import call_metrics, summarise
from overture.packs.sales.skills.slots import Person, free_slots, label
from overture.packs.sales.writers import brief

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def deal(deal_id: str, stage: str, idle_days: int, close_in: int, value: int = 10_000) -> dict[str, object]:
    return {
        "id": deal_id,
        "name": f"Deal {deal_id}",
        "stage": stage,
        "value_cents": value * 100,
        "close_date": (TODAY + timedelta(days=close_in)).isoformat(),
        "last_activity_at": (NOW - timedelta(days=idle_days)).isoformat(),
        "contact_id": f"c-{deal_id}",
    }


def test_pipeline_reasons_risk_and_stage_changes() -> None:
    """Stale late-stage deals and passed close dates are at risk; long-dead ones are proposed lost."""
    deals = [
        deal("fresh", "discovery", 2, 40),
        deal("stale-late", "negotiation", 25, 10, 90_000),
        deal("dead", "qualification", 40, -5),
        deal("rushed", "discovery", 1, 7),
        deal("sent", "demo", 3, 30),
    ]
    proposals = [
        {
            "id": "p1",
            "deal_id": "sent",
            "status": "sent",
            "value_cents": 5_000_00,
            "sent_at": (NOW - timedelta(days=9)).isoformat(),
        }
    ]
    result = analyse(deals, proposals, set(), {"fresh"}, set(), TODAY, NOW)
    reasons = {r["deal_id"]: [x["kind"] for x in r["reasons"]] for r in result["deals"]}
    assert reasons == {
        "fresh": [],
        "stale-late": ["stale"],
        "dead": ["stale", "close_date_passed"],
        "rushed": ["closing_soon_early"],
        "sent": ["proposal_unanswered"],
    }
    assert [r["deal_id"] for r in result["at_risk"]] == ["stale-late", "dead", "rushed", "sent"]
    assert result["needing_action"] == ["fresh", "stale-late", "dead", "rushed", "sent"]
    assert [(c["deal_id"], c["to_stage"]) for c in result["stage_changes"]] == [
        ("dead", "closed_lost"),
        ("sent", "proposal"),
    ]
    assert (result["proposals_awaiting"], result["proposal_value_cents"]) == (1, 500_000)


def test_an_answered_proposal_is_not_unanswered() -> None:
    """A reply since the proposal went out clears the 'no response' reason."""
    proposals = [
        {
            "id": "p1",
            "deal_id": "d",
            "status": "sent",
            "value_cents": 1,
            "sent_at": (NOW - timedelta(days=9)).isoformat(),
        }
    ]
    result = analyse([deal("d", "proposal", 1, 30)], proposals, {"p1"}, set(), set(), TODAY, NOW)
    assert result["deals"][0]["reasons"] == [] and result["at_risk"] == []


def test_free_slots_respect_both_zones_and_busy_time() -> None:
    """New York and Chicago working hours overlap 10:00-17:00 Eastern; busy blocks are avoided."""
    ny, chicago = ZoneInfo("America/New_York"), ZoneInfo("America/Chicago")
    people = [Person("Maya", ny), Person("Jordan", chicago)]
    start = datetime(2026, 11, 23, 9, 0, tzinfo=ny)
    busy = [(datetime(2026, 11, 23, 10, 0, tzinfo=ny), datetime(2026, 11, 23, 12, 0, tzinfo=ny))]
    found = free_slots(people, busy, start, 2, timedelta(minutes=30), limit=3)
    assert [label(s, e, ny) for s, e in found] == [
        "Mon Nov 23, 12:00-12:30 EST",
        "Mon Nov 23, 14:00-14:30 EST",
        "Tue Nov 24, 10:00-10:30 EST",
    ]
    assert label(*found[0], chicago) == "Mon Nov 23, 11:00-11:30 CST"


def test_no_slots_on_weekends() -> None:
    """A search over a weekend finds nothing rather than a Saturday meeting."""
    utc = ZoneInfo("UTC")
    found = free_slots(
        [Person("A", utc)], [], datetime(2026, 11, 21, 0, 0, tzinfo=utc), 2, timedelta(minutes=30)
    )
    assert found == []


def test_the_brief_is_laid_out_exactly_as_the_seed_says() -> None:
    """Every section, count and button line in the seed's order and wording."""
    text = brief.compose(
        "Maya Chen",
        TODAY,
        [
            {
                "time": "10:00 AM",
                "contact_name": "Owen Pryce",
                "company": "Sable",
                "meeting_type": "demo",
                "prep": "ready",
            },
            {
                "time": "4:00 PM",
                "contact_name": "Marcus Hale",
                "company": "Oakridge",
                "meeting_type": "check in",
                "prep": "none",
            },
        ],
        [
            {
                "contact_name": "Tom Reyes",
                "company": "Harborview",
                "summary": "Does the price include SSO?",
                "primary": "Draft reply",
                "secondary": "Open thread",
            }
        ],
        {
            "needing_action": ["a", "b"],
            "at_risk": [{"name": "Quarry Stone", "days_inactive": 25}],
            "proposal_value_cents": 12_000_000,
        },
        [{"icon": "*", "summary": "Oakridge moved to closed won ($36,000)"}],
    )
    assert text == (
        "Good morning, Maya. Here's your Monday.\n"
        "MEETINGS TODAY (2)\n"
        "10:00 AM -- Owen Pryce, Sable (demo)\n"
        "[Prep ready ->]\n"
        "4:00 PM -- Marcus Hale, Oakridge (check in)\n"
        "No prep needed\n"
        "NEEDS YOUR ATTENTION (1)\n"
        "Tom Reyes (Harborview) -- Does the price include SSO?\n"
        "[Draft reply ->] [Open thread ->]\n"
        "PIPELINE PULSE\n"
        "2 deals need action today\n"
        "1 deal(s) at risk (Quarry Stone -- 25 days no activity)\n"
        "$120,000 in proposals awaiting response\n"
        "OVERNIGHT UPDATES\n"
        "* Oakridge moved to closed won ($36,000)\n"
        "[Expand pipeline ->] [Show full inbox ->]"
    )


def test_brief_blocks_turn_bracketed_actions_into_buttons() -> None:
    """Slack blocks carry a button for ready prep, two per attention item, and the closing pair."""
    meetings = [{"meeting_id": "m1", "prep": "ready"}]
    attention = [{"thread_id": "t1", "primary": "Draft reply", "secondary": "Open thread"}]
    sections = ["MEETINGS TODAY (1)", "x", "NEEDS YOUR ATTENTION (1)", "y", "PIPELINE PULSE", "z"]
    text = "\n".join(["Hi", *sections, "OVERNIGHT UPDATES", "[E]"])
    actions = [b for b in brief.blocks(text, meetings, attention) if b["type"] == "actions"]
    ids = [[e["action_id"] for e in b["elements"]] for b in actions]
    assert ids == [
        ["brief_open_prep"],
        ["brief_primary", "brief_secondary"],
        ["brief_expand_pipeline", "brief_show_inbox"],
    ]


def test_campaign_report_counts_new_replies_and_flags_bounces() -> None:
    """New replies are counted against the last snapshot; a 6.4% bounce rate is an anomaly."""
    stored = [
        {
            "id": "c1",
            "name": "Q4",
            "external_id": "x",
            "metrics": {
                "emails_sent_count": 1150,
                "reply_count_unique": 19,
                "bounced_count": 74,
                "open_count_unique": 236,
                "total_meeting_booked": 3,
                "previous": {"reply_count_unique": 15},
            },
        }
    ]
    found = report(stored, None)
    assert (found["new_replies"], found["anomalies"], found["source"]) == (4, 1, "crm snapshot")
    assert found["campaigns"][0]["anomalies"] == ["bounce rate 6.4% is above 5%"]
    live = report(
        stored,
        [
            {
                "campaign_id": "x",
                "emails_sent_count": 1200,
                "reply_count_unique": 22,
                "bounced_count": 10,
                "open_count_unique": 300,
            }
        ],
    )
    assert (live["new_replies"], live["anomalies"], live["source"]) == (7, 0, "instantly")


def test_coaching_measures_talk_ratio_questions_and_monologues() -> None:
    """Seconds per side, the rep's questions, and the longest run of consecutive rep speech."""
    segments = [
        {"speaker": "Maya Chen", "start_s": 0, "end_s": 30, "text": "Hello. What brings you here?"},
        {"speaker": "Maya Chen", "start_s": 30, "end_s": 60, "text": "And who decides?"},
        {"speaker": "Jordan Blake", "start_s": 60, "end_s": 100, "text": "Our CFO."},
    ]
    metrics = call_metrics(segments, ["Maya Chen"])
    assert metrics == {"talk_ratio": 0.6, "rep_questions": 2, "longest_monologue_s": 60.0}
    week = summarise(
        [{**metrics, "next_step_agreed": True}, {**metrics, "rep_questions": 4, "next_step_agreed": False}]
    )
    assert week == {
        "meetings": 2,
        "talk_ratio": 0.6,
        "questions_per_call": 3.0,
        "next_steps_rate": 0.5,
        "longest_monologue_s": 60.0,
    }
