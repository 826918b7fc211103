"""The seed's row collector: rows per table, deterministic ids, and local wall-clock moments.
``generate`` and ``week`` both add to one builder; it knows nothing of what they add."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from overture.storage.tables import crm as t


@dataclass
class SeedSummary:
    """What was created, and the ids the story and tests refer to."""

    org_id: str
    seed: int
    today: date
    users: dict[str, str] = field(default_factory=dict)
    companies: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    deals: dict[str, str] = field(default_factory=dict)
    meetings: dict[str, str] = field(default_factory=dict)
    threads: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class SeedBuilder:
    """Collects rows per table; ``week`` and the functions here add to it."""

    def __init__(self, org_id: str, seed: int, today: date) -> None:
        self.org_id = org_id
        self.today = today
        self.rng = random.Random(seed)
        self.tag = hashlib.sha256(f"{org_id}:{seed}".encode()).hexdigest()[:6]
        self.rows: dict[sa.Table, list[dict[str, Any]]] = defaultdict(list)
        self.summary = SeedSummary(org_id, seed, today)
        self.zones: dict[str, str] = {}
        self._counters: dict[str, int] = defaultdict(int)
        self.created = datetime.combine(today - timedelta(days=90), time(9), UTC)

    def new_id(self, kind: str) -> str:
        self._counters[kind] += 1
        return f"{kind}-{self.tag}-{self._counters[kind]:03d}"

    def at(self, day: date, hour: int, minute: int, zone: str) -> datetime:
        """A local wall-clock moment as an aware UTC datetime."""
        return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)

    def workday(self, offset: int) -> date:
        """The ``offset``-th workday from today (negative: before; 0: today, whatever it is)."""
        day, step, left = self.today, (1 if offset > 0 else -1), abs(offset)
        while left:
            day += timedelta(days=step)
            left -= day.weekday() < 5
        return day

    def add(self, table: sa.Table, **row: Any) -> dict[str, Any]:
        row.setdefault("org_id", self.org_id)
        self.rows[table].append(row)
        return row

    def activity(
        self, kind: str, summary: str, when: datetime, deal: str | None, contact: str | None, user: str | None
    ) -> None:
        self.add(
            t.activities,
            kind=kind,
            summary=summary,
            occurred_at=when,
            deal_id=deal,
            contact_id=contact,
            user_id=user,
        )
