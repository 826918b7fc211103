"""The five gates: each outcome, and the order in which they win over each other."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from overture.core.gates import GateDecision, GateFacts, Outcome, Reason, UserFacts, decide
from overture.core.hours import ActiveHours

OFFICE = ActiveHours.parse("08:00-18:00", "mon-fri")
USER = UserFacts(user_id="u-1", timezone="America/New_York", active_hours=OFFICE)
INSIDE = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 10:00 in New York
OUTSIDE = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # Saturday 10:00 in New York
MONDAY_8AM_NY = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def facts(**changes: Any) -> GateFacts:
    """Facts that pass every gate, with ``changes`` applied."""
    passing = GateFacts(
        org_exists=True,
        user=USER,
        feature_enabled=True,
        respects_active_hours=True,
        sequence_uses_ai=True,
        budget_spent=False,
        duplicate_of=None,
    )
    return replace(passing, **changes)


def test_all_gates_pass_accepts() -> None:
    """With every fact favourable the event is accepted with no run_after."""
    assert decide(facts(), INSIDE) == GateDecision(Outcome.ACCEPTED, Reason.PASSED, "all gates passed", None)


def test_missing_org_is_rejected() -> None:
    """An unknown org is rejected."""
    decision = decide(facts(org_exists=False), INSIDE)
    assert (decision.outcome, decision.reason) == (Outcome.REJECTED, Reason.ORG_NOT_FOUND)
    assert decision.run_after is None


def test_missing_user_is_rejected() -> None:
    """An unknown user in a known org is rejected."""
    decision = decide(facts(user=None), INSIDE)
    assert (decision.outcome, decision.reason) == (Outcome.REJECTED, Reason.USER_NOT_FOUND)


def test_rejection_beats_everything() -> None:
    """A missing org wins even when every later gate would also stop the event."""
    worst = facts(
        org_exists=False,
        user=None,
        feature_enabled=False,
        budget_spent=True,
        duplicate_of="evt-1",
    )
    assert decide(worst, OUTSIDE).reason == Reason.ORG_NOT_FOUND
    assert decide(replace(worst, org_exists=True), OUTSIDE).reason == Reason.USER_NOT_FOUND


def test_disabled_feature_is_skipped() -> None:
    """A disabled feature skips the event."""
    decision = decide(facts(feature_enabled=False), INSIDE)
    assert (decision.outcome, decision.reason) == (Outcome.SKIPPED, Reason.FEATURE_DISABLED)


def test_disabled_feature_beats_hours_budget_and_duplicate() -> None:
    """A disabled feature wins over being outside hours, out of budget or a duplicate."""
    decision = decide(facts(feature_enabled=False, budget_spent=True, duplicate_of="evt-1"), OUTSIDE)
    assert decision.reason == Reason.FEATURE_DISABLED


def test_outside_hours_is_deferred_to_next_local_start() -> None:
    """Saturday in New York defers to Monday 08:00 local, given in UTC with a clear detail."""
    decision = decide(facts(), OUTSIDE)
    assert decision == GateDecision(
        Outcome.DEFERRED,
        Reason.OUTSIDE_ACTIVE_HOURS,
        "outside active hours 08:00-18:00 mon-fri in America/New_York; deferred to 2026-11-23 08:00 local",
        MONDAY_8AM_NY,
    )
    assert decision.run_after is not None
    assert decision.run_after.tzinfo is UTC


def test_deferral_beats_budget() -> None:
    """Outside hours the event waits even if the budget is spent; budget is judged later."""
    decision = decide(facts(budget_spent=True), OUTSIDE)
    assert decision.outcome == Outcome.DEFERRED
    assert decision.run_after == MONDAY_8AM_NY


def test_duplicate_beats_deferral() -> None:
    """A retried webhook overnight is a duplicate, not a second deferred job."""
    decision = decide(facts(duplicate_of="evt-1"), OUTSIDE)
    assert decision == GateDecision(Outcome.DUPLICATE, Reason.DUPLICATE, "duplicate of event evt-1", None)


def test_duplicate_outside_hours_beats_budget_too() -> None:
    """Outside hours a duplicate is reported as such even when the budget is spent."""
    decision = decide(facts(duplicate_of="evt-1", budget_spent=True), OUTSIDE)
    assert decision.outcome == Outcome.DUPLICATE


def test_sequence_ignoring_quiet_hours_is_not_deferred() -> None:
    """A sequence that does not respect active hours runs at night."""
    assert decide(facts(respects_active_hours=False), OUTSIDE).outcome == Outcome.ACCEPTED


def test_user_without_active_hours_is_always_reachable() -> None:
    """A user with no active hours is never deferred."""
    user = UserFacts(user_id="u-2", timezone="Asia/Tokyo", active_hours=None)
    assert decide(facts(user=user), OUTSIDE).outcome == Outcome.ACCEPTED


def test_hours_use_the_users_own_zone() -> None:
    """The same instant is Saturday in Kiritimati but Friday working hours in Pago Pago."""
    at = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    kiritimati = UserFacts("u-3", "Pacific/Kiritimati", OFFICE)  # Sat 14:00 local
    pago_pago = UserFacts("u-4", "Pacific/Pago_Pago", OFFICE)  # Fri 13:00 local
    deferred = decide(facts(user=kiritimati), at)
    assert deferred.outcome == Outcome.DEFERRED
    assert deferred.run_after == datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
    assert deferred.detail.endswith("deferred to 2026-11-23 08:00 local")
    assert decide(facts(user=pago_pago), at).outcome == Outcome.ACCEPTED


def test_spent_budget_skips_ai_sequences() -> None:
    """A spent budget skips a sequence with AI steps."""
    decision = decide(facts(budget_spent=True), INSIDE)
    assert (decision.outcome, decision.reason) == (Outcome.SKIPPED, Reason.BUDGET_EXCEEDED)


def test_spent_budget_does_not_touch_sequences_without_ai() -> None:
    """A sequence with no AI steps runs even when the budget is spent."""
    decision = decide(facts(budget_spent=True, sequence_uses_ai=False), INSIDE)
    assert decision.outcome == Outcome.ACCEPTED


def test_budget_beats_duplicate_inside_hours() -> None:
    """Inside hours the budget gate comes before the duplicate gate."""
    decision = decide(facts(budget_spent=True, duplicate_of="evt-1"), INSIDE)
    assert decision.reason == Reason.BUDGET_EXCEEDED


def test_duplicate_inside_hours() -> None:
    """An identical earlier event makes this one a duplicate naming the earlier id."""
    decision = decide(facts(duplicate_of="evt-9"), INSIDE)
    assert (decision.outcome, decision.reason) == (Outcome.DUPLICATE, Reason.DUPLICATE)
    assert decision.detail == "duplicate of event evt-9"


def test_details_never_mention_the_user_id() -> None:
    """Details explain the gate without echoing user identifiers such as an email."""
    user = UserFacts(user_id="ann@example.com", timezone="Europe/Berlin", active_hours=OFFICE)
    for changes in ({}, {"feature_enabled": False}, {"budget_spent": True}, {"user": None}):
        for now in (INSIDE, OUTSIDE):
            detail = decide(facts(**{"user": user, **changes}), now).detail
            assert detail
            assert "@" not in detail


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "America", "../etc/passwd", "utc"])
def test_unknown_time_zone_is_refused(zone: str) -> None:
    """An unknown zone fails when the user facts are built, naming the zone."""
    with pytest.raises(ValueError, match="unknown time zone"):
        UserFacts(user_id="u-1", timezone=zone, active_hours=None)


def test_naive_now_is_refused() -> None:
    """Deciding needs an instant, so a naive ``now`` raises ValueError."""
    with pytest.raises(ValueError, match="naive"):
        decide(facts(), datetime(2026, 11, 20, 10, 0))
