"""Context providers (docs/concepts.md, "Context tiers"). Tier 2, loaded when the payload names
a contact, deal or meeting: contact, company, deal, meeting history, email thread, recent activities. Tier 3,
only when a step names it in ``requires_context``: the CRM session itself (``crm``), Apollo,
LinkedIn through Apify, company news, proposal templates, campaign metrics.

A provider that cannot load raises; the loader records the source as unavailable with the
error's type, and the step runs without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from overture.engine.registry import ProviderRequest, Registry
from overture.packs.sales import clients
from overture.packs.sales.config import SalesConfig
from overture.packs.sales.crm.queries import Crm

MESSAGE_CHARS = 2000


class Anchor(NamedTuple):
    """The meeting, deal and contact an event is about."""

    meeting: dict[str, Any] | None
    deal: dict[str, Any] | None
    contact: dict[str, Any] | None


def _anchor(crm: Crm, payload: dict[str, Any]) -> Anchor:
    """The meeting, contact and deal a payload is about, each found from whichever it names."""
    meeting = crm.meeting(payload.get("meeting_id"))
    deal = crm.deal(payload.get("deal_id") or (meeting or {}).get("deal_id"))
    contact_id = (
        payload.get("contact_id") or (meeting or {}).get("contact_id") or (deal or {}).get("contact_id")
    )
    contact = crm.contact(contact_id)
    if deal is None and contact is not None:
        deal = crm.open_deal_for(contact["id"]) or crm.open_deal_for(company_id=contact.get("company_id"))
    return Anchor(meeting, deal, contact)


def _crm(request: ProviderRequest) -> Crm:
    return Crm(request.store, request.org_id)


def contact(request: ProviderRequest) -> dict[str, Any] | None:
    """The contact, with the time zone of their company's headquarters."""
    crm = _crm(request)
    found = _anchor(crm, request.payload).contact
    if found is None:
        return None
    company = crm.company(found.get("company_id")) or {}
    return {**found, "timezone": (company.get("details") or {}).get("hq_timezone", "UTC")}


def company(request: ProviderRequest) -> dict[str, Any] | None:
    crm = _crm(request)
    anchor = _anchor(crm, request.payload)
    company_id = (anchor.contact or {}).get("company_id") or (anchor.deal or {}).get("company_id")
    return crm.company(str(company_id) if company_id else None)


def deal(request: ProviderRequest) -> dict[str, Any] | None:
    return _anchor(_crm(request), request.payload).deal


def meeting_history(request: ProviderRequest) -> dict[str, Any]:
    """The meeting the payload names (with its calendar attendees) and earlier meetings with
    the same contact or deal."""
    crm = _crm(request)
    anchor = _anchor(crm, request.payload)
    current = anchor.meeting
    attendees: list[dict[str, Any]] = []
    if current is not None:
        event = crm.calendar_event(current.get("calendar_event_id")) or {}
        attendees = list(event.get("attendees") or [])
    who = anchor.contact or {}
    past = crm.meetings(contact_id=who["id"], status="completed") if who else []
    past = [m for m in past if current is None or m["id"] != current["id"]]
    return {"meeting": current, "attendees": attendees, "history": past[-5:]}


def email_thread(request: ProviderRequest) -> dict[str, Any] | None:
    """The latest email thread with the contact, its last messages shortened."""
    crm = _crm(request)
    who = _anchor(crm, request.payload).contact
    threads = crm.threads_for_contact(who["id"]) if who else []
    if not threads:
        return None
    messages = crm.messages(threads[0]["id"])[-3:]
    for message in messages:
        message["body"] = str(message.get("body") or "")[:MESSAGE_CHARS]
    return {**threads[0], "messages": messages}


def activities(request: ProviderRequest) -> list[dict[str, Any]]:
    crm = _crm(request)
    anchor = _anchor(crm, request.payload)
    if anchor.deal:
        return crm.activities(deal_id=anchor.deal["id"], limit=10)
    if anchor.contact:
        return crm.activities(contact_id=anchor.contact["id"], limit=10)
    return []


def _people(request: ProviderRequest) -> list[dict[str, Any]]:
    """Who tier 3 should look up: the meeting's external attendees, else the contact."""
    tier2 = request.context.get("tier2") or {}
    attendees = [a for a in (tier2.get("meeting_history") or {}).get("attendees") or [] if a.get("external")]
    if attendees:
        return attendees[:5]
    who = tier2.get("contact")
    return [{"email": who.get("email"), "name": who.get("name")}] if who else []


def make_tier3(config: SalesConfig) -> dict[str, Callable[[ProviderRequest], Any]]:
    """The on-demand sources, bound to the pack's configuration."""

    def apollo(request: ProviderRequest) -> dict[str, Any]:
        people = _people(request)
        return {"people": {p["email"]: clients.apollo_match(config, p) for p in people if p.get("email")}}

    def linkedin(request: ProviderRequest) -> dict[str, Any]:
        tier2 = request.context.get("tier2") or {}
        url = (tier2.get("contact") or {}).get("linkedin_url")
        if not url:
            return {"profiles": []}
        return {"profiles": clients.apify_run(config, config.apify_linkedin_actor, {"profileUrls": [url]}, 1)}

    def company_news(request: ProviderRequest) -> dict[str, Any]:
        found = (request.context.get("tier2") or {}).get("company") or {}
        if not found.get("name"):
            return {"items": []}
        items = clients.apify_run(config, config.apify_news_actor, {"query": found["name"], "maxItems": 5}, 5)
        return {"items": [i for i in items if isinstance(i, dict)]}

    def proposal_templates(request: ProviderRequest) -> list[dict[str, Any]]:
        return _crm(request).templates()

    def campaign_metrics(request: ProviderRequest) -> dict[str, Any]:
        return {"campaigns": clients.instantly_analytics(config)}

    return {
        "crm": _crm,
        "apollo": apollo,
        "linkedin": linkedin,
        "company_news": company_news,
        "proposal_templates": proposal_templates,
        "campaign_metrics": campaign_metrics,
    }


def register_providers(registry: Registry, config: SalesConfig) -> None:
    """Tier 2 by the names the sales sequences read (``context.tier2.contact``); tier 3 as
    ``requires_context`` names."""
    providers: dict[str, Callable[[ProviderRequest], Any]] = {
        "contact": contact,
        "company": company,
        "deal": deal,
        "meeting_history": meeting_history,
        "email_thread": email_thread,
        "activities": activities,
    }
    registry.tier2.update(providers)
    registry.tier3.update(make_tier3(config))
