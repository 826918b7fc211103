"""The seed org's week: meetings with transcripts, calendars, inbox threads, proposals, tasks and
the evening's changes the next morning brief reports. Local times are each rep's own."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from overture.packs.sales.seed import cast as data
from overture.packs.sales.seed.events import MEETINGS, PROPOSALS, THREADS
from overture.packs.sales.seed.scripts import SCRIPTS, render
from overture.storage.tables import crm as t

if TYPE_CHECKING:
    from overture.packs.sales.seed.builder import SeedBuilder


def _rep(key: str) -> tuple[str, str, str]:
    rep = next(r for r in data.REPS if r[0] == key)
    first, last = rep[1].lower().split()
    return rep[1], f"{first}.{last}@{data.ORG_DOMAIN}", rep[3]


def _contacts(b: SeedBuilder, company: str) -> list[dict[str, Any]]:
    company_id = b.summary.companies[company]
    return [c for c in b.rows[t.contacts] if c["company_id"] == company_id]


def _meetings(b: SeedBuilder) -> None:
    for rep_key, company, script, offset, (hour, minute), minutes, kind in MEETINGS:
        rep_name, rep_email, zone = _rep(rep_key)
        day = b.workday(offset)
        start = b.at(day, hour, minute, zone)
        end = start + timedelta(minutes=minutes)
        people = _contacts(b, company)
        meeting_id, event_id = b.new_id("mtg"), b.new_id("cal")
        deal_id = b.summary.deals[company]
        title = f"{kind.replace('_', ' ').capitalize()}: {company}"
        attendees = [
            {"email": rep_email, "name": rep_name, "external": False, "is_self": True, "organizer": True}
        ]
        attendees += [{"email": p["email"], "name": p["name"], "external": True} for p in people]
        user_id = b.summary.users[rep_key]
        b.add(
            t.calendar_events,
            id=event_id,
            user_id=user_id,
            external_id=f"seed-{meeting_id}",
            title=title,
            starts_at=start,
            ends_at=end,
            all_day=False,
            location="Video call",
            attendees=attendees,
            status="confirmed",
            updated_at=b.created,
        )
        b.add(
            t.meetings,
            id=meeting_id,
            owner_id=user_id,
            deal_id=deal_id,
            contact_id=people[0]["id"],
            calendar_event_id=event_id,
            external_id=f"seed:{meeting_id}",
            title=title,
            kind=kind,
            starts_at=start,
            ends_at=end,
            status="completed" if script else "scheduled",
            created_at=b.created,
        )
        key = "story" if script == "discovery_story" else f"{company}:{kind}"
        b.summary.meetings[key] = meeting_id
        if script is None:
            continue
        names = {"rep": rep_name, "c1": people[0]["name"], "c2": people[-1]["name"], "company": company}
        b.add(
            t.transcripts,
            id=b.new_id("tr"),
            meeting_id=meeting_id,
            source="seed",
            language="en",
            segments=render(SCRIPTS[script], names),
            created_at=end,
        )
        b.activity("meeting", f"{title} with {people[0]['name']}", end, deal_id, people[0]["id"], user_id)


def _internal(b: SeedBuilder) -> None:
    """Standups, pipeline reviews and a few blocks, so rep calendars have realistic busy time."""
    for rep_key, _name, _title, zone, _role in data.REPS:
        user_id = b.summary.users[rep_key]
        days = [b.workday(n) for n in range(-5, 8)]
        blocks: list[tuple[date, int, int, int, str]] = [(d, 9, 0, 15, "Team standup") for d in days]
        blocks += [(d, 11, 0, 60, "Pipeline review") for d in days if d.weekday() == 0]
        if rep_key == "maya":
            blocks += [(b.workday(2), 10, 0, 120, "Customer onsite"), (b.workday(3), 13, 0, 120, "QBR prep")]
        for day, hour, minute, minutes, title in blocks:
            start = b.at(day, hour, minute, zone)
            b.add(
                t.calendar_events,
                id=b.new_id("cal"),
                user_id=user_id,
                external_id=None,
                title=title,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                all_day=False,
                location=None,
                attendees=[],
                status="confirmed",
                updated_at=b.created,
            )


def _inbox(b: SeedBuilder) -> None:
    for key, rep_key, company, index, subject, needs_reply, messages in THREADS:
        _, rep_email, zone = _rep(rep_key)
        contact = _contacts(b, company)[index]
        thread_id = b.new_id("thr")
        b.summary.threads[key] = thread_id
        last: datetime | None = None
        for direction, offset, hour, minute, body in messages:
            sent = b.at(b.today + timedelta(days=offset), hour, minute, zone)
            message_id = b.new_id("msg")
            inbound = direction == "in"
            b.add(
                t.email_messages,
                id=message_id,
                thread_id=thread_id,
                external_id=f"gm-{message_id}",
                direction=direction,
                sender=contact["email"] if inbound else rep_email,
                recipients=[rep_email] if inbound else [contact["email"]],
                subject=subject,
                body=body,
                sent_at=sent,
            )
            if inbound:
                b.summary.messages[key] = f"gm-{message_id}"
            kind, summary = (
                ("email_received", f"{contact['name']} replied: {subject}")
                if inbound
                else ("email_sent", f"Emailed {contact['name']}: {subject}")
            )
            b.activity(kind, summary, sent, b.summary.deals[company], contact["id"], b.summary.users[rep_key])
            last = sent
        b.add(
            t.email_threads,
            id=thread_id,
            user_id=b.summary.users[rep_key],
            external_id=f"gt-{thread_id}",
            subject=subject,
            contact_id=contact["id"],
            needs_reply=needs_reply,
            last_message_at=last,
        )


def _pipeline(b: SeedBuilder) -> None:
    for company, dollars, status, offset in PROPOSALS:
        owner = next(c[5] for c in data.COMPANIES if c[0] == company)
        zone = _rep(owner)[2]
        sent = b.at(b.today + timedelta(days=offset), 16, 0, zone)
        b.add(
            t.proposals,
            id=b.new_id("prop"),
            deal_id=b.summary.deals[company],
            template_id=None,
            title=f"Proposal for {company}",
            body=f"Northwind Ops Cloud for {company}.",
            value_cents=dollars * 100,
            status=status,
            source_key=None,
            created_at=sent,
            sent_at=sent,
        )
    won = b.at(b.today, 19, 30, _rep("maya")[2])
    oakridge = _contacts(b, "Oakridge Senior Living")[0]
    b.activity(
        "stage_change",
        "Stage changed from negotiation to closed_won: contract signed",
        won,
        b.summary.deals["Oakridge Senior Living"],
        oakridge["id"],
        b.summary.users["maya"],
    )
    tasks = (
        ("maya", "Keystone Credit Union", "Send Ben a renewal check-in", b.workday(-3)),
        ("maya", "Sable Cloud Security", "Prepare the Sable Cloud demo environment", b.workday(1)),
        ("leo", "Atlas Mutual", "Review the Atlas redlines with legal", b.workday(1)),
    )
    for rep_key, company, title, due in tasks:
        b.add(
            t.tasks,
            id=b.new_id("task"),
            owner_id=b.summary.users[rep_key],
            title=title,
            due_date=due,
            status="open",
            contact_id=_contacts(b, company)[0]["id"],
            deal_id=b.summary.deals[company],
            meeting_id=None,
            source_key=None,
            created_at=b.created,
        )


def _last_activity(b: SeedBuilder) -> None:
    latest: dict[str, datetime] = {}
    for row in b.rows[t.activities]:
        deal = row.get("deal_id")
        if deal and row["kind"] != "note" and (deal not in latest or row["occurred_at"] > latest[deal]):
            latest[deal] = row["occurred_at"]
    for deal in b.rows[t.deals]:
        deal["last_activity_at"] = latest.get(deal["id"], deal["last_activity_at"])


def week(b: SeedBuilder) -> None:
    """Add the week's meetings, calendars, inbox, proposals and tasks to the builder."""
    _meetings(b)
    _internal(b)
    _inbox(b)
    _pipeline(b)
    _last_activity(b)
