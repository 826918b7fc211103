"""Every sales sequence end to end with the offline model, on SQLite and PostgreSQL: the jobs,
steps, approvals, outbox and follow-ups each one produces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision
from overture.packs.sales import testing as t
from overture.packs.sales.crm.queries import Crm
from overture.packs.sales.seed.builder import SeedSummary

MONDAY = date(2026, 11, 23)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t.local(t.STORY_DAY, 10, 50))


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def app(db_url: str, clock: FakeClock, outbox_dir: Path) -> Iterator[App]:
    application = t.sales_app(db_url, clock, outbox_dir)
    yield application
    application.close()


@pytest.fixture
def seed(app: App) -> SeedSummary:
    return t.load_seed(app)


def run(app: App, type_: str, payload: dict[str, Any], user: str = t.MAYA, source: str = "api") -> str:
    result = app.emit(t.event(type_, payload, user=user, source=source))
    assert result.status == "accepted", result
    app.run_until_idle()
    return result.job_id or ""


def decide(app: App, job_id: str, decision: Decision, mods: dict[str, Any] | None = None) -> None:
    action = t.pending(app, job_id)
    app.approvals.decide(action.id, decision, t.MAYA, "api", mods)
    app.run_until_idle()


def test_meeting_ended_drafts_asks_sends_and_chains(app: App, seed: SeedSummary, outbox_dir: Path) -> None:
    """The story: proposal and times chained as soon as they are detected, before any approval;
    follow-up draft -> approved -> outbox; tasks selected."""
    job = run(app, "meeting_ended", {"meeting_id": seed.meetings["story"]}, source="webhook:meetingbaas")
    assert t.step_statuses(app, job) == [
        ("resolve-participants", "completed"),
        ("extract-action-items", "completed"),
        ("detect-intents", "completed"),
        ("queue-proposal", "completed"),
        ("queue-find-times", "completed"),
        ("suggest-next-actions", "completed"),
        ("draft-follow-up", "completed"),
        ("send-follow-up", "awaiting_approval"),
    ]
    waiting = {j.event_type for j in t.jobs(app) if j.parent_job_id == job}
    assert waiting == {"proposal_generation", "calendar_find_times"}
    follow_up = t.pending(app, job)
    assert (follow_up.pattern, follow_up.title) == (
        "draft",
        "Follow-up to Jordan Blake after Discovery: Brightline Freight",
    )
    assert follow_up.draft["to"] == "jordan.blake@brightline-freight.example"
    assert t.outbox(app, job) == []

    decide(app, job, Decision.APPROVE)
    (sent,) = t.outbox(app, job)
    assert (sent["kind"], sent["status"], sent["payload"]["subject"]) == (
        "sales.email",
        "sent",
        follow_up.draft["subject"],
    )
    assert [p.name for p in outbox_dir.iterdir()] == [f"{job}_7_send-follow-up.eml"]
    tasks = t.pending(app, job)
    assert tasks.pattern == "select" and [o["id"] for o in tasks.draft["options"]] == [
        "a1",
        "a2",
        "a3",
        "a4",
        "a5",
        "a6",
    ]

    decide(app, job, Decision.EDIT, {"selected": ["a1", "a2"]})
    assert t.step_statuses(app, job)[-3:] == [
        ("create-tasks", "completed"),
        ("post-meeting-summary", "completed"),
        ("propose-deal", "skipped"),  # Brightline already has an open deal
    ]
    titles = {
        x["title"] for x in Crm(app.store, t.ORG).tasks(t.MAYA) if x["meeting_id"] == seed.meetings["story"]
    }
    assert titles == {o["title"] for o in tasks.draft["options"][:2]}
    (summary,) = t.told(app, "post-meeting-summary")
    assert summary.startswith(
        "Discovery: Brightline Freight wrapped up: 4 action item(s), 3 commitment(s) of yours"
    )
    assert "Follow-up email: queued to send. Tasks created: 2." in summary

    parent = next(j for j in t.jobs(app) if j.id == job)
    children = {j.event_type: j for j in t.jobs(app) if j.parent_job_id == job}
    assert parent.status.value == "completed" and sorted(parent.event_chain["children"]) == sorted(
        j.id for j in children.values()
    )
    assert set(children) == {"proposal_generation", "calendar_find_times"}
    proposal = children["proposal_generation"]
    assert (proposal.chain_depth, proposal.event_source, proposal.status.value) == (
        2,
        "orchestrator:chain",
        "awaiting_approval",
    )
    assert (
        proposal.trigger_payload["trigger_phrase"]
        == "I'll send you the proposal by Friday, with pricing for Chicago and Dallas."
    )
    assert proposal.trigger_payload["deal_id"] == seed.deals["Brightline Freight"]
    meta = parent.execution_metadata or {}
    assert (meta["approval_gates_hit"], meta["followups_queued"], meta["steps_failed"]) == (2, 2, 0)


def test_meeting_ended_without_a_proposal_promise_chains_nothing(
    app: App, seed: SeedSummary, clock: FakeClock
) -> None:
    """Orchard's check-in promised a case study and a meeting, not a proposal: only times are chained."""
    clock.set(t.local(t.STORY_DAY, 10, 0, "America/Los_Angeles"))
    job = run(
        app,
        "meeting_ended",
        {"meeting_id": seed.meetings["Orchard Fresh Markets:check_in"]},
        user="northwind.sofia",
    )
    action = t.pending(app, job)
    app.approvals.decide(action.id, Decision.SKIP, "northwind.sofia")
    app.run_until_idle()
    action = t.pending(app, job)
    app.approvals.decide(action.id, Decision.SKIP, "northwind.sofia")
    app.run_until_idle()
    assert dict(t.step_statuses(app, job))["send-follow-up"] == "skipped"
    assert dict(t.step_statuses(app, job))["queue-proposal"] == "skipped"
    assert [j.event_type for j in t.jobs(app) if j.parent_job_id == job] == ["calendar_find_times"]
    assert t.outbox(app, job) == []


def test_proposal_generation_writes_from_a_template_and_sends_on_approval(
    app: App, seed: SeedSummary
) -> None:
    """Deal loaded, proposal drafted and saved, sent as Maya once approved, marked sent in the CRM."""
    payload = {
        "meeting_id": seed.meetings["story"],
        "contact_id": seed.contacts["Jordan Blake"],
        "deal_id": seed.deals["Brightline Freight"],
        "trigger_phrase": "I'll send you the proposal by Friday.",
    }
    job = run(app, "proposal_generation", payload, source="orchestrator:chain")
    assert t.step_statuses(app, job) == [
        ("load-deal", "completed"),
        ("generate-proposal", "completed"),
        ("send-proposal", "awaiting_approval"),
    ]
    action = t.pending(app, job)
    assert action.title == "Proposal for Brightline Freight ($84,000)"
    assert action.draft["subject"] == "Proposal: Brightline Freight - Ops Cloud rollout"
    decide(app, job, Decision.APPROVE)
    (sent,) = t.outbox(app, job)
    assert sent["payload"]["to"] == ["jordan.blake@brightline-freight.example"]
    (proposal,) = Crm(app.store, t.ORG).proposals(deal_id=seed.deals["Brightline Freight"])
    assert proposal["status"] == "sent" and proposal["sent_at"] is not None
    (told,) = t.told(app, "tell-rep")
    assert told.endswith("template: Standard platform proposal): sent.")


def test_pre_meeting_prep_runs_degraded_without_enrichment(
    app: App, seed: SeedSummary, clock: FakeClock
) -> None:
    """No Apollo, Apify or news keys: the brief is still delivered, and says what it lacked."""
    clock.set(t.local(MONDAY, 8, 30))
    job = run(
        app,
        "pre_meeting_90min",
        {"meeting_id": seed.meetings["Sable Cloud Security:demo"]},
        source="cron:pre_meeting",
    )
    assert [s for _, s in t.step_statuses(app, job)] == ["completed"] * 4
    finished = next(j for j in t.jobs(app) if j.id == job)
    loads = (finished.execution_metadata or {})["context_loads"]
    assert {
        name: loads[name]["ok"] for name in ("apollo", "linkedin", "company_news", "meeting_history")
    } == {
        "apollo": False,
        "linkedin": False,
        "company_news": False,
        "meeting_history": True,
    }
    assert loads["apollo"]["error"] == "SourceNotConfigured" and loads["apollo"]["tier"] == 3
    (text,) = t.told(app, "deliver")
    assert text.startswith("Demo: Sable Cloud Security with Owen Pryce")
    assert text.endswith("(Prepared without: apollo, linkedin, company_news.)")


def test_calendar_event_with_guests_schedules_prep_ninety_minutes_before(
    app: App, seed: SeedSummary, clock: FakeClock
) -> None:
    """The meeting is upserted and linked; prep is queued for start - 90 min and runs then."""
    start = t.local(MONDAY, 14, 0)
    payload = {
        "provider": "google",
        "id": "evt-123",
        "calendar_id": "maya@northwind.example",
        "status": "confirmed",
        "summary": "Demo for Brightline dispatch",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=45)).isoformat(),
        "attendees": [
            {"email": "maya.chen@northwind.example", "name": "Maya Chen", "external": False},
            {"email": "jordan.blake@brightline-freight.example", "name": "Jordan Blake", "external": True},
        ],
        "has_external_attendees": True,
    }
    job = run(app, "calendar_event_created", payload, source="webhook:calendar")
    meeting = t.output(app, job, "upsert-meeting")
    assert (meeting["created"], meeting["external"], meeting["deal_id"]) == (
        True,
        True,
        seed.deals["Brightline Freight"],
    )
    stored = Crm(app.store, t.ORG).meeting(meeting["meeting_id"]) or {}
    assert (stored["kind"], stored["contact_id"], stored["status"]) == (
        "demo",
        seed.contacts["Jordan Blake"],
        "scheduled",
    )
    (prep,) = [j for j in t.jobs(app) if j.parent_job_id == job]
    assert (prep.event_type, prep.status.value, prep.run_after) == (
        "pre_meeting_90min",
        "pending",
        start - timedelta(minutes=90),
    )
    assert prep.trigger_payload == {
        "meeting_id": meeting["meeting_id"],
        "not_before": (start - timedelta(minutes=90)).isoformat(),
    }
    clock.set(start - timedelta(minutes=90))
    app.run_until_idle()
    done = next(j for j in t.jobs(app) if j.id == prep.id)
    assert done.status.value == "completed"
    assert (
        "Demo for Brightline dispatch with Jordan Blake" in t.output(app, prep.id, "meeting-prep")["headline"]
    )


def test_internal_calendar_event_schedules_no_prep(app: App, seed: SeedSummary) -> None:
    """No outside guests: the meeting is recorded as internal and nothing is chained."""
    start = t.local(MONDAY, 15, 0)
    payload = {
        "id": "evt-9",
        "status": "confirmed",
        "summary": "1:1",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
        "attendees": [],
    }
    job = run(app, "calendar_event_created", payload, source="webhook:calendar")
    assert t.output(app, job, "plan-prep") == {
        "schedule": False,
        "reason": "no external attendees",
        "not_before": None,
    }
    assert dict(t.step_statuses(app, job))["schedule-prep"] == "skipped"
    assert [j for j in t.jobs(app) if j.parent_job_id == job] == []


def test_pipeline_scan_asks_to_confirm_stage_changes(app: App, seed: SeedSummary, clock: FakeClock) -> None:
    """Keystone is proposed lost; confirming moves it and logs the change; the rep is told."""
    clock.set(t.local(MONDAY, 8, 30))
    job = run(app, "pipeline_scan", {}, source="cron:pipeline_scan")
    action = t.pending(app, job)
    assert (action.pattern, action.title) == ("confirm", "Confirm 1 deal stage change(s)")
    assert [(c["deal"], c["to_stage"]) for c in action.draft["changes"]] == [
        ("Keystone Credit Union - Ops Cloud starter", "closed_lost")
    ]
    suggestions = t.output(app, job, "suggest-actions")["actions"]
    assert [a["action"] for a in suggestions] == [
        "Re-engage Alicia with a short check-in that references your last conversation",
        "Agree a new close date with Ben, or close the deal as lost",
    ]
    decide(app, job, Decision.APPROVE)
    assert (Crm(app.store, t.ORG).deal(seed.deals["Keystone Credit Union"]) or {})["stage"] == "closed_lost"
    (text,) = t.told(app, "notify")
    assert (
        text.startswith("Pipeline scan: 6 deal(s) need action, 2 at risk.")
        and "Stage changes applied: 1." in text
    )


def test_email_with_a_question_gets_a_reply_draft(app: App, seed: SeedSummary, outbox_dir: Path) -> None:
    """Tom's question -> reply drafted -> approved -> sent in his thread, which no longer waits."""
    payload = {
        "provider": "gmail",
        "mailbox": "maya.chen@northwind.example",
        "id": seed.messages["harborview"],
        "thread_id": "",
        "sender": "Tom Reyes <tom.reyes@harborview-bank.example>",
        "subject": "Re: Proposal for Harborview Bank",
    }
    job = run(app, "email_received", payload, source="webhook:email")
    assert t.output(app, job, "classify")["category"] == "reply_needed"
    action = t.pending(app, job)
    assert (action.title, action.draft["subject"]) == (
        "Reply to Tom Reyes: Re: Proposal for Harborview Bank",
        "Re: Proposal for Harborview Bank",
    )
    decide(app, job, Decision.APPROVE)
    assert len(t.outbox(app, job)) == 1 and len(list(outbox_dir.iterdir())) == 1
    assert (Crm(app.store, t.ORG).thread(seed.threads["harborview"]) or {})["needs_reply"] is False
    assert dict(t.step_statuses(app, job))["risk-alert"] == "skipped"


def test_email_asking_to_meet_chains_find_times(app: App, seed: SeedSummary) -> None:
    """Grace asks for a call: no free-text reply, a calendar_find_times job with times to approve."""
    payload = {
        "provider": "gmail",
        "mailbox": "m",
        "id": seed.messages["evergreen"],
        "sender": "grace.liu@evergreen-property.example",
        "subject": "Quick call next week?",
    }
    job = run(app, "email_received", payload, source="webhook:email")
    assert dict(t.step_statuses(app, job))["draft-reply"] == "skipped"
    (child,) = [j for j in t.jobs(app) if j.parent_job_id == job]
    assert (
        child.event_type == "calendar_find_times"
        and child.trigger_payload["contact_id"] == seed.contacts["Grace Liu"]
    )
    action = t.pending(app, child.id)
    assert (
        action.title == "Times to meet Grace Liu"
        and "(in your time zone, America/Toronto):" in action.draft["body"]
    )


def test_email_objection_drafts_a_response_and_alerts(app: App, seed: SeedSummary) -> None:
    """Paul's budget freeze: a reply waits for approval and the rep is warned of the risk."""
    payload = {
        "provider": "gmail",
        "mailbox": "m",
        "id": seed.messages["northstar"],
        "sender": "paul.dimitriou@northstar-schools.example",
        "subject": "Re: Next steps",
    }
    job = run(app, "email_received", payload, source="webhook:email")
    assert t.pending(app, job).pattern == "draft"
    alerts = t.told(app, "risk-alert")
    assert alerts == [
        "Heads up: Paul Dimitriou wrote \"I'll be honest: our budget is frozen until April, "
        'so we need to hold off for now." (objection).'
    ]


def test_out_of_office_reply_asks_nothing(app: App, seed: SeedSummary) -> None:
    """An auto-reply completes the job with no draft, no alert and no follow-up."""
    payload = {
        "provider": "gmail",
        "mailbox": "m",
        "id": seed.messages["quarry"],
        "sender": "alicia.grant@quarrystone.example",
        "subject": "Checking in",
    }
    job = run(app, "email_received", payload, source="webhook:email")
    assert t.output(app, job, "classify")["category"] == "out_of_office"
    assert [s for _, s in t.step_statuses(app, job)] == [
        "completed",
        "skipped",
        "skipped",
        "skipped",
        "skipped",
    ]


def test_calendar_find_times_sends_the_edited_draft(app: App, seed: SeedSummary) -> None:
    """Slots found in both zones; the rep edits the body before approving; the edit is what leaves."""
    payload = {
        "contact_id": seed.contacts["Jordan Blake"],
        "deal_id": seed.deals["Brightline Freight"],
        "not_before": "2026-11-23",
    }
    job = run(app, "calendar_find_times", payload, source="orchestrator:chain")
    slots = t.output(app, job, "find-available-slots")["slots"]
    assert [s["contact_label"] for s in slots][:2] == [
        "Mon Nov 23, 11:00-11:30 CST",
        "Mon Nov 23, 13:00-13:30 CST",
    ]
    decide(app, job, Decision.EDIT, {"body": "Jordan, does Monday at 11 your time work?\n\nMaya"})
    (sent,) = t.outbox(app, job)
    assert sent["payload"]["body"] == "Jordan, does Monday at 11 your time work?\n\nMaya"


def test_campaign_check_reports_replies_and_anomalies(app: App, seed: SeedSummary, clock: FakeClock) -> None:
    """The org's daily check tells the manager about new replies and a bounce spike."""
    clock.set(t.local(MONDAY, 9, 0, "America/Chicago"))
    job = run(app, "campaign_check", {}, user="northwind.dana", source="cron:campaign_check")
    assert [s for _, s in t.step_statuses(app, job)] == ["completed"] * 3
    (text,) = t.told(app, "notify", "northwind.dana")
    assert text == (
        "Campaigns (crm snapshot):\n"
        "Q4 Logistics Outbound: 4 new replies, 3 meetings booked; bounce rate 6.4% is above 5%"
    )


def test_coaching_digest_delivers_the_weeks_numbers(app: App, seed: SeedSummary, clock: FakeClock) -> None:
    """Friday afternoon: Maya's three calls, a strength and a suggestion."""
    clock.set(t.local(t.STORY_DAY, 16, 0))
    job = run(app, "coaching_digest", {}, source="cron:coaching_weekly")
    (text,) = t.told(app, "deliver")
    assert text.startswith("Your week in calls, Maya: 3 recorded.")
    assert "- You asked 4.3 questions per call; aim for 5 or more in discovery." in text
    assert (next(j for j in t.jobs(app) if j.id == job).execution_metadata or {})["total_ai_cost"] == 0
