"""The people of a call in the CRM: the facts participant resolution needs, and the contacts and
companies it creates for prospects the CRM did not know.

Everything Overture creates is marked so (``details.created_by`` on a company, a
``contact_created`` activity naming the meeting on a contact), can be listed, and can be undone
while nothing else has come to rest on it. Writes are idempotent: a step re-run after a crash
finds the contact it made the first time (by email, else by name within the company).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from overture.ids import new_id
from overture.packs.sales.crm.queries import OPEN_STAGES, Crm, plain
from overture.packs.sales.rules.participants import PERSONAL_DOMAINS, fold
from overture.storage.tables import crm as t

CREATED = "contact_created"
_TITLE_SPLIT = re.compile(r"\s*(?:<>|<->|\||/|\bx\b|\bvs\.?\b|\band\b|&|\u2014|\u2013|-|:)\s*", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b(?:[A-Z][\w&'.-]*\s+){0,3}[A-Z][\w&'.-]*")


def _is_ours(name: str, ours: Iterable[str]) -> bool:
    """A name that is the org's own: its name or a part of it, or a domain's stem."""
    words = set(fold(name).split())
    if not words:
        return True
    for own in ours:
        if not own:
            continue
        stem = own.split(".")[0] if "." in own and " " not in own else own
        own_words = set(fold(stem.replace("-", " ")).split())
        if words <= own_words or fold(name).replace(" ", "") == fold(stem).replace(" ", ""):
            return True
    return False


def company_name(
    domain: str | None, texts: Iterable[str], title: str | None, ours: Iterable[str]
) -> str | None:
    """A company's name from its email domain, spelled the way the call or the invite spells it
    ("calderfreight.com" -> "Calder Freight" when someone said "Calder Freight"), else from the
    invite's title ("Northwind <> Calder Freight"), else the domain's own stem."""
    ours = list(ours)
    candidates: list[str] = []
    if title:
        candidates += [p.strip() for p in _TITLE_SPLIT.split(title) if p.strip()]
    for text in texts:
        candidates += [m.group(0).strip(" .") for m in _CAPITALISED.finditer(text)]
    if domain and domain not in PERSONAL_DOMAINS:
        stem = domain.split(".")[0]
        squash = stem.replace("-", "").lower()
        for candidate in candidates:
            if fold(candidate).replace(" ", "") == squash:
                return candidate
        return " ".join(part.capitalize() for part in stem.split("-"))
    if title:
        parts = [p.strip() for p in _TITLE_SPLIT.split(title) if p.strip()]
        others = [p for p in parts if not _is_ours(p, ours) and len(p.split()) <= 4 and p[:1].isupper()]
        if len(others) == 1:
            return others[0]
    return None


class People:
    """Reads and writes about the people of one org's calls."""

    def __init__(self, crm: Crm) -> None:
        self.crm = crm
        self.org_id = crm.org_id

    def contacts_for(self, emails: Iterable[str], names: Iterable[str]) -> list[dict[str, Any]]:
        """Contacts with any of these emails, or any of these names (case-insensitive)."""
        wanted_emails = sorted({e.lower() for e in emails if e})
        wanted_names = sorted({n.lower() for n in names if n})
        c = t.contacts.c
        clauses = []
        if wanted_emails:
            clauses.append(sa.func.lower(c.email).in_(wanted_emails))
        if wanted_names:
            clauses.append(sa.func.lower(c.name).in_(wanted_names))
        if not clauses:
            return []
        query = sa.select(t.contacts).where(c.org_id == self.org_id, sa.or_(*clauses)).order_by(c.name, c.id)
        with self.crm.store.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def company_by_domain(self, domain: str) -> dict[str, Any] | None:
        c = t.companies.c
        query = sa.select(t.companies).where(
            c.org_id == self.org_id, sa.func.lower(c.domain) == domain.lower()
        )
        with self.crm.store.read() as conn:
            return plain(conn.execute(query.order_by(c.id).limit(1)).mappings().first())

    def calendar_event_for(self, meeting: dict[str, Any]) -> dict[str, Any] | None:
        """The invite behind a meeting: the one it names, else the owner's event with outside
        guests that overlaps the recording."""
        if meeting.get("calendar_event_id"):
            found = self.crm.calendar_event(str(meeting["calendar_event_id"]))
            if found is not None:
                return found
        owner, start, end = meeting.get("owner_id"), meeting.get("starts_at"), meeting.get("ends_at")
        if not owner or not start or not end:
            return None
        starts = datetime.fromisoformat(start) if isinstance(start, str) else start
        ends = datetime.fromisoformat(end) if isinstance(end, str) else end
        slack = timedelta(minutes=15)
        events = self.crm.calendar([str(owner)], starts - slack, ends + slack)
        guests = [e for e in events if any(a.get("external") for a in e.get("attendees") or [])]
        return guests[0] if len(guests) == 1 else None

    def open_deal(self, contact_id: str | None, company_id: str | None) -> dict[str, Any] | None:
        deal = self.crm.open_deal_for(contact_id=contact_id) if contact_id else None
        return deal or (self.crm.open_deal_for(company_id=company_id) if company_id else None)

    # -- writes ------------------------------------------------------------------------------

    def ensure_company(
        self, name: str, domain: str | None, meeting_id: str, now: datetime
    ) -> tuple[str, bool]:
        """The company with this domain (or this name), created for the meeting if there is none."""
        c = t.companies.c
        with self.crm.store.write() as conn:
            query = sa.select(c.id).where(c.org_id == self.org_id)
            if domain:
                query = query.where(sa.func.lower(c.domain) == domain.lower())
            else:
                query = query.where(sa.func.lower(c.name) == name.lower())
            existing = conn.execute(query.limit(1)).scalar()
            if existing is not None:
                return str(existing), False
            company_id = new_id()
            conn.execute(
                sa.insert(t.companies).values(
                    id=company_id,
                    org_id=self.org_id,
                    name=name[:200],
                    domain=domain,
                    industry=None,
                    employees=None,
                    details={"created_by": "overture", "source_meeting_id": meeting_id},
                    created_at=now,
                )
            )
        return company_id, True

    def ensure_contact(
        self,
        name: str,
        email: str | None,
        company_id: str | None,
        owner_id: str,
        meeting: dict[str, Any],
        now: datetime,
    ) -> tuple[str, bool]:
        """The contact for this person, created (and its creation recorded) if there is none."""
        c = t.contacts.c
        with self.crm.store.write() as conn:
            same = sa.select(c.id).where(c.org_id == self.org_id)
            if email:
                same = same.where(sa.func.lower(c.email) == email.lower())
            else:
                same = same.where(sa.func.lower(c.name) == name.lower())
                same = same.where(
                    c.company_id.is_(None) if company_id is None else c.company_id == company_id
                )
            existing = conn.execute(same.limit(1)).scalar()
            if existing is not None:
                return str(existing), False
            contact_id = new_id()
            conn.execute(
                sa.insert(t.contacts).values(
                    id=contact_id,
                    org_id=self.org_id,
                    company_id=company_id,
                    name=name[:200],
                    email=email,
                    owner_id=owner_id,
                    created_at=now,
                )
            )
            self.crm.writer.log_activity(
                CREATED,
                f"Created by Overture from the meeting {meeting.get('title') or ''} ({meeting['id']})",
                now,
                contact_id=contact_id,
                user_id=owner_id,
                conn=conn,
            )
        return contact_id, True

    def link_meeting(self, meeting_id: str, contact_id: str | None, deal_id: str | None) -> bool:
        """Point the meeting at its prospect and deal, where it points at none yet."""
        c = t.meetings.c
        values = {k: v for k, v in (("contact_id", contact_id), ("deal_id", deal_id)) if v}
        changed = False
        with self.crm.store.write() as conn:
            for column, value in values.items():
                result = conn.execute(
                    sa.update(t.meetings)
                    .where(c.id == meeting_id, c.org_id == self.org_id, getattr(c, column).is_(None))
                    .values({column: value})
                )
                changed |= bool(result.rowcount)
        return changed

    def open_deal_for_call(
        self,
        company_id: str,
        contact_id: str | None,
        name: str,
        owner_id: str,
        meeting_id: str,
        now: datetime,
    ) -> tuple[str, bool]:
        """The company's open deal, or a new one at discovery (value to be scoped) that the rep
        confirmed; the meeting is linked to it either way."""
        c = t.deals.c
        with self.crm.store.write() as conn:
            existing = conn.execute(
                sa.select(c.id)
                .where(c.org_id == self.org_id, c.company_id == company_id, c.stage.in_(OPEN_STAGES))
                .order_by(c.created_at)
                .limit(1)
            ).scalar()
            if existing is not None:
                deal_id, created = str(existing), False
            else:
                deal_id, created = new_id(), True
                conn.execute(
                    sa.insert(t.deals).values(
                        id=deal_id,
                        org_id=self.org_id,
                        company_id=company_id,
                        contact_id=contact_id,
                        owner_id=owner_id,
                        name=name[:200],
                        stage="discovery",
                        value_cents=0,
                        currency="USD",
                        close_date=None,
                        last_activity_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
                self.crm.writer.log_activity(
                    "deal_created",
                    f"Deal opened from the meeting ({meeting_id}), confirmed by the rep",
                    now,
                    contact_id=contact_id,
                    deal_id=deal_id,
                    user_id=owner_id,
                    conn=conn,
                )
            conn.execute(
                sa.update(t.meetings)
                .where(
                    t.meetings.c.id == meeting_id,
                    t.meetings.c.org_id == self.org_id,
                    t.meetings.c.deal_id.is_(None),
                )
                .values(deal_id=deal_id)
            )
        return deal_id, created

    # -- what Overture created -------------------------------------------------------------------

    def created(self, meeting_id: str | None = None) -> list[dict[str, Any]]:
        """Contacts Overture created, newest first, with the meeting each came from."""
        a, c = t.activities.c, t.contacts.c
        query = (
            sa.select(c.id, c.name, c.email, c.company_id, a.summary, a.occurred_at)
            .select_from(t.activities.join(t.contacts, t.contacts.c.id == a.contact_id))
            .where(a.org_id == self.org_id, a.kind == CREATED)
            .order_by(a.occurred_at.desc(), c.id)
        )
        if meeting_id:
            query = query.where(a.summary.like(f"%({meeting_id})"))
        with self.crm.store.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def undo(self, contact_id: str) -> dict[str, Any]:
        """Remove a contact Overture created, and its company if Overture created that too and no
        one else is in it. Refused when a deal, task or email thread now rests on the contact."""
        from overture.errors import Conflict, NotFound

        with self.crm.store.write() as conn:
            ours = conn.execute(
                sa.select(t.activities.c.id).where(
                    t.activities.c.org_id == self.org_id,
                    t.activities.c.contact_id == contact_id,
                    t.activities.c.kind == CREATED,
                )
            ).first()
            contact = (
                conn.execute(
                    sa.select(t.contacts).where(
                        t.contacts.c.id == contact_id, t.contacts.c.org_id == self.org_id
                    )
                )
                .mappings()
                .first()
            )
            if contact is None or ours is None:
                raise NotFound(f"no contact {contact_id} created by Overture in this org")
            for table in (t.deals, t.tasks, t.email_threads):
                used = conn.execute(
                    sa.select(sa.func.count()).where(
                        table.c.org_id == self.org_id, table.c.contact_id == contact_id
                    )
                ).scalar()
                if used:
                    raise Conflict(f"contact {contact_id} is used by {table.name}; remove that first")
            conn.execute(
                sa.update(t.meetings)
                .where(t.meetings.c.org_id == self.org_id, t.meetings.c.contact_id == contact_id)
                .values(contact_id=None)
            )
            conn.execute(sa.delete(t.activities).where(t.activities.c.contact_id == contact_id))
            conn.execute(sa.delete(t.contacts).where(t.contacts.c.id == contact_id))
            removed_company = None
            company_id = contact["company_id"]
            if company_id:
                company = (
                    conn.execute(sa.select(t.companies).where(t.companies.c.id == company_id))
                    .mappings()
                    .first()
                )
                left = conn.execute(
                    sa.select(sa.func.count()).where(t.contacts.c.company_id == company_id)
                ).scalar()
                deals = conn.execute(
                    sa.select(sa.func.count()).where(t.deals.c.company_id == company_id)
                ).scalar()
                made = dict(company["details"] or {}) if company is not None else {}
                if company is not None and made.get("created_by") == "overture" and not left and not deals:
                    conn.execute(sa.delete(t.companies).where(t.companies.c.id == company_id))
                    removed_company = company_id
        return {"contact_id": contact_id, "company_removed": removed_company}


def is_open(deal: dict[str, Any] | None) -> bool:
    return deal is not None and deal.get("stage") in OPEN_STAGES
