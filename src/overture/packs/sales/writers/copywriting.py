"""Offline copywriting: follow-up, reply and scheduling emails, and proposals from templates.

Plain templates, honest about what they do not know: a reply to a question the rules cannot
answer says the rep will confirm, instead of inventing an answer; the rep edits any draft before
approving it. Every follow-up cites the meeting (its day and what was said), so the prospect
can tell it was written about their call, not sent from a sequence.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from overture.packs.sales.rules.text import first_name
from overture.packs.sales.writers.followup import follow_up

_PROMISES = {
    "send_proposal": "I'll send over the proposal",
    "send_pricing": "I'll send the pricing",
    "send_contract": "I'll send the contract",
    "send_materials": "I'll send the materials we discussed",
    "schedule_meeting": "I'll set up our next meeting",
    "intro": "I'll make the introduction we talked about",
    "follow_up": "I'll come back to you on your open question",
    "setup_trial": "I'll get your trial environment set up",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _day(value: str | None) -> str:
    """'2026-11-27' -> 'Friday, Nov 27'."""
    if not value:
        return ""
    day = date.fromisoformat(value[:10])
    return f"{day:%A}, {day:%b} {day.day}"


def _by(due: str | None) -> str:
    return f" by {_day(due)}" if due else ""


def _greeting(contact: dict[str, Any] | None) -> str:
    return f"Hi {first_name(str(contact['name']))}," if contact and contact.get("name") else "Hi,"


def _signature(rep: dict[str, Any]) -> str:
    return f"Best,\n{first_name(str(rep.get('name') or ''))}"


def _reply(data: dict[str, Any]) -> dict[str, Any]:
    rep, contact = data.get("rep") or {}, data.get("contact")
    message = data.get("message") or {}
    category = (data.get("classification") or {}).get("category")
    subject = str(message.get("subject") or "")
    lines = [_greeting(contact), ""]
    if category == "objection":
        lines.append(
            "Thank you for being straight with me, I appreciate it. I would like to understand the "
            "concern properly before you decide; could we take 15 minutes this week?"
        )
    else:
        lines.append(
            "Thanks for your note. I am pulling together the details you asked about and will come "
            "back to you with a complete answer by tomorrow."
        )
    lines += ["", _signature(rep)]
    return {
        "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}",
        "body": "\n".join(lines),
        "cites": [str(message.get("summary") or "")][:1] if message.get("summary") else [],
    }


def _scheduling(data: dict[str, Any]) -> dict[str, Any]:
    rep, contact = data.get("rep") or {}, data.get("contact")
    slots = data.get("slots") or []
    zone = data.get("contact_timezone") or "UTC"
    reason = data.get("reason") or "our conversation"
    terms = str(data.get("terms") or "")
    heard = [int(s) for s in data.get("terms_segments") or []]
    opening = f"Following up on {reason}: here are a few times that work on my side"
    opening += f", {terms}," if terms else ""
    opening += f" (in your time zone, {zone}):"
    lines = [_greeting(contact), "", opening, ""]
    lines += [f"- {slot['contact_label']}" for slot in slots] or ["- (no shared free time found this week)"]
    lines += ["", "If none of these suit you, just suggest another time.", "", _signature(rep)]
    sentences = [{"text": opening, "segments": heard, "records": ["calendar"]}]
    sentences += [{"text": slot["contact_label"], "segments": [], "records": ["calendar"]} for slot in slots]
    return {
        "subject": "Times for our next conversation",
        "body": "\n".join(lines),
        "cites": [str(reason)],
        "sentences": sentences,
    }


def email_draft(data: dict[str, Any]) -> dict[str, Any]:
    """The ``copywriter`` rule: a follow-up, reply or scheduling email, by ``kind``."""
    kind = data.get("kind")
    if kind == "reply":
        return _reply(data)
    if kind == "scheduling":
        return _scheduling(data)
    return follow_up(data)


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders; unknown ones stay visible for the rep to fill.
    Deliberately not ``str.format``, which would let a template reach attributes."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def proposal(data: dict[str, Any]) -> dict[str, Any]:
    """The ``generate-proposal`` rule: the template filled from the deal (or, for a prospect with no
    deal yet, from the company), what the rep committed to include, and its cover email."""
    template = data.get("template") or {}
    deal, company = data.get("deal") or {}, data.get("company") or {}
    contact, rep = data.get("contact") or {}, data.get("rep") or {}
    value = int(deal.get("value_cents") or 0) // 100
    currency = str(deal.get("currency") or "USD")
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, f"{currency} ")
    concerns = [o["phrase"] for o in data.get("objections") or []][:3]
    promised = [str(d) for d in data.get("deliverables") or []]
    values = {
        "company": str(company.get("name") or "your company"),
        "contact_name": str(contact.get("name") or ""),
        "contact_first": first_name(str(contact.get("name") or "")),
        "deal_name": str(deal.get("name") or company.get("name") or ""),
        "value": f"{symbol}{value:,}" if value else "to be confirmed with you",
        "rep_name": str(rep.get("name") or ""),
        "date": _day(str(data.get("today") or "")),
        "concerns": "\n".join(f"- {c}" for c in concerns) or "- None raised so far.",
        "industry": str(company.get("industry") or "your industry"),
    }
    title = f"Proposal: {values['deal_name'] or values['company']}"
    body = fill(str(template.get("body") or ""), values)
    if promised:
        body += "\n\n## What you asked us to include\n\n" + "\n".join(f"- {d}" for d in promised)
    worth = f" ({values['value']})" if value else ""
    email = [
        _greeting(contact),
        "",
        f"As promised, here is our proposal for {values['company']}{worth}.",
    ]
    if promised:
        email.append("It includes " + "; ".join(promised) + ".")
    email += ["", "Happy to walk you through it; just reply with a good time.", "", _signature(rep)]
    return {"title": title, "body": body, "email_subject": title, "email_body": "\n".join(email)}
