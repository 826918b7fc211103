"""The sales pack's CRM writes, each idempotent so that a step re-run after a crash acts once.

Tasks and proposals carry a ``source_key`` (unique in the table) derived from the job and step
that created them; a deal's stage change is a no-op when the deal is already there, and it logs
its activity in the same transaction; an activity is skipped when the identical activity (same
kind, subjects, summary and moment) is already recorded. The moment used is the triggering
event's time, which a re-run shares, never the clock at the re-run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from overture.ids import new_id
from overture.storage.store import Store
from overture.storage.tables import crm as t


class CrmWriter:
    """Writes for one org."""

    def __init__(self, store: Store, org_id: str) -> None:
        self.store = store
        self.org_id = org_id

    def insert_rows(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert rows as given, in the caller's transaction (the seed generator's path)."""
        if any(row.get("org_id") != self.org_id for row in rows):
            raise ValueError(f"rows for {table.name} must all belong to org {self.org_id!r}")
        if rows:
            conn.execute(sa.insert(table), [dict(r) for r in rows])
        return len(rows)

    def log_activity(
        self,
        kind: str,
        summary: str,
        occurred_at: datetime,
        *,
        contact_id: str | None = None,
        deal_id: str | None = None,
        user_id: str | None = None,
        conn: sa.Connection | None = None,
    ) -> bool:
        """Record an activity unless the identical one is already there; True if written."""
        if conn is None:
            with self.store.write() as own:
                return self.log_activity(
                    kind,
                    summary,
                    occurred_at,
                    contact_id=contact_id,
                    deal_id=deal_id,
                    user_id=user_id,
                    conn=own,
                )
        c = t.activities.c
        same = sa.select(c.id).where(
            c.org_id == self.org_id,
            c.kind == kind,
            c.summary == summary,
            c.occurred_at == occurred_at,
            c.deal_id.is_(None) if deal_id is None else c.deal_id == deal_id,
            c.contact_id.is_(None) if contact_id is None else c.contact_id == contact_id,
        )
        if conn.execute(same.limit(1)).first() is not None:
            return False
        conn.execute(
            sa.insert(t.activities).values(
                org_id=self.org_id,
                kind=kind,
                summary=summary[:2000],
                contact_id=contact_id,
                deal_id=deal_id,
                user_id=user_id,
                occurred_at=occurred_at,
            )
        )
        if deal_id is not None:
            conn.execute(
                sa.update(t.deals)
                .where(t.deals.c.id == deal_id, t.deals.c.org_id == self.org_id)
                .where(sa.or_(t.deals.c.last_activity_at.is_(None), t.deals.c.last_activity_at < occurred_at))
                .values(last_activity_at=occurred_at)
            )
        return True

    def create_task(
        self,
        source_key: str,
        title: str,
        *,
        owner_id: str | None,
        due_date: date | None,
        now: datetime,
        contact_id: str | None = None,
        deal_id: str | None = None,
        meeting_id: str | None = None,
    ) -> tuple[str, bool]:
        """The task for ``source_key``: created now, or the one an earlier run created."""
        c = t.tasks.c
        with self.store.write() as conn:
            existing = conn.execute(sa.select(c.id).where(c.source_key == source_key)).scalar()
            if existing is not None:
                return str(existing), False
            task_id = new_id()
            conn.execute(
                sa.insert(t.tasks).values(
                    id=task_id,
                    org_id=self.org_id,
                    owner_id=owner_id,
                    title=title[:500],
                    due_date=due_date,
                    status="open",
                    contact_id=contact_id,
                    deal_id=deal_id,
                    meeting_id=meeting_id,
                    source_key=source_key[:255],
                    created_at=now,
                )
            )
        return task_id, True

    def update_deal_stage(
        self, deal_id: str, stage: str, reason: str, occurred_at: datetime, user_id: str | None
    ) -> tuple[str | None, bool]:
        """Move a deal to ``stage``; returns (the stage it was in, whether it changed)."""
        c = t.deals.c
        with self.store.write() as conn:
            row = conn.execute(
                sa.select(c.stage, c.contact_id).where(c.id == deal_id, c.org_id == self.org_id)
            ).first()
            if row is None:
                raise LookupError(f"no deal {deal_id!r} in this org")
            before, contact_id = row
            if before == stage:
                return before, False
            conn.execute(
                sa.update(t.deals)
                .where(c.id == deal_id, c.org_id == self.org_id)
                .values(stage=stage, updated_at=occurred_at)
            )
            summary = f"Stage changed from {before} to {stage}: {reason}"
            self.log_activity(
                "stage_change",
                summary,
                occurred_at,
                contact_id=contact_id,
                deal_id=deal_id,
                user_id=user_id,
                conn=conn,
            )
        return before, True

    def save_proposal(
        self,
        source_key: str,
        *,
        deal_id: str | None,
        template_id: str | None,
        title: str,
        body: str,
        value_cents: int,
        now: datetime,
    ) -> tuple[str, bool]:
        """The draft proposal for ``source_key``: saved now, or the one saved before."""
        c = t.proposals.c
        with self.store.write() as conn:
            existing = conn.execute(sa.select(c.id).where(c.source_key == source_key)).scalar()
            if existing is not None:
                return str(existing), False
            proposal_id = new_id()
            conn.execute(
                sa.insert(t.proposals).values(
                    id=proposal_id,
                    org_id=self.org_id,
                    deal_id=deal_id,
                    template_id=template_id,
                    title=title[:300],
                    body=body,
                    value_cents=value_cents,
                    status="draft",
                    source_key=source_key[:255],
                    created_at=now,
                    sent_at=None,
                )
            )
        return proposal_id, True

    def set_proposal_status(self, proposal_id: str, status: str, now: datetime) -> bool:
        c = t.proposals.c
        values: dict[str, Any] = {"status": status}
        if status == "sent":
            values["sent_at"] = now
        with self.store.write() as conn:
            result = conn.execute(
                sa.update(t.proposals)
                .where(c.id == proposal_id, c.org_id == self.org_id, c.status != status)
                .values(**values)
            )
        return bool(result.rowcount)

    def upsert_meeting(self, external_id: str, values: Mapping[str, Any], now: datetime) -> tuple[str, bool]:
        """Create the meeting for ``external_id`` or update its times, title and status."""
        c = t.meetings.c
        with self.store.write() as conn:
            existing = conn.execute(
                sa.select(c.id).where(c.org_id == self.org_id, c.external_id == external_id)
            ).scalar()
            if existing is not None:
                changes = {
                    k: v for k, v in values.items() if k in ("title", "starts_at", "ends_at", "status")
                }
                conn.execute(sa.update(t.meetings).where(c.id == existing).values(**changes))
                return str(existing), False
            meeting_id = new_id()
            conn.execute(
                sa.insert(t.meetings).values(
                    id=meeting_id, org_id=self.org_id, external_id=external_id, created_at=now, **values
                )
            )
        return meeting_id, True

    def add_calendar_event(self, values: Mapping[str, Any]) -> str:
        """Record a calendar event the CRM did not have (one that arrived through the API)."""
        event_id = new_id()
        with self.store.write() as conn:
            conn.execute(sa.insert(t.calendar_events).values(id=event_id, org_id=self.org_id, **values))
        return event_id

    def mark_thread(self, thread_id: str, needs_reply: bool) -> None:
        c = t.email_threads.c
        with self.store.write() as conn:
            conn.execute(
                sa.update(t.email_threads)
                .where(c.id == thread_id, c.org_id == self.org_id)
                .values(needs_reply=needs_reply)
            )
