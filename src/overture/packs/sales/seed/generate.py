"""The seed-data generator: a believable sales org, deterministic from a seed number and a day.

Reps in four time zones, thirty companies with their contacts, a deal at every stage (some
stale, some at risk), a week of meetings with speaker-attributed transcripts, inboxes, calendars
with external attendees, an active campaign and proposal templates. Everything is placed in
local time around ``today`` (the story's day), so the same seed and day give the same rows, ids
included, and the demo's story reads the same on every run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from overture.engine.admin.tenancy import Admin
from overture.errors import Conflict
from overture.packs.sales.crm.writes import CrmWriter
from overture.packs.sales.seed import cast as data
from overture.packs.sales.seed.builder import SeedBuilder, SeedSummary
from overture.packs.sales.seed.week import week
from overture.storage.queries import tenancy
from overture.storage.store import Store
from overture.storage.tables import crm as t

GENERATED_STAGES = (
    "prospecting",
    "qualification",
    "discovery",
    "demo",
    "proposal",
    "negotiation",
    "closed_lost",
)
# company -> (stage, value in dollars, close date offset in days, days since last activity)
FIXED_DEALS = {
    "Brightline Freight": ("discovery", 84_000, 45, 0),
    "Harborview Bank": ("proposal", 120_000, 20, 0),
    "Quarry Stone Insurance": ("negotiation", 96_000, 10, 23),
    "Sable Cloud Security": ("demo", 48_000, 30, 0),
    "Keystone Credit Union": ("qualification", 24_000, -5, 40),
    "Oakridge Senior Living": ("closed_won", 36_000, 0, 0),
    "Evergreen Property": ("qualification", 30_000, 60, 1),
    "Northstar Schools": ("discovery", 27_000, 40, 0),
    "Vantage Dental Group": ("demo", 54_000, 25, 4),
    "Atlas Mutual": ("negotiation", 240_000, 14, 1),
    "Lumen Grid Energy": ("proposal", 60_000, 21, 3),
    "Tidewater Shipping": ("discovery", 66_000, 50, 1),
    "Juniper Telecom": ("demo", 150_000, 35, 3),
    "Orchard Fresh Markets": ("proposal", 72_000, 18, 2),
    "Kestrel Robotics": ("demo", 45_000, 40, 1),
}


def _people(b: SeedBuilder) -> None:
    for name, stem, industry, employees, zone, owner in data.COMPANIES:
        company_id = b.new_id("co")
        b.summary.companies[name] = company_id
        domain = f"{stem}.example"
        city = zone.split("/")[-1].replace("_", " ")
        b.add(
            t.companies,
            id=company_id,
            name=name,
            domain=domain,
            industry=industry,
            employees=employees,
            details={"hq_timezone": zone, "city": city, "owner": owner},
            created_at=b.created,
        )
        fixed = data.FIXED_CONTACTS.get(name, (None, None))
        for n in range(2 if fixed[1] or b.rng.random() < 0.5 else 1):
            person = fixed[n] or (
                f"{b.rng.choice(data.FIRST_NAMES)} {b.rng.choice(data.LAST_NAMES)}",
                b.rng.choice(data.TITLES),
            )
            contact_id = b.new_id("ct")
            b.summary.contacts[person[0]] = contact_id
            b.zones[contact_id] = zone
            b.add(
                t.contacts,
                id=contact_id,
                company_id=company_id,
                name=person[0],
                email=f"{person[0].lower().replace(' ', '.')}@{domain}",
                title=person[1],
                phone=None,
                linkedin_url=f"https://www.linkedin.com/in/{person[0].lower().replace(' ', '-')}-{b.tag}",
                owner_id=b.summary.users[owner],
                created_at=b.created,
            )


def _deals(b: SeedBuilder) -> None:
    contacts_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for contact in b.rows[t.contacts]:
        contacts_of[contact["company_id"]].append(contact)
    for i, (name, _stem, _industry, _employees, zone, owner) in enumerate(data.COMPANIES):
        company_id = b.summary.companies[name]
        contact = contacts_of[company_id][0]
        if name in FIXED_DEALS:
            stage, value, close_in, idle = FIXED_DEALS[name]
        else:
            stage = GENERATED_STAGES[i % len(GENERATED_STAGES)]
            value = b.rng.randrange(12, 181) * 1000
            close_in, idle = b.rng.randrange(-10, 90), b.rng.randrange(1, 60)
        deal_id = b.new_id("deal")
        b.summary.deals[name] = deal_id
        product = "Ops Cloud rollout" if value >= 50_000 else "Ops Cloud starter"
        last = b.at(b.today - timedelta(days=idle), 11, 0, zone) if idle else None
        b.add(
            t.deals,
            id=deal_id,
            company_id=company_id,
            contact_id=contact["id"],
            owner_id=b.summary.users[owner],
            name=f"{name} - {product}",
            stage=stage,
            value_cents=value * 100,
            currency="USD",
            close_date=b.today + timedelta(days=close_in),
            last_activity_at=last,
            created_at=b.created,
            updated_at=b.created,
        )
        opened = b.created + timedelta(days=b.rng.randrange(0, 20))
        b.activity(
            "note",
            f"Deal opened: {product} for {name}",
            opened,
            deal_id,
            contact["id"],
            b.summary.users[owner],
        )
        if last is not None:
            b.activity(
                "email_sent",
                f"Checked in with {contact['name']}",
                last,
                deal_id,
                contact["id"],
                b.summary.users[owner],
            )


def _extras(b: SeedBuilder) -> None:
    for name, body in data.TEMPLATES:
        b.add(t.proposal_templates, id=b.new_id("tpl"), name=name, body=body, created_at=b.created)
    for name, external, status, metrics in data.CAMPAIGNS:
        updated = b.at(b.today, 23, 0, "UTC")
        b.add(
            t.campaigns,
            id=b.new_id("camp"),
            name=name,
            external_id=external,
            status=status,
            metrics=metrics,
            updated_at=updated,
        )


def build(org_id: str, seed: int, today: date) -> SeedBuilder:
    """Every row of the seed org, without touching a database (pure, so it can be tested)."""
    b = SeedBuilder(org_id, seed, today)
    for key, _name, _title, _zone, _role in data.REPS:
        b.summary.users[key] = f"{org_id}.{key}"
    _people(b)
    _deals(b)
    week(b)
    _extras(b)
    b.summary.counts = {table.name: len(rows) for table, rows in b.rows.items()}
    return b


#: The CRM tables, in the order they are written (each refers only to earlier ones).
PARTS = (
    t.companies, t.contacts, t.deals, t.calendar_events, t.meetings, t.transcripts, t.activities,
    t.tasks, t.email_threads, t.email_messages, t.proposal_templates, t.proposals, t.campaigns,
)  # fmt: skip


def load(
    store: Store,
    admin: Admin,
    org_id: str,
    seed: int = 1,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedSummary:
    """Create the org, its users and its CRM; refuses an org that already has CRM data.
    ``progress`` is told each part's name once it is written (the users, then each of ``PARTS``)."""
    day = today or datetime.now(UTC).date()
    with store.read() as conn:
        org = tenancy.get_org(conn, org_id)
        taken = conn.execute(
            sa.select(sa.func.count()).select_from(t.companies).where(t.companies.c.org_id == org_id)
        ).scalar()
    if taken:
        raise Conflict(f"org {org_id!r} already has CRM data; seed a new org instead")
    if org is None:
        admin.add_org(org_id, data.ORG_NAME, profile=dict(data.ORG_PROFILE))
    builder = build(org_id, seed, day)
    for key, name, _title, zone, role in data.REPS:
        first, last = name.lower().split()
        admin.add_user(
            org_id,
            builder.summary.users[key],
            name,
            timezone=zone,
            active_hours="08:00-18:00",
            email=f"{first}.{last}@{data.ORG_DOMAIN}",
            role=role,
        )
    if progress is not None:
        progress("users")
    writer = CrmWriter(store, org_id)
    with store.write() as conn:
        for table in PARTS:
            writer.insert_rows(conn, table, builder.rows.get(table, []))
            if progress is not None:
                progress(table.name)
    return builder.summary
