"""The five gates an event passes before it becomes a run, as one pure decision.

Order matters and is the seed's: who (org, user), whether (feature), when (active hours),
how much (AI budget), and whether it already happened (duplicate). The facts are gathered
by the caller; this module only decides, so it never touches storage or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from overture.core.hours import ActiveHours, format_workdays, is_active, next_active_start


class Outcome(StrEnum):
    """What happens to the event."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    DEFERRED = "deferred"
    SKIPPED = "skipped"
    REJECTED = "rejected"


class Reason(StrEnum):
    """Which gate decided the outcome."""

    PASSED = "passed"
    ORG_NOT_FOUND = "org_not_found"
    USER_NOT_FOUND = "user_not_found"
    FEATURE_DISABLED = "feature_disabled"
    OUTSIDE_ACTIVE_HOURS = "outside_active_hours"
    BUDGET_EXCEEDED = "budget_exceeded"
    DUPLICATE = "duplicate"
    ORG_RATE_LIMITED = "org_rate_limited"  # decided after the gates, by core/ingest_rate.py


@dataclass(frozen=True)
class UserFacts:
    """The user an event is about; ``active_hours`` None means always reachable."""

    user_id: str
    timezone: str
    active_hours: ActiveHours | None

    def __post_init__(self) -> None:
        _load_zone(self.timezone)  # fail at construction, not later at decision time

    @property
    def zone(self) -> ZoneInfo:
        """The user's IANA time zone."""
        return _load_zone(self.timezone)


@dataclass(frozen=True)
class GateFacts:
    """Everything the gates need to know, gathered by the caller before deciding."""

    org_exists: bool
    user: UserFacts | None
    feature_enabled: bool
    respects_active_hours: bool
    sequence_uses_ai: bool
    budget_spent: bool
    duplicate_of: str | None


@dataclass(frozen=True)
class GateDecision:
    """The verdict; ``run_after`` (UTC) is set only when the event is deferred."""

    outcome: Outcome
    reason: Reason
    detail: str
    run_after: datetime | None = None


def decide(facts: GateFacts, now: datetime) -> GateDecision:
    """Run the gates in order and return the first one that stops the event, else accept it."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"need a timezone-aware datetime, got naive {now.isoformat()}")
    if not facts.org_exists:
        return GateDecision(Outcome.REJECTED, Reason.ORG_NOT_FOUND, "organisation not found")
    user = facts.user
    if user is None:
        return GateDecision(Outcome.REJECTED, Reason.USER_NOT_FOUND, "user not found in this organisation")
    if not facts.feature_enabled:
        return GateDecision(
            Outcome.SKIPPED, Reason.FEATURE_DISABLED, "feature is disabled for this organisation"
        )
    hours = user.active_hours
    if facts.respects_active_hours and hours is not None:
        zone = user.zone
        if not is_active(hours, zone, now):
            # A retried webhook overnight must not become a second deferred job.
            if facts.duplicate_of is not None:
                return _duplicate(facts.duplicate_of)
            run_after = next_active_start(hours, zone, now)
            local = run_after.astimezone(zone)
            detail = (
                f"outside active hours {hours} {format_workdays(hours.workdays)} "
                f"in {user.timezone}; deferred to {local:%Y-%m-%d %H:%M} local"
            )
            return GateDecision(Outcome.DEFERRED, Reason.OUTSIDE_ACTIVE_HOURS, detail, run_after)
    if facts.sequence_uses_ai and facts.budget_spent:
        return GateDecision(
            Outcome.SKIPPED,
            Reason.BUDGET_EXCEEDED,
            "the organisation's AI budget for this period is spent",
        )
    if facts.duplicate_of is not None:
        return _duplicate(facts.duplicate_of)
    return GateDecision(Outcome.ACCEPTED, Reason.PASSED, "all gates passed")


def _duplicate(event_id: str) -> GateDecision:
    return GateDecision(Outcome.DUPLICATE, Reason.DUPLICATE, f"duplicate of event {event_id}")


def _load_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; an unknown or malformed name is a ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValueError(f"unknown time zone: {name!r}") from None
