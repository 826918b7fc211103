"""CRM actions for sequences (``uses: crm:ACTION``), each idempotent (see ``writes``), and
the calendar planning that decides when a meeting's prep should run.

Moments written to the CRM come from the triggering event, not the clock at run time, so a step
replayed after a crash writes the very same row, which the idempotency checks then recognise.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.errors import StepError, ValidationFailed
from overture.packs.sales import kit as k
from overture.packs.sales.crm.people import People
from overture.packs.sales.crm.queries import STAGES

PREP_LEAD = timedelta(minutes=90)
_KINDS = (
    (re.compile(r"\bdemo\b", re.I), "demo"),
    (re.compile(r"\b(?:discovery|intro|introduction)\b", re.I), "discovery"),
    (re.compile(r"\b(?:pricing|proposal)\b", re.I), "proposal_review"),
    (re.compile(r"\b(?:negotiation|contract|redlines?)\b", re.I), "negotiation"),
    (re.compile(r"\b(?:check-?in|qbr|review)\b", re.I), "check_in"),
)


def _moment(ctx: StepContext) -> datetime:
    return datetime.fromisoformat(str(ctx.event.get("occurred_at") or ctx.now.isoformat()))


def meeting_kind(title: str, external: bool) -> str:
    """A meeting's kind from its title; internal when no one from outside attends."""
    if not external:
        return "internal"
    return next((kind for pattern, kind in _KINDS if pattern.search(title)), "meeting")


def register(registry: Registry) -> None:
    @registry.crm("create_task")
    def create_task(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """One task for the job's user, created once however often the step runs."""
        due = inputs.get("due_date")
        task_id, created = k.crm(ctx).writer.create_task(
            ctx.idempotency_key,
            str(inputs["title"]),
            owner_id=ctx.user_id,
            due_date=date.fromisoformat(due) if due else None,
            now=ctx.now,
            contact_id=inputs.get("contact_id"),
            deal_id=inputs.get("deal_id"),
            meeting_id=inputs.get("meeting_id"),
        )
        return {"task_id": task_id, "created": created}

    @registry.crm("log_activity")
    def log_activity(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Record an activity on a contact or deal, at the triggering event's time."""
        written = k.crm(ctx).writer.log_activity(
            str(inputs.get("kind") or "note"),
            str(inputs["summary"]),
            _moment(ctx),
            contact_id=inputs.get("contact_id"),
            deal_id=inputs.get("deal_id"),
            user_id=ctx.user_id,
        )
        return {"logged": written}

    @registry.crm("update_deal_stage", gate="confirm")
    def update_deal_stage(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Move one deal to a stage (gated by a confirm approval in every sequence)."""
        return update_deal_stages(ctx, {"changes": [inputs]})

    @registry.crm("update_deal_stages", gate="confirm")
    def update_deal_stages(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Apply the confirmed stage changes; each logs a stage_change activity once."""
        writer = k.crm(ctx).writer
        applied: list[dict[str, Any]] = []
        unchanged: list[dict[str, Any]] = []
        for change in inputs.get("changes") or []:
            stage = str(change["to_stage"])
            if stage not in STAGES:
                raise ValidationFailed(f"to_stage: {stage!r} is not one of {', '.join(STAGES)}")
            before, moved = writer.update_deal_stage(
                str(change["deal_id"]),
                stage,
                str(change.get("reason") or "confirmed by the rep"),
                _moment(ctx),
                ctx.user_id,
            )
            (applied if moved else unchanged).append(
                {"deal_id": change["deal_id"], "from": before, "to": stage}
            )
        return {"applied": applied, "unchanged": unchanged}

    @registry.crm("open_deal", gate="confirm")
    def open_deal(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Open a deal for a prospect's company the rep confirmed, unless one is already open."""
        changes = inputs.get("changes") or [inputs]
        change = dict(changes[0]) if changes else {}
        if not change.get("company_id"):
            raise ValidationFailed("company_id: the deal needs the prospect's company")
        deal_id, created = People(k.crm(ctx)).open_deal_for_call(
            str(change["company_id"]),
            str(change["contact_id"]) if change.get("contact_id") else None,
            str(change.get("deal") or "New deal"),
            ctx.user_id,
            str(change.get("meeting_id") or ""),
            _moment(ctx),
        )
        return {"deal_id": deal_id, "created": created}

    @registry.crm("mark_proposal_sent")
    def mark_proposal_sent(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Mark a proposal sent, so the pipeline counts it as awaiting a response."""
        return {"changed": k.crm(ctx).writer.set_proposal_status(str(inputs["proposal_id"]), "sent", ctx.now)}

    @registry.crm("upsert_meeting")
    def upsert_meeting(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The CRM meeting for a calendar event, linked to the contact and deal its guests match."""
        event = dict(inputs.get("event") or {})
        if not event.get("id") or not event.get("start") or not event.get("end"):
            raise StepError("the calendar event has no id, start or end")
        session = k.crm(ctx)
        guests = [a for a in event.get("attendees") or [] if a.get("external")]
        contacts = session.contacts_by_email(a["email"] for a in guests if a.get("email"))
        contact = contacts[0] if contacts else None
        deal = session.open_deal_for(contact["id"], contact.get("company_id")) if contact else None
        title = str(event.get("summary") or "Meeting")[:300]
        # A calendar webhook stored the event already and names its row; the API and the CLI do not.
        row = session.calendar_event(event.get("calendar_event_row_id"))
        row = row or session.calendar_event_by_external(ctx.user_id, str(event["id"]))
        starts, ends = datetime.fromisoformat(str(event["start"])), datetime.fromisoformat(str(event["end"]))
        cancelled = event.get("status") == "cancelled"
        calendar_id = (
            row["id"]
            if row
            else session.writer.add_calendar_event(
                {
                    "user_id": ctx.user_id,
                    "external_id": str(event["id"])[:255],
                    "title": title,
                    "starts_at": starts,
                    "ends_at": ends,
                    "all_day": bool(event.get("all_day")),
                    "location": None,
                    "attendees": list(event.get("attendees") or []),
                    "status": "cancelled" if cancelled else "confirmed",
                    "updated_at": ctx.now,
                }
            )
        )
        external_id = f"{event.get('provider') or 'calendar'}:{event.get('calendar_id') or ''}:{event['id']}"[
            :200
        ]
        meeting_id, created = session.writer.upsert_meeting(
            external_id,
            {
                "owner_id": ctx.user_id,
                "deal_id": (deal or {}).get("id"),
                "contact_id": (contact or {}).get("id"),
                "calendar_event_id": calendar_id,
                "title": title,
                "kind": meeting_kind(title, bool(guests)),
                "starts_at": starts,
                "ends_at": ends,
                "status": "cancelled" if cancelled else "scheduled",
            },
            ctx.now,
        )
        return {
            "meeting_id": meeting_id,
            "calendar_event_id": calendar_id,
            "created": created,
            "external": bool(guests) and not cancelled,
            "starts_at": starts.isoformat(),
            "contact_id": (contact or {}).get("id"),
            "deal_id": (deal or {}).get("id"),
        }

    @registry.function("plan-prep")
    def plan_prep(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """When the meeting's prep should run: 90 minutes before it, or now if that has passed;
        never for internal meetings or ones already under way."""
        meeting = dict(inputs.get("meeting") or {})
        starts = datetime.fromisoformat(str(meeting["starts_at"]))
        if not meeting.get("external"):
            return {"schedule": False, "reason": "no external attendees", "not_before": None}
        if starts <= ctx.now:
            return {"schedule": False, "reason": "the meeting has already started", "not_before": None}
        when = max(ctx.now, starts - PREP_LEAD)
        return {"schedule": True, "reason": "external attendees", "not_before": when.isoformat()}
