"""Who gets what, when: quiet hours, the hourly limit, and digests, as a pure decision.

Every message to a person goes through this policy. Messages are never dropped: one that may
not go now is deferred to the next allowed moment. Inform-only messages waiting for the same
person go out together as one digest; approval requests and failure notices go one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from overture.core.hours import ActiveHours, is_active, next_active_start

HOUR = timedelta(hours=1)
DIGESTIBLE = frozenset({"inform"})


@dataclass(frozen=True)
class Waiting:
    """A message due for one person."""

    id: str
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class Person:
    """What the policy needs to know about the recipient."""

    timezone: str
    active_hours: ActiveHours | None
    max_per_hour: int


@dataclass
class Plan:
    """Send these (one by one), send these together as one digest, defer the rest until a time."""

    send: list[str] = field(default_factory=list)
    digest: list[str] = field(default_factory=list)
    defer: list[str] = field(default_factory=list)
    defer_until: datetime | None = None
    reason: str | None = None


def plan(waiting: list[Waiting], person: Person, sent_last_hour: list[datetime], now: datetime) -> Plan:
    """Decide what goes out now for one person, and when the rest may go."""
    out = Plan()
    if not waiting:
        return out
    ordered = sorted(waiting, key=lambda w: (w.created_at, w.id))
    zone = ZoneInfo(person.timezone)
    if person.active_hours is not None and not is_active(person.active_hours, zone, now):
        out.defer = [w.id for w in ordered]
        out.defer_until = next_active_start(person.active_hours, zone, now)
        out.reason = "quiet_hours"
        return out
    recent = sorted(t for t in sent_last_hour if now - t < HOUR)
    capacity = person.max_per_hour - len(recent) if person.max_per_hour > 0 else len(ordered)
    singles = [w for w in ordered if w.kind not in DIGESTIBLE]
    informs = [w for w in ordered if w.kind in DIGESTIBLE]
    for w in singles:
        if capacity <= 0:
            out.defer.append(w.id)
            continue
        out.send.append(w.id)
        capacity -= 1
    if informs:
        if capacity <= 0:
            out.defer.extend(w.id for w in informs)
        elif len(informs) == 1:
            out.send.append(informs[0].id)
            capacity -= 1
        else:
            out.digest = [w.id for w in informs]
            capacity -= 1
    if out.defer:
        sent_now = len(out.send) + (1 if out.digest else 0)
        window = recent + [now] * sent_now
        # The next slot frees up an hour after the oldest send still inside the window.
        oldest = sorted(window)[max(0, len(window) - person.max_per_hour)] if person.max_per_hour > 0 else now
        out.defer_until = max(now, oldest + HOUR)
        out.reason = "rate_limited"
    return out
