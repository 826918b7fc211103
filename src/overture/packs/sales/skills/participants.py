"""``resolve-participants``: who was on the call, on which side, and who they are in the CRM.

Runs first after a meeting ends. It matches the recorder's speakers and participant list, the
invite's attendees, the org's users and domains, and the CRM's contacts; a prospect the CRM does
not know becomes a contact (and their company, from the email domain or what was said), recorded
as created by Overture from this meeting and reversible (``overture sales created``/``undo``).
It links the meeting to its prospect and to the company's open deal, if there is one; it never
creates a deal (the sequence proposes one through a ``confirm`` approval).
"""

from __future__ import annotations

from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.errors import StepError
from overture.packs.sales import kit as k
from overture.packs.sales.crm.people import People, company_name
from overture.packs.sales.kit import Kit
from overture.packs.sales.rules.participants import Facts, Person, domain_of, resolve, sides


def _said(segments: list[dict[str, Any]]) -> tuple[list[str], dict[str, str]]:
    speakers: list[str] = []
    words: dict[str, list[str]] = {}
    for segment in segments:
        speaker = str(segment.get("speaker") or "Unknown speaker")
        if speaker not in words:
            speakers.append(speaker)
            words[speaker] = []
        words[speaker].append(str(segment.get("text") or ""))
    return speakers, {s: " ".join(w) for s, w in words.items()}


def _companies(
    people_db: People,
    prospects: list[Person],
    texts: list[str],
    title: str | None,
    ours: list[str],
    ctx: StepContext,
) -> dict[str, Any]:
    """Give every prospect a company: the one their contact has, the one their domain names, or a
    new one; prospects with no email join the only company the others share."""
    made: dict[str, Any] = {"companies": []}
    by_domain: dict[str, str] = {}
    meeting_id = str(ctx.event.get("payload", {}).get("meeting_id") or "")
    for person in prospects:
        domain = domain_of(person.email)
        if person.company_id or not domain or domain in by_domain:
            if domain and domain in by_domain and not person.company_id:
                person.company_id = by_domain[domain]
            continue
        existing = people_db.company_by_domain(domain)
        if existing is not None:
            person.company_id = by_domain[domain] = str(existing["id"])
            continue
        name = company_name(domain, texts, title, ours)
        if name is None:
            continue
        company_id, created = people_db.ensure_company(name, domain, meeting_id, ctx.now)
        person.company_id = by_domain[domain] = company_id
        if created:
            made["companies"].append({"id": company_id, "name": name, "domain": domain})
    known = {p.company_id for p in prospects if p.company_id}
    if not known:
        name = company_name(None, texts, title, ours)
        if name is not None:
            company_id, created = people_db.ensure_company(name, None, meeting_id, ctx.now)
            known = {company_id}
            if created:
                made["companies"].append({"id": company_id, "name": name, "domain": None})
    if len(known) == 1:
        only = next(iter(known))
        for person in prospects:
            person.company_id = person.company_id or only
    return made


def register(registry: Registry, kit: Kit) -> None:
    @registry.skill("resolve-participants")
    def resolve_participants(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Everyone on the call with their side, CRM contacts made for new prospects, the meeting
        linked to its prospect and open deal."""
        session = k.crm(ctx)
        people_db = People(session)
        meeting_id = str(inputs["meeting_id"])
        meeting = session.meeting(meeting_id)
        if meeting is None:
            raise StepError(f"no meeting {meeting_id!r} in this org")
        segments = session.transcript(meeting_id)
        speakers, said = _said(segments)
        event = people_db.calendar_event_for(meeting)
        attendees = [a for a in (event or {}).get("attendees") or [] if isinstance(a, dict)]
        users = session.users()
        profile = ((ctx.context.get("tier1") or {}).get("org") or {}).get("profile") or {}
        domains = [str(d) for d in profile.get("domains") or []]
        named = [str(n) for n in inputs.get("participants") or [] if n]
        contacts = people_db.contacts_for([str(a.get("email") or "") for a in attendees], [*speakers, *named])
        owner = str(meeting.get("owner_id") or ctx.user_id)
        facts = Facts(speakers, said, named, attendees, users, domains, contacts, owner)
        people = resolve(facts)
        prospects = [p for p in people if p.side == "prospect"]
        title = (event or {}).get("title") or meeting.get("title")
        ours = [str(((ctx.context.get("tier1") or {}).get("org") or {}).get("name") or ""), *domains]
        made = _companies(people_db, prospects, list(said.values()), title, ours, ctx)
        created = []
        for person in prospects:
            if person.contact_id is None:
                person.contact_id, new = people_db.ensure_contact(
                    person.name, person.email, person.company_id, owner, meeting, ctx.now
                )
                if new:
                    created.append({"id": person.contact_id, "name": person.name, "email": person.email})
        primary = next((p for p in prospects if p.spoke), prospects[0] if prospects else None)
        deal = people_db.open_deal(
            primary.contact_id if primary else None, primary.company_id if primary else None
        )
        if people_db.link_meeting(
            meeting_id, primary.contact_id if primary else None, deal["id"] if deal else None
        ):
            ctx.refresh_context()
        return {
            "meeting_id": meeting_id,
            "people": [p.as_dict() for p in people],
            "sides": sides(people),
            "prospects": [p.as_dict() for p in prospects],
            "contact_id": primary.contact_id if primary else None,
            "company_id": primary.company_id if primary else None,
            "deal_id": deal["id"] if deal else None,
            "calendar_event_id": (event or {}).get("id"),
            "created": {"contacts": created, **made},
        }
