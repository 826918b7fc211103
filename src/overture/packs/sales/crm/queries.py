"""The sales pack's CRM reads: named, org-scoped queries that return plain JSON-ready dicts.

Skills ask for what they need by name (``crm.deal(id)``, ``crm.threads_needing_reply(user)``)
and never build SQL, so row-level scoping lives in one place: every query here filters on the
org the session was opened for, the way row-level security did in the seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from overture.packs.sales.crm.writes import CrmWriter
from overture.storage.queries import tenancy
from overture.storage.store import Store
from overture.storage.tables import crm as t
from overture.storage.tables.orchestrator import sequence_jobs

STAGES = (
    "prospecting",
    "qualification",
    "discovery",
    "demo",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
)
OPEN_STAGES = STAGES[:6]


def plain(row: Mapping[Any, Any] | None) -> dict[str, Any] | None:
    """A row as JSON-ready data: times and dates as ISO strings."""
    if row is None:
        return None
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in dict(row).items()}


def _rows(result: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    return [plain(r) or {} for r in result]


@dataclass(frozen=True)
class Crm:
    """One org's CRM, read through short read transactions on the App's store."""

    store: Store
    org_id: str

    @property
    def writer(self) -> CrmWriter:
        """The same org's writes."""
        return CrmWriter(self.store, self.org_id)

    def _all(self, query: sa.Select[Any]) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            return _rows(conn.execute(query).mappings())

    def _one(self, query: sa.Select[Any]) -> dict[str, Any] | None:
        found = self._all(query.limit(1))
        return found[0] if found else None

    def _by_id(self, table: sa.Table, row_id: str | None) -> dict[str, Any] | None:
        if not row_id:
            return None
        return self._one(sa.select(table).where(table.c.id == row_id, table.c.org_id == self.org_id))

    # -- people ----------------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        """The org's users (its reps and managers), with time zones and working hours."""
        with self.store.read() as conn:
            people = tenancy.list_users(conn, self.org_id)
        return [
            {
                "id": u.id,
                "name": u.name,
                "email": u.email,
                "timezone": u.timezone,
                "active_hours": u.active_hours,
                "workdays": u.workdays,
                "role": u.role,
            }
            for u in people
        ]

    def user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users() if u["id"] == user_id), None)

    def contact(self, contact_id: str | None) -> dict[str, Any] | None:
        return self._by_id(t.contacts, contact_id)

    def contacts_by_email(self, emails: Iterable[str]) -> list[dict[str, Any]]:
        wanted = sorted({e.strip().lower() for e in emails if e})
        if not wanted:
            return []
        query = sa.select(t.contacts).where(
            t.contacts.c.org_id == self.org_id, sa.func.lower(t.contacts.c.email).in_(wanted)
        )
        return self._all(query.order_by(t.contacts.c.email))

    def company(self, company_id: str | None) -> dict[str, Any] | None:
        return self._by_id(t.companies, company_id)

    def companies(self) -> list[dict[str, Any]]:
        query = sa.select(t.companies).where(t.companies.c.org_id == self.org_id)
        return self._all(query.order_by(t.companies.c.name))

    # -- deals -----------------------------------------------------------------------------

    def deal(self, deal_id: str | None) -> dict[str, Any] | None:
        return self._by_id(t.deals, deal_id)

    def deals(self, owner_id: str | None = None, open_only: bool = True) -> list[dict[str, Any]]:
        """Deals with their company and contact names, largest first."""
        query = (
            sa.select(
                t.deals,
                t.companies.c.name.label("company_name"),
                t.contacts.c.name.label("contact_name"),
            )
            .select_from(
                t.deals.outerjoin(t.companies, t.companies.c.id == t.deals.c.company_id).outerjoin(
                    t.contacts, t.contacts.c.id == t.deals.c.contact_id
                )
            )
            .where(t.deals.c.org_id == self.org_id)
            .order_by(t.deals.c.value_cents.desc(), t.deals.c.id)
        )
        if owner_id is not None:
            query = query.where(t.deals.c.owner_id == owner_id)
        if open_only:
            query = query.where(t.deals.c.stage.in_(OPEN_STAGES))
        return self._all(query)

    def open_deal_for(
        self, contact_id: str | None = None, company_id: str | None = None
    ) -> dict[str, Any] | None:
        """The contact's (else the company's) most recently active open deal."""
        if not contact_id and not company_id:
            return None
        column = t.deals.c.contact_id if contact_id else t.deals.c.company_id
        query = (
            sa.select(t.deals)
            .where(
                t.deals.c.org_id == self.org_id,
                column == (contact_id or company_id),
                t.deals.c.stage.in_(OPEN_STAGES),
            )
            .order_by(t.deals.c.last_activity_at.desc(), t.deals.c.id)
        )
        return self._one(query)

    def proposals(self, deal_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(t.proposals).where(t.proposals.c.org_id == self.org_id)
        if deal_id is not None:
            query = query.where(t.proposals.c.deal_id == deal_id)
        if status is not None:
            query = query.where(t.proposals.c.status == status)
        return self._all(query.order_by(t.proposals.c.created_at, t.proposals.c.id))

    def templates(self) -> list[dict[str, Any]]:
        query = sa.select(t.proposal_templates).where(t.proposal_templates.c.org_id == self.org_id)
        return self._all(query.order_by(t.proposal_templates.c.name))

    def campaigns(self, status: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(t.campaigns).where(t.campaigns.c.org_id == self.org_id)
        if status is not None:
            query = query.where(t.campaigns.c.status == status)
        return self._all(query.order_by(t.campaigns.c.name))

    # -- meetings and calendars --------------------------------------------------------------

    def meeting(self, meeting_id: str | None) -> dict[str, Any] | None:
        return self._by_id(t.meetings, meeting_id)

    def meeting_by_external(self, external_id: str) -> dict[str, Any] | None:
        query = sa.select(t.meetings).where(
            t.meetings.c.org_id == self.org_id, t.meetings.c.external_id == external_id
        )
        return self._one(query)

    def meetings(
        self,
        *,
        owner_id: str | None = None,
        contact_id: str | None = None,
        deal_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
    ) -> list[dict[str, Any]]:
        """Meetings matching every given filter, oldest first."""
        c = t.meetings.c
        query = sa.select(t.meetings).where(c.org_id == self.org_id)
        for column, value in ((c.owner_id, owner_id), (c.contact_id, contact_id), (c.deal_id, deal_id)):
            if value is not None:
                query = query.where(column == value)
        if start is not None:
            query = query.where(c.starts_at >= start)
        if end is not None:
            query = query.where(c.starts_at < end)
        if status is not None:
            query = query.where(c.status == status)
        return self._all(query.order_by(c.starts_at, c.id))

    def transcript(self, meeting_id: str) -> list[dict[str, Any]]:
        """The meeting's transcript segments (the first transcript stored for it)."""
        query = (
            sa.select(t.transcripts.c.segments)
            .where(t.transcripts.c.org_id == self.org_id, t.transcripts.c.meeting_id == meeting_id)
            .order_by(t.transcripts.c.created_at, t.transcripts.c.id)
        )
        with self.store.read() as conn:
            segments = conn.execute(query.limit(1)).scalar()
        return list(segments or [])

    def calendar(self, user_ids: Iterable[str], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Confirmed calendar events of these users overlapping [start, end)."""
        c = t.calendar_events.c
        query = (
            sa.select(t.calendar_events)
            .where(
                c.org_id == self.org_id,
                c.user_id.in_(sorted(set(user_ids))),
                c.starts_at < end,
                c.ends_at > start,
                c.status != "cancelled",
            )
            .order_by(c.starts_at, c.id)
        )
        return self._all(query)

    def calendar_event(self, event_id: str | None) -> dict[str, Any] | None:
        return self._by_id(t.calendar_events, event_id)

    def calendar_event_by_external(self, user_id: str, external_id: str) -> dict[str, Any] | None:
        c = t.calendar_events.c
        return self._one(
            sa.select(t.calendar_events).where(
                c.org_id == self.org_id, c.user_id == user_id, c.external_id == external_id
            )
        )

    def prep_status(self, meeting_ids: Iterable[str], since: datetime) -> dict[str, str]:
        """The newest ``pre_meeting_90min`` job's status per meeting, among jobs created since
        ``since`` (absent: none queued)."""
        wanted = set(meeting_ids)
        if not wanted:
            return {}
        j = sequence_jobs.c
        query = (
            sa.select(j.trigger_payload, j.status)
            .where(j.org_id == self.org_id, j.event_type == "pre_meeting_90min", j.created_at >= since)
            .order_by(j.created_at)
        )
        found: dict[str, str] = {}
        with self.store.read() as conn:
            for payload, status in conn.execute(query):
                meeting_id = (payload or {}).get("meeting_id")
                if meeting_id in wanted:
                    found[meeting_id] = status
        return found

    # -- email -----------------------------------------------------------------------------

    def thread(self, thread_id: str | None) -> dict[str, Any] | None:
        return self._by_id(t.email_threads, thread_id)

    def thread_by_external(self, external_id: str) -> dict[str, Any] | None:
        query = sa.select(t.email_threads).where(
            t.email_threads.c.org_id == self.org_id, t.email_threads.c.external_id == external_id
        )
        return self._one(query)

    def threads(self, user_id: str, needs_reply: bool | None = None) -> list[dict[str, Any]]:
        c = t.email_threads.c
        query = sa.select(t.email_threads).where(c.org_id == self.org_id, c.user_id == user_id)
        if needs_reply is not None:
            query = query.where(c.needs_reply.is_(needs_reply))
        return self._all(query.order_by(c.last_message_at.desc(), c.id))

    def threads_for_contact(self, contact_id: str) -> list[dict[str, Any]]:
        c = t.email_threads.c
        query = sa.select(t.email_threads).where(c.org_id == self.org_id, c.contact_id == contact_id)
        return self._all(query.order_by(c.last_message_at.desc(), c.id))

    def messages(self, thread_id: str) -> list[dict[str, Any]]:
        c = t.email_messages.c
        query = sa.select(t.email_messages).where(c.org_id == self.org_id, c.thread_id == thread_id)
        return self._all(query.order_by(c.sent_at, c.id))

    def message_by_external(self, external_id: str) -> dict[str, Any] | None:
        c = t.email_messages.c
        return self._one(
            sa.select(t.email_messages).where(c.org_id == self.org_id, c.external_id == external_id)
        )

    # -- activities and tasks ----------------------------------------------------------------

    def activities(
        self,
        *,
        deal_id: str | None = None,
        contact_id: str | None = None,
        since: datetime | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """Activities, newest first."""
        c = t.activities.c
        query = sa.select(t.activities).where(c.org_id == self.org_id)
        if deal_id is not None:
            query = query.where(c.deal_id == deal_id)
        if contact_id is not None:
            query = query.where(c.contact_id == contact_id)
        if since is not None:
            query = query.where(c.occurred_at >= since)
        return self._all(query.order_by(c.occurred_at.desc(), c.id.desc()).limit(limit))

    def tasks(self, owner_id: str | None = None, status: str | None = "open") -> list[dict[str, Any]]:
        c = t.tasks.c
        query = sa.select(t.tasks).where(c.org_id == self.org_id)
        if owner_id is not None:
            query = query.where(c.owner_id == owner_id)
        if status is not None:
            query = query.where(c.status == status)
        return self._all(query.order_by(c.due_date, c.id))
