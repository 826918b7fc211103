"""The sales pack loads cleanly and its sequences follow the seed's approval policy."""

from __future__ import annotations

import pytest

from overture.core.schedules import Per
from overture.engine.packs import load_packs
from overture.engine.registry import Registry
from overture.sequences import StepKind
from overture.settings import Settings

DESIGN_SEQUENCES = {
    "meeting_ended",
    "pre_meeting_90min",
    "morning_brief",
    "pipeline_scan",
    "email_received",
    "calendar_event_created",
    "proposal_generation",
    "calendar_find_times",
    "campaign_check",
    "coaching_digest",
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_packs(["sales"], Settings(database_url="sqlite://"))


def test_every_design_sequence_is_defined_and_every_target_registered(registry: Registry) -> None:
    """All ten event types of the sales pack, with no step naming an unknown handler."""
    assert set(registry.sequences) == DESIGN_SEQUENCES
    assert registry.problems() == []


def test_every_email_send_waits_for_a_draft_approval(registry: Registry) -> None:
    """The policy no preference overrides: each step that sends email is behind a draft gate."""
    sends = [
        (s.event_type, st)
        for s in registry.sequences.values()
        for st in s.steps
        if st.target == "email-send-as-rep"
    ]
    assert {e for e, _ in sends} == {
        "meeting_ended",
        "email_received",
        "proposal_generation",
        "calendar_find_times",
    }
    assert all(st.approval is not None and st.approval.pattern == "draft" for _, st in sends)


def test_stage_changes_need_confirmation_and_intent_tasks_a_selection(registry: Registry) -> None:
    """Deal-stage writes are behind confirm gates; tasks from detected intents behind select."""
    steps = [st for s in registry.sequences.values() for st in s.steps]
    stage = [st for st in steps if st.target in ("update_deal_stage", "update_deal_stages")]
    tasks = [st for st in steps if st.target == "create-task-from-action-item"]
    assert stage and all(st.approval is not None and st.approval.pattern == "confirm" for st in stage)
    assert tasks and all(st.approval is not None and st.approval.pattern == "select" for st in tasks)


def test_summaries_only_inform(registry: Registry) -> None:
    """Notify steps carry no gate; AI steps are the model-calling ones and are cost-checked."""
    steps = {(s.event_type, st.name): st for s in registry.sequences.values() for st in s.steps}
    assert all(st.approval is None for st in steps.values() if st.kind == StepKind.NOTIFY)
    assert (
        steps[("meeting_ended", "detect-intents")].ai and not steps[("morning_brief", "pipeline-analysis")].ai
    )


def test_the_follow_up_rule_chains_proposals_and_scheduling(registry: Registry) -> None:
    """meeting_ended queues proposal_generation on a rep's confident send_proposal, and
    calendar_find_times on an agreed meeting; calendar events queue prep 90 minutes ahead."""
    ended = {st.name: st for st in registry.sequences["meeting_ended"].steps}
    assert ended["queue-proposal"].inputs["type"] == "proposal_generation"
    assert "selectattr('confidence', 'ge', 0.8)" in (ended["queue-proposal"].when or "")
    assert ended["queue-find-times"].inputs["type"] == "calendar_find_times"
    created = {st.name: st for st in registry.sequences["calendar_event_created"].steps}
    assert created["schedule-prep"].inputs["type"] == "pre_meeting_90min"
    assert "not_before" in created["schedule-prep"].inputs


def test_tier3_sources_load_only_on_demand(registry: Registry) -> None:
    """Enrichment is named only by the pre-meeting step that needs it, and may fail without stopping."""
    wanting = {
        (s.event_type, st.name): st
        for s in registry.sequences.values()
        for st in s.steps
        if set(st.requires_context) & {"apollo", "linkedin", "company_news"}
    }
    assert list(wanting) == [("pre_meeting_90min", "enrich")]
    assert wanting[("pre_meeting_90min", "enrich")].on_failure.value == "continue"
    assert set(registry.tier2) == {
        "contact",
        "company",
        "deal",
        "meeting_history",
        "email_thread",
        "activities",
    }


def test_schedules_cover_the_brief_scan_campaigns_and_coaching(registry: Registry) -> None:
    """Morning brief per user at 08:00 on workdays, daily scans and checks, weekly coaching."""
    by_event = {s.event_type: s for s in registry.schedules}
    brief = by_event["morning_brief"]
    assert (brief.cron, brief.per, brief.timezone, brief.workdays_only, brief.source) == (
        "0 8 * * *",
        Per.USER,
        "user",
        True,
        "cron:morning",
    )
    assert by_event["campaign_check"].per == Per.ORG and by_event["coaching_digest"].cron == "0 16 * * 5"
    assert by_event["pipeline_scan"].source == "cron:pipeline_scan"
