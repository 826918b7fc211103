"""Deal skills: pipeline analysis, proposals from the org's templates, and the pre-meeting brief
with the functions that gather its attendees and their enrichment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.errors import StepError
from overture.packs.sales import kit as k
from overture.packs.sales.crm.queries import Crm
from overture.packs.sales.kit import Kit
from overture.packs.sales.models import MeetingPrep, Proposal
from overture.packs.sales.rules.detect.documents import find_documents
from overture.packs.sales.rules.detect.lexicon import lexicon
from overture.packs.sales.rules.grounding import deliverables
from overture.packs.sales.rules.pipeline import analyse
from overture.packs.sales.skills.transcript import read_call

PROPOSE = (
    "Fill the proposal template for this deal from what the prospect said; keep the template's "
    "structure, state the price as given, and write a short cover email that cites the meeting."
)
PREP = (
    "Write a pre-meeting brief: a one-line headline, talking points grounded in the history given, "
    "questions to ask for this deal stage, and risks."
)
PILOT_BELOW_CENTS = 30_000 * 100


def pipeline_report(session: Crm, owner_id: str | None, today: date, now: datetime) -> dict[str, Any]:
    """Gather what ``pipeline.analyse`` needs from the CRM, for one rep or (None) the whole org."""
    deals = session.deals(owner_id=owner_id)
    ids = {d["id"] for d in deals}
    proposals = [p for p in session.proposals(status="sent") if p.get("deal_id") in ids]
    answered = {
        p["id"]
        for p in proposals
        if any(
            a["kind"] == "email_received"
            for a in session.activities(deal_id=p["deal_id"], since=datetime.fromisoformat(p["sent_at"]))
        )
    }
    due = {
        t["deal_id"]
        for t in session.tasks(owner_id)
        if t.get("due_date") and t["due_date"] <= today.isoformat()
    }
    waiting: set[str] = set()
    for user in [owner_id] if owner_id else [u["id"] for u in session.users()]:
        waiting |= {t["contact_id"] for t in session.threads(user, needs_reply=True) if t.get("contact_id")}
    return analyse(deals, proposals, answered, due, waiting, today, now)


def _promised(ctx: StepContext, inputs: dict[str, Any]) -> list[str]:
    """What the rep's side promised on the call to put in this proposal."""
    said, _ = read_call(ctx, inputs.get("meeting_id"), inputs.get("sides"))
    if not said:
        return []
    promises = find_documents(said, lexicon()).active
    return [text for text, _ in deliverables(said, [p.segment for p in promises])]


def register(registry: Registry, kit: Kit) -> None:
    @registry.skill("pipeline-analysis")
    def pipeline_analysis(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Stale and at-risk deals with reasons, deals needing action, proposed stage changes."""
        owner = None if inputs.get("scope") == "org" else ctx.user_id
        today = ctx.now.astimezone(k.zone(ctx)).date()
        return pipeline_report(k.crm(ctx), owner, today, ctx.now)

    @registry.function("deal-snapshot")
    def deal_snapshot(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The deal, contact and company the proposal is for. A brand-new prospect has a contact
        and a company but no deal yet: the proposal goes to them, its value to be scoped."""
        deal = k.tier2(ctx, "deal")
        contact = k.tier2(ctx, "contact")
        company = k.tier2(ctx, "company") or k.crm(ctx).company(inputs.get("company_id")) or {}
        if contact is None:
            raise StepError(
                "no contact to send a proposal to: the call's prospect could not be identified; "
                "add them as a contact, then retry this job"
            )
        if deal is None:
            return {
                "deal_id": None,
                "deal": None,
                "stage": None,
                "value": "value to be scoped",
                "contact_id": contact["id"],
                "contact": contact["name"],
                "company": company.get("name") or contact["name"],
                "company_id": company.get("id"),
                "days_inactive": None,
            }
        idle = k.days_between(deal.get("last_activity_at"), ctx.now)
        return {
            "deal_id": deal["id"],
            "deal": deal["name"],
            "stage": deal["stage"],
            "value": k.money(deal["value_cents"]),
            "contact_id": contact["id"],
            "contact": contact["name"],
            "company": company.get("name"),
            "company_id": company.get("id"),
            "days_inactive": idle,
        }

    @registry.skill("generate-proposal")
    def generate_proposal(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """A proposal from the org's best-fitting template and the deal, saved as a CRM draft."""
        deal, contact = k.tier2(ctx, "deal"), k.tier2(ctx, "contact")
        if contact is None:
            raise StepError("no contact to write a proposal for: add the prospect as a contact, then retry")
        company = k.tier2(ctx, "company") or k.crm(ctx).company(inputs.get("company_id")) or {}
        deal = deal or {"id": None, "name": None, "value_cents": 0, "currency": "USD"}
        templates = k.tier3(ctx, "proposal_templates") or k.crm(ctx).templates()
        if not templates:
            raise StepError("the org has no proposal templates")
        phrase = str(inputs.get("trigger_phrase") or "")
        pilot = "pilot" in phrase.lower() or 0 < int(deal["value_cents"]) < PILOT_BELOW_CENTS
        wanted = "pilot" if pilot else "standard"
        template = next((t for t in templates if wanted in t["name"].lower()), templates[0])
        data = {
            "template": {"id": template["id"], "name": template["name"], "body": template["body"]},
            "deal": deal,
            "company": company,
            "contact": contact,
            "deliverables": [str(d) for d in inputs.get("deliverables") or []] or _promised(ctx, inputs),
            "rep": k.rep(ctx),
            "objections": [{"phrase": str(c)} for c in inputs.get("concerns") or []],
            "trigger_phrase": phrase or None,
            "today": ctx.now.astimezone(k.zone(ctx)).date().isoformat(),
        }
        written = kit.ask(ctx, "generate-proposal", PROPOSE, data, Proposal)
        proposal_id, _ = k.crm(ctx).writer.save_proposal(
            f"{ctx.idempotency_key}",
            deal_id=deal["id"],
            template_id=template["id"],
            title=written.title,
            body=written.body,
            value_cents=int(deal["value_cents"]),
            now=ctx.now,
        )
        return {
            "proposal_id": proposal_id,
            "template": template["name"],
            "title": written.title,
            "value": k.money(deal["value_cents"]) if deal["value_cents"] else "value to be scoped",
            "to": contact.get("email") or "",
            "subject": written.email_subject,
            "body": f"{written.email_body}\n\n---\n\n{written.body}",
            "deal_id": deal["id"],
            "contact_id": contact["id"],
        }

    @registry.function("meeting-attendees")
    def meeting_attendees(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The meeting's external attendees, matched to CRM contacts where we know them."""
        history = k.tier2(ctx, "meeting_history") or {}
        meeting = history.get("meeting")
        if meeting is None:
            raise StepError("the event names no meeting in this org")
        external = [a for a in history.get("attendees") or [] if a.get("external")]
        known = {c["email"].lower(): c for c in k.crm(ctx).contacts_by_email(a["email"] for a in external)}
        people = []
        for attendee in external:
            contact = known.get(attendee["email"].lower(), {})
            people.append(
                {
                    "name": contact.get("name") or attendee.get("name") or attendee["email"],
                    "email": attendee["email"],
                    "title": contact.get("title"),
                    "contact_id": contact.get("id"),
                }
            )
        local = k.local(meeting["starts_at"], k.zone(ctx))
        return {
            "meeting_id": meeting["id"],
            "title": meeting["title"],
            "starts": f"{local:%a %H:%M}",
            "attendees": people,
        }

    @registry.function("enrich-attendees")
    def enrich_attendees(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Apollo, LinkedIn and news for the attendees, with each source's availability."""
        apollo = (k.tier3(ctx, "apollo") or {}).get("people") or {}
        profiles = (k.tier3(ctx, "linkedin") or {}).get("profiles") or []
        news = (k.tier3(ctx, "company_news") or {}).get("items") or []
        sources = {name: k.tier3(ctx, name) is not None for name in ("apollo", "linkedin", "company_news")}
        people = []
        for person in inputs.get("attendees") or []:
            found = apollo.get(person["email"]) or {}
            people.append(
                {
                    **person,
                    "enrichment": {
                        "title": found.get("title"),
                        "headline": found.get("headline"),
                        "linkedin_url": found.get("linkedin_url"),
                    }
                    if found
                    else None,
                }
            )
        if profiles and people and isinstance(profiles[0], dict) and profiles[0].get("headline"):
            people[0]["enrichment"] = {**(people[0]["enrichment"] or {}), "headline": profiles[0]["headline"]}
        return {
            "attendees": people,
            "news": [{"title": n.get("title"), "url": n.get("url")} for n in news if n.get("title")],
            "sources": sources,
            "degraded": not all(sources.values()),
        }

    @registry.skill("meeting-prep")
    def meeting_prep(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The brief a rep reads before a meeting: who, what is at stake, last touches, questions, risks."""
        history = k.tier2(ctx, "meeting_history") or {}
        meeting = history.get("meeting") or {}
        deal = dict(k.tier2(ctx, "deal") or {})
        if deal:
            deal["days_inactive"] = k.days_between(deal.get("last_activity_at"), ctx.now) or 0
        tasks = [
            t["title"] for t in k.crm(ctx).tasks(ctx.user_id) if deal and t.get("deal_id") == deal.get("id")
        ]
        enrichment = dict(inputs.get("enrichment") or {})
        data = {
            "meeting": {"title": meeting.get("title"), "starts": inputs.get("starts")},
            "attendees": enrichment.get("attendees") or inputs.get("attendees") or [],
            "company": k.tier2(ctx, "company"),
            "deal": deal or None,
            "last_touchpoints": (k.tier2(ctx, "activities") or [])[:3],
            "open_commitments": tasks,
            "objections": [],
            "news": enrichment.get("news") or [],
        }
        brief = kit.ask(ctx, "meeting-prep", PREP, data, MeetingPrep)
        lines = [brief.headline, "", "Talking points:"] + [f"- {p}" for p in brief.talking_points]
        lines += ["", "Questions to ask:"] + [f"- {q}" for q in brief.questions_to_ask]
        if brief.risks:
            lines += ["", "Risks:"] + [f"- {r}" for r in brief.risks]
        if enrichment.get("degraded"):
            missing = [n for n, ok in (enrichment.get("sources") or {}).items() if not ok]
            lines += ["", f"(Prepared without: {', '.join(missing)}.)"]
        return {**brief.model_dump(mode="json"), "meeting_id": meeting.get("id"), "text": "\n".join(lines)}
