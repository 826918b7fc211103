"""What the morning brief chains (the seed's data sources): today's meetings with their prep
status, inbox threads needing a reply, overnight CRM changes, and the step that composes them.

A meeting with outside attendees and no prep job yet gets one queued, 90 minutes before it
starts, so "[Prepping now...]" is true when the rep reads it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.packs.sales import kit as k
from overture.packs.sales.kit import Kit
from overture.packs.sales.models import EmailClassification
from overture.packs.sales.skills.email import CLASSIFY
from overture.packs.sales.writers import brief

PREP_LEAD = timedelta(minutes=90)
_ACTIONS = {
    "meeting_request": ("Send times", "Open thread"),
    "objection": ("Draft response", "Open deal"),
    "reply_needed": ("Draft reply", "Open thread"),
}
_PREP = {
    "completed": "ready",
    "pending": "in_progress",
    "in_progress": "in_progress",
    "deferred": "in_progress",
}


def _today_bounds(ctx: StepContext) -> tuple[datetime, datetime]:
    zone = k.zone(ctx)
    day = ctx.now.astimezone(zone).date()
    start = datetime.combine(day, time(0), zone)
    return start, start + timedelta(days=1)


def _previous_evening(ctx: StepContext) -> datetime:
    """18:00 local on the previous workday: where "overnight" starts (Friday's, on a Monday)."""
    zone = k.zone(ctx)
    day = ctx.now.astimezone(zone).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, time(18), zone)


def _guest(event: dict[str, Any]) -> str | None:
    """The first outside guest of an invite, by name or address, for a meeting with no contact."""
    guests = [a for a in event.get("attendees") or [] if a.get("external")]
    return str(guests[0].get("name") or guests[0].get("email")) if guests else None


def register(registry: Registry, kit: Kit) -> None:
    @registry.function("todays-meetings")
    def todays_meetings(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The rep's meetings today in their time zone, each with its prep status."""
        session = k.crm(ctx)
        start, end = _today_bounds(ctx)
        found = session.meetings(owner_id=ctx.user_id, start=start, end=end)
        jobs = session.prep_status((m["id"] for m in found), since=ctx.now - timedelta(days=3))
        rows, queued = [], 0
        for meeting in found:
            contact = session.contact(meeting.get("contact_id")) or {}
            company = session.company(contact.get("company_id")) or {}
            deal = session.deal(meeting.get("deal_id")) or {}
            event = session.calendar_event(meeting.get("calendar_event_id")) or {}
            external = any(a.get("external") for a in event.get("attendees") or [])
            begins = datetime.fromisoformat(meeting["starts_at"])
            ended = datetime.fromisoformat(meeting["ends_at"]) <= ctx.now if meeting.get("ends_at") else False
            if not external or deal.get("stage") == "closed_won" or ended:
                prep = "none"
            elif meeting["id"] in jobs:
                prep = _PREP.get(jobs[meeting["id"]], "in_progress")
            else:
                prep, queued = "in_progress", queued + 1
                when = max(ctx.now, begins - PREP_LEAD)
                ctx.followup(
                    "pre_meeting_90min",
                    {"meeting_id": meeting["id"], "not_before": when.isoformat()},
                    when,
                    source="cron:pre_meeting",
                )
            rows.append(
                {
                    "meeting_id": meeting["id"],
                    "time": brief.clock_label(begins.astimezone(k.zone(ctx))),
                    "contact_name": contact.get("name") or _guest(event) or meeting.get("title") or "",
                    "company": company.get("name") or "",
                    "meeting_type": str(meeting["kind"]).replace("_", " "),
                    "prep": prep,
                }
            )
        return {"date": start.date().isoformat(), "meetings": rows, "prep_queued": queued}

    @registry.function("inbox-needing-reply")
    def inbox_needing_reply(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Threads waiting for the rep, newest first, each summarised and given its two actions."""
        session = k.crm(ctx)
        rows = []
        for thread in session.threads(ctx.user_id, needs_reply=True):
            inbound = [m for m in session.messages(thread["id"]) if m["direction"] == "in"]
            if not inbound:
                continue
            last = inbound[-1]
            data = {"subject": thread["subject"], "body": last["body"], "sender": last["sender"]}
            found = kit.ask(ctx, "email-classifier", CLASSIFY, data, EmailClassification)
            contact = session.contact(thread.get("contact_id")) or {}
            company = session.company(contact.get("company_id")) or {}
            primary, secondary = _ACTIONS.get(found.category, ("Reply", "Archive"))
            rows.append(
                {
                    "thread_id": thread["id"],
                    "contact_name": contact.get("name") or last["sender"],
                    "company": company.get("name") or "unknown company",
                    "category": found.category,
                    "summary": found.summary,
                    "primary": primary,
                    "secondary": secondary,
                }
            )
        return {"threads": rows, "count": len(rows)}

    @registry.function("overnight-changes")
    def overnight_changes(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Deal stage changes and prospect replies on the rep's deals since last evening."""
        session = k.crm(ctx)
        since = _previous_evening(ctx)
        deals = {d["id"]: d for d in session.deals(owner_id=ctx.user_id, open_only=False)}
        updates = []
        for activity in reversed(session.activities(since=since, limit=200)):
            deal = deals.get(activity.get("deal_id") or "")
            if deal is None:
                continue
            if activity["kind"] == "stage_change" and "closed_won" in activity["summary"]:
                text = f"{deal['company_name']} moved to closed won ({brief.money(deal['value_cents'])})"
                updates.append({"icon": "\u2705", "summary": text})
            elif activity["kind"] == "stage_change":
                updates.append({"icon": "\U0001f500", "summary": f"{deal['name']}: {activity['summary']}"})
            elif activity["kind"] == "email_received":
                who = activity["summary"].split(" replied: ", 1)
                subject = who[1] if len(who) == 2 else activity["summary"]
                text = f"{who[0]} ({deal['company_name']}) replied: {subject}"
                updates.append({"icon": "\u2709\ufe0f", "summary": text})
        return {"since": since.isoformat(), "updates": updates}

    @registry.skill("morning-brief")
    def morning_brief(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The morning brief in the seed's format, with Slack blocks for its buttons."""
        meetings = list((inputs.get("meetings") or {}).get("meetings") or [])
        attention = list((inputs.get("inbox") or {}).get("threads") or [])
        pipeline = dict(inputs.get("pipeline") or {})
        updates = list((inputs.get("overnight") or {}).get("updates") or [])
        updates += brief.campaign_updates(inputs.get("campaigns"))
        today = ctx.now.astimezone(k.zone(ctx)).date()
        text = brief.compose(str(k.rep(ctx).get("name") or ""), today, meetings, attention, pipeline, updates)
        return {
            "text": text,
            "blocks": brief.blocks(text, meetings, attention),
            "counts": {
                "meetings": len(meetings),
                "attention": len(attention),
                "deals_needing_action": len(pipeline.get("needing_action") or []),
                "at_risk": len(pipeline.get("at_risk") or []),
                "updates": len(updates),
            },
        }
