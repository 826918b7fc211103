"""Each sales skill on the seed org's data, on SQLite and PostgreSQL, with its real output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.step_context import EffectRequest
from overture.engine.registry import Registry
from overture.errors import ValidationFailed
from overture.llm.base import LLMResult, Usage
from overture.packs.sales import testing as t
from overture.packs.sales.config import SalesConfig
from overture.packs.sales.crm.queries import Crm
from overture.packs.sales.kit import Kit
from overture.packs.sales.seed.builder import SeedSummary
from overture.packs.sales.skills import meeting as skills_meeting
from overture.sequences import StepKind

MONDAY = date(2026, 11, 23)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t.local(t.STORY_DAY, 10, 50))


@pytest.fixture
def app(db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[App]:
    application = t.sales_app(db_url, clock, tmp_path / "outbox")
    yield application
    application.close()


@pytest.fixture
def seed(app: App) -> SeedSummary:
    return t.load_seed(app)


def story(app: App, seed: SeedSummary, **extra: Any) -> Any:
    return t.step_context(app, {"meeting_id": seed.meetings["story"], **extra})


def test_extract_action_items_from_the_story_call(app: App, seed: SeedSummary) -> None:
    """Four items with owners and due dates resolved from the Friday call."""
    out = t.run_step(
        app, "skill:extract-action-items", {"meeting_id": seed.meetings["story"]}, story(app, seed)
    )
    assert out["meeting_date"] == "2026-11-20"
    assert [(i["owner"], i["intent"], i["due_date"]) for i in out["action_items"]] == [
        ("Maya Chen", "send_proposal", "2026-11-27"),
        ("Jordan Blake", "send_materials", "2026-11-25"),
        ("Maya Chen", "schedule_meeting", "2026-11-23"),
        ("Maya Chen", "schedule_meeting", None),
    ]
    assert (
        out["action_items"][0]["action"]
        == "Send Jordan the proposal by Friday, with pricing for Chicago and Dallas"
    )


def test_detect_intents_finds_the_proposal_promise_and_the_next_meeting(app: App, seed: SeedSummary) -> None:
    """The rep's confident send_proposal, the prospect's data promise, an objection, a next meeting."""
    ctx = story(app, seed)
    out = t.run_step(app, "skill:detect-intents", {"meeting_id": seed.meetings["story"]}, ctx)
    assert [(c["side"], c["intent"], c["confidence"]) for c in out["commitments"]] == [
        ("rep", "send_proposal", 0.95),
        ("prospect", "send_materials", 0.95),
        ("rep", "schedule_meeting", 0.9),
        ("rep", "schedule_meeting", 0.9),
    ]
    assert (
        out["commitments"][0]["phrase"]
        == "I'll send you the proposal by Friday, with pricing for Chicago and Dallas."
    )
    assert [o["category"] for o in out["objections"]] == ["implementation"]
    assert out["next_meeting"]["agreed"] is True and out["next_meeting"]["due_date"] == "2026-11-23"
    assert len(out["questions"]) == 9
    assert ctx.costs and ctx.costs[0]["provider"] == "offline" and ctx.costs[0]["input_tokens"] > 0


def test_suggest_next_actions_orders_promises_first(app: App, seed: SeedSummary) -> None:
    """The rep's promises, then the objection and questions; the prospect's promise unselected."""
    ctx = story(app, seed)
    items = t.run_step(app, "skill:extract-action-items", {"meeting_id": seed.meetings["story"]}, ctx)[
        "action_items"
    ]
    intents = t.run_step(app, "skill:detect-intents", {"meeting_id": seed.meetings["story"]}, ctx)
    out = t.run_step(app, "skill:suggest-next-actions", {"action_items": items, "intents": intents}, ctx)
    assert [(a["kind"], a["priority"]) for a in out["actions"]] == [
        ("email", "high"),
        ("meeting", "high"),
        ("task", "medium"),
        ("email", "medium"),
        ("email", "medium"),
        ("task", "low"),
    ]
    assert out["actions"][2]["title"] == "Share the implementation plan and a customer reference on rollout"
    assert out["selected"] == ["a1", "a2", "a3", "a4", "a5"]


def test_copywriter_drafts_a_follow_up_that_cites_the_call(app: App, seed: SeedSummary) -> None:
    """To Jordan, naming the Friday call, the promise in Maya's own words, the answers she gave
    (no false "I am confirming" about answered questions), the afternoons he asked for, and a
    source for every sentence."""
    ctx = story(app, seed)
    intents = t.run_step(app, "skill:detect-intents", {"meeting_id": seed.meetings["story"]}, ctx)
    items = t.run_step(app, "skill:extract-action-items", {"meeting_id": seed.meetings["story"]}, ctx)[
        "action_items"
    ]
    out = t.run_step(
        app, "skill:copywriter", {"kind": "follow_up", "intents": intents, "action_items": items}, ctx
    )
    assert out["to"] == "jordan.blake@brightline-freight.example"
    assert out["subject"] == "Next steps after our call - Brightline Freight"
    assert "Thank you for your time on Friday's call (Discovery: Brightline Freight)" in out["body"]
    assert "- I'll send you the proposal by Friday, with pricing for Chicago and Dallas." in out["body"]
    assert '"Do you integrate with Oracle Transportation Management?": We do' in out["body"]
    assert "I am confirming" not in out["body"] and "come back to you on that" not in out["body"]
    assert "in the afternoons" in out["body"]
    assert all(sentence["sources"] for sentence in out["grounding"])
    assert out["body"].endswith("Best,\nMaya") and out["cites"][0].startswith("I'll send you the proposal")
    assert (out["contact_id"], out["deal_id"]) == (
        seed.contacts["Jordan Blake"],
        seed.deals["Brightline Freight"],
    )


def test_generate_proposal_fills_the_standard_template_and_saves_a_draft(app: App, seed: SeedSummary) -> None:
    """An $84,000 deal gets the standard template, its concerns, and a draft proposal row."""
    ctx = t.step_context(app, {"meeting_id": seed.meetings["story"]}, sources=("crm", "proposal_templates"))
    inputs = {
        "trigger_phrase": "I'll send you the proposal by Friday.",
        "concerns": ["Our last rollout took nine months."],
    }
    out = t.run_step(app, "skill:generate-proposal", inputs, ctx)
    assert (out["template"], out["value"], out["to"]) == (
        "Standard platform proposal",
        "$84,000",
        "jordan.blake@brightline-freight.example",
    )
    assert "$84,000 per year" in out["body"] and "- Our last rollout took nine months." in out["body"]
    (saved,) = Crm(app.store, t.ORG).proposals(deal_id=seed.deals["Brightline Freight"])
    assert (saved["id"], saved["status"], saved["value_cents"]) == (out["proposal_id"], "draft", 8_400_000)


def test_meeting_prep_briefs_the_monday_demo(app: App, seed: SeedSummary, clock: FakeClock) -> None:
    """Attendees from the calendar, the deal at stake, the open task, demo-stage questions."""
    clock.set(t.local(MONDAY, 8, 30))
    ctx = t.step_context(app, {"meeting_id": seed.meetings["Sable Cloud Security:demo"]})
    found = t.run_step(app, "function:meeting-attendees", {}, ctx)
    assert found["attendees"][0] == {
        "name": "Owen Pryce",
        "email": "owen.pryce@sablecloud.example",
        "title": "Head of Support Operations",
        "contact_id": seed.contacts["Owen Pryce"],
    }
    assert len(found["attendees"]) == 2 and found["starts"] == "Mon 10:00"
    out = t.run_step(
        app, "skill:meeting-prep", {"attendees": found["attendees"], "starts": found["starts"]}, ctx
    )
    second = found["attendees"][1]["name"]
    assert out["headline"] == f"Demo: Sable Cloud Security with Owen Pryce, {second} - a $48,000 deal in demo"
    assert "Open commitment: Prepare the Sable Cloud demo environment" in out["talking_points"]
    assert out["questions_to_ask"] == [
        "Which workflow matters most to see today?",
        "Who will use this day to day?",
    ]


def test_pipeline_analysis_finds_stale_and_at_risk_deals(
    app: App, seed: SeedSummary, clock: FakeClock
) -> None:
    """Maya's Monday: Quarry Stone stale in negotiation, Keystone past close; Keystone proposed lost."""
    clock.set(t.local(MONDAY, 8, 0))
    out = t.run_step(app, "skill:pipeline-analysis", {}, t.step_context(app))
    assert [(r["name"], r["days_inactive"]) for r in out["at_risk"]] == [
        ("Quarry Stone Insurance - Ops Cloud rollout", 25),
        ("Keystone Credit Union - Ops Cloud starter", 42),
    ]
    assert [(c["deal"], c["from_stage"], c["to_stage"]) for c in out["stage_changes"]] == [
        ("Keystone Credit Union - Ops Cloud starter", "qualification", "closed_lost")
    ]
    assert (len(out["needing_action"]), out["proposal_value_cents"]) == (6, 12_000_000)


def test_email_classifier_recognises_a_meeting_request_and_its_deal(app: App, seed: SeedSummary) -> None:
    """Grace's note asks for a call; the classifier finds her contact, deal and thread."""
    message = {
        "id": seed.messages["evergreen"],
        "thread_id": "",
        "sender": "Grace Liu <grace.liu@evergreen-property.example>",
        "subject": "Quick call next week?",
    }
    out = t.run_step(app, "skill:email-classifier", {"message": message}, t.step_context(app))
    assert (out["category"], out["meeting_request"], out["reply_needed"], out["risk_signal"]) == (
        "meeting_request",
        True,
        True,
        False,
    )
    assert (out["contact_id"], out["deal_id"], out["thread_id"]) == (
        seed.contacts["Grace Liu"],
        seed.deals["Evergreen Property"],
        seed.threads["evergreen"],
    )
    assert out["summary"].startswith("Are you free for a quick call next week")


def test_find_available_slots_across_new_york_and_chicago(app: App, seed: SeedSummary) -> None:
    """From Monday (the agreed week), free for Maya and inside Jordan's Chicago hours."""
    ctx = t.step_context(app, {"contact_id": seed.contacts["Jordan Blake"]})
    out = t.run_step(app, "skill:find-available-slots", {"not_before": "2026-11-23", "limit": 3}, ctx)
    assert [s["contact_label"] for s in out["slots"]] == [
        "Mon Nov 23, 11:00-11:30 CST",
        "Mon Nov 23, 13:00-13:30 CST",
        "Tue Nov 24, 11:00-11:30 CST",
    ]
    assert (
        out["slots"][0]["rep_label"] == "Mon Nov 23, 12:00-12:30 EST"
        and out["contact_timezone"] == "America/Chicago"
    )


def test_email_send_as_rep_queues_an_effect_and_writes_an_eml(
    app: App, seed: SeedSummary, tmp_path: Path
) -> None:
    """The step only queues; the effect writes one .eml named by its key, from Maya, once."""
    ctx = t.step_context(app, {"contact_id": seed.contacts["Tom Reyes"]})
    inputs = {
        "to": "tom.reyes@harborview-bank.example",
        "subject": "Re: SSO",
        "body": "Yes, SSO is included.",
        "thread_id": seed.threads["harborview"],
    }
    out = t.run_step(app, "skill:email-send-as-rep", inputs, ctx)
    assert out == {
        "queued": True,
        "idempotency_key": "test-job:0:step",
        "to": ["tom.reyes@harborview-bank.example"],
        "subject": "Re: SSO",
    }
    (effect,) = ctx.effects
    assert (effect.kind, effect.payload["from"]) == ("sales.email", "maya.chen@northwind.example")
    send = app.registry.effects["sales.email"]
    send(EffectRequest(effect.idempotency_key, effect.kind, effect.payload, t.ORG, "test-job"))
    send(EffectRequest(effect.idempotency_key, effect.kind, effect.payload, t.ORG, "test-job"))
    (written,) = (tmp_path / "outbox").iterdir()
    text = written.read_text()
    assert written.name == "test-job_0_step.eml" and "From: Maya Chen <maya.chen@northwind.example>" in text
    assert "Message-ID: <test-job.0.step@overture>" in text and "Yes, SSO is included." in text
    assert Crm(app.store, t.ORG).thread(seed.threads["harborview"])["needs_reply"] is False  # type: ignore[index]


def test_email_send_refuses_a_bad_recipient(app: App, seed: SeedSummary) -> None:
    """An approved draft edited to a non-address fails loudly instead of sending."""
    with pytest.raises(ValidationFailed, match="to: not a list of email addresses"):
        t.run_step(
            app, "skill:email-send-as-rep", {"to": "jordan", "subject": "s", "body": "b"}, t.step_context(app)
        )


def test_create_tasks_from_the_selection_once(app: App, seed: SeedSummary) -> None:
    """Selected options become tasks due when promised; a re-run creates none; unknown ids fail."""
    ctx = story(app, seed)
    options = [
        {"id": "a1", "title": "Send Jordan the proposal", "due_date": "2026-11-27"},
        {"id": "a2", "title": "Book the CFO call", "due_date": None},
    ]
    inputs = {"options": options, "selected": ["a1"], "deal_id": seed.deals["Brightline Freight"]}
    first = t.run_step(app, "skill:create-task-from-action-item", inputs, ctx)
    again = t.run_step(app, "skill:create-task-from-action-item", inputs, ctx)
    assert [c["title"] for c in first["created"]] == ["Send Jordan the proposal"] and first[
        "not_selected"
    ] == ["a2"]
    assert again["already_existed"] == 1 and again["created"][0]["task_id"] == first["created"][0]["task_id"]
    tasks = [
        x for x in Crm(app.store, t.ORG).tasks(t.MAYA) if x["deal_id"] == seed.deals["Brightline Freight"]
    ]
    assert [(x["title"], x["due_date"]) for x in tasks] == [("Send Jordan the proposal", "2026-11-27")]
    with pytest.raises(ValidationFailed, match="no such option"):
        t.run_step(app, "skill:create-task-from-action-item", {**inputs, "selected": ["a9"]}, ctx)


def test_monitor_campaigns_from_the_crm_snapshot(app: App, seed: SeedSummary) -> None:
    """Instantly unconfigured: the CRM snapshot shows four new replies and a bounce anomaly."""
    ctx = t.step_context(app, sources=("crm", "campaign_metrics"))
    out = t.run_step(app, "skill:monitor-campaigns", {}, ctx)
    assert (out["source"], out["new_replies"], out["anomalies"]) == ("crm snapshot", 4, 1)
    assert (
        out["text"] == "Q4 Logistics Outbound: 4 new replies, 3 meetings booked; bounce rate 6.4% is above 5%"
    )


def test_coaching_analysis_over_mayas_week(app: App, seed: SeedSummary, clock: FakeClock) -> None:
    """Three recorded calls this week, measured, with a suggestion about questions."""
    clock.set(t.local(t.STORY_DAY, 17, 0))
    out = t.run_step(app, "skill:coaching-analysis", {"days": 7}, t.step_context(app))
    assert [c["title"] for c in out["calls"]] == [
        "Demo: Vantage Dental Group",
        "Discovery: Northstar Schools",
        "Discovery: Brightline Freight",
    ]
    assert out["metrics"] == {
        "meetings": 3,
        "talk_ratio": out["metrics"]["talk_ratio"],
        "questions_per_call": 4.3,
        "next_steps_rate": 1.0,
        "longest_monologue_s": out["metrics"]["longest_monologue_s"],
    }
    assert 0.45 < out["metrics"]["talk_ratio"] < 0.6
    assert out["suggestions"] == ["You asked 4.3 questions per call; aim for 5 or more in discovery."]


def test_crm_stage_changes_apply_once(app: App, seed: SeedSummary) -> None:
    """A confirmed change moves the deal and logs one activity; repeating it changes nothing."""
    ctx = t.step_context(app)
    change = {
        "changes": [
            {
                "deal_id": seed.deals["Keystone Credit Union"],
                "to_stage": "closed_lost",
                "reason": "no activity",
            }
        ]
    }
    first = t.run_step(app, "crm:update_deal_stages", change, ctx)
    again = t.run_step(app, "crm:update_deal_stages", change, ctx)
    assert first["applied"] == [
        {"deal_id": seed.deals["Keystone Credit Union"], "from": "qualification", "to": "closed_lost"}
    ]
    assert again["applied"] == [] and len(again["unchanged"]) == 1
    logged = Crm(app.store, t.ORG).activities(deal_id=seed.deals["Keystone Credit Union"], limit=5)
    assert [a["kind"] for a in logged].count("stage_change") == 1
    with pytest.raises(ValidationFailed):
        t.run_step(
            app,
            "crm:update_deal_stage",
            {"deal_id": seed.deals["Keystone Credit Union"], "to_stage": "won"},
            ctx,
        )


class StubModel:
    """A configured model stand-in: records what it was asked and answers with a fixed value."""

    name, model = "stub", "stub-1"

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.asked: list[Any] = []

    def structured(self, request: Any) -> Any:
        self.asked.append(request)
        return LLMResult(
            request.schema.model_validate(self.answer), Usage(1200, 300), self.name, self.model, 0.0042
        )


def test_a_configured_model_is_asked_with_the_transcript_and_its_cost_recorded(
    app: App, seed: SeedSummary
) -> None:
    """The same skill with a real provider: the model sees the segments and reps, its answer is
    the step's output, and its tokens and price go on the step."""
    answer = {
        "commitments": [
            {
                "speaker": "Maya Chen",
                "side": "rep",
                "intent": "send_proposal",
                "phrase": "I'll send it.",
                "confidence": 0.9,
            }
        ],
        "questions": [],
        "objections": [],
        "next_meeting": {"agreed": False},
    }
    model = StubModel(answer)
    registry = Registry()
    skills_meeting.register(registry, Kit(llm=model, config=SalesConfig(), outbox_dir=Path(".")))
    ctx = story(app, seed)
    handler = registry.handlers[(StepKind.SKILL, "detect-intents")]
    out = handler(ctx, {"meeting_id": seed.meetings["story"]})
    (request,) = model.asked
    assert request.task == "detect-intents" and len(request.input["segments"]) == 25
    assert "Maya Chen" in request.input["reps"] and request.input["meeting"]["date"] == "2026-11-20"
    assert out["commitments"][0]["phrase"] == "I'll send it." and out["meeting_id"] == seed.meetings["story"]
    assert ctx.costs == [
        {
            "provider": "stub",
            "model": "stub-1",
            "input_tokens": 1200,
            "output_tokens": 300,
            "cost_micros": 4200,
        }
    ]
