"""Skills for a meeting that just ended: action items, intents, next actions, the follow-up email
and the tasks the rep picks. The transcript is read from the CRM by meeting id, never passed
through the job's state, so it is not copied into step records."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.errors import StepError, ValidationFailed
from overture.packs.sales import kit as k
from overture.packs.sales.kit import Kit
from overture.packs.sales.models import ActionItems, DealActions, EmailDraft, Intents, NextActions

EXTRACT = (
    "From this sales-call transcript, list every action item: who owns it (a speaker's name and "
    "side, rep or prospect), the action in plain words, its intent, and its due date resolved "
    "against the meeting date (null when none was said)."
)
DETECT = (
    "From this sales-call transcript, list commitments (speaker, side rep or prospect, intent, the "
    "sentence, a confidence 0-1, due date resolved against the meeting date), every question "
    "asked, objections the prospect raised, and whether a next meeting was agreed."
)
NEXT = (
    "Given what was agreed on the call, list the rep's next actions, most urgent first, each "
    "with a reason that points at the call."
)
COPY = (
    "Write the email the rep sends. Cite the meeting (its day and what was agreed), keep it short "
    "and specific, never promise what the rep did not, and sign with the rep's first name."
)


def _call(ctx: StepContext, meeting_id: str, sides: Any = None) -> dict[str, Any]:
    """The model input for a transcript task: the meeting, the org's rep names, each speaker's
    side (from participant resolution), the segments with their ids."""
    session = k.crm(ctx)
    meeting = session.meeting(meeting_id)
    if meeting is None:
        raise StepError(f"no meeting {meeting_id!r} in this org")
    segments = session.transcript(meeting_id)
    if not segments:
        raise StepError(f"meeting {meeting_id} has no transcript")
    owner = session.user(str(meeting.get("owner_id") or ctx.user_id)) or k.rep(ctx)
    day = k.local_day(meeting["starts_at"], ZoneInfo(str(owner.get("timezone") or "UTC")))
    data: dict[str, Any] = {
        "meeting": {"id": meeting_id, "title": meeting["title"], "date": day.isoformat()},
        "reps": k.rep_names(session),
        "segments": [{"id": i, **s} for i, s in enumerate(segments)],
    }
    if isinstance(sides, dict) and sides:
        data["sides"] = {str(speaker): str(side) for speaker, side in sides.items()}
    return data


def register(registry: Registry, kit: Kit) -> None:
    @registry.skill("extract-action-items")
    def extract_action_items(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Action items from a meeting's transcript: owner, action, due date from the meeting day."""
        data = _call(ctx, str(inputs["meeting_id"]), inputs.get("sides"))
        found = kit.ask(ctx, "extract-action-items", EXTRACT, data, ActionItems)
        items = found.model_dump(mode="json")["items"]
        return {
            "meeting_id": data["meeting"]["id"],
            "meeting_date": data["meeting"]["date"],
            "action_items": items,
        }

    @registry.skill("detect-intents")
    def detect_intents(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Commitments (speaker side, intent, phrase, confidence), questions, objections, next meeting."""
        data = _call(ctx, str(inputs["meeting_id"]), inputs.get("sides"))
        found = kit.ask(ctx, "detect-intents", DETECT, data, Intents)
        return {"meeting_id": data["meeting"]["id"], **found.model_dump(mode="json")}

    @registry.skill("suggest-next-actions")
    def suggest_next_actions(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The rep's next actions after a call (and the task choices for the select gate), or,
        given a pipeline report, one action per deal that needs one."""
        if inputs.get("pipeline") is not None:
            report = dict(inputs["pipeline"])
            deals = [d for d in report.get("deals") or [] if d.get("reasons")]
            found = kit.ask(ctx, "suggest-deal-actions", NEXT, {"deals": deals}, DealActions)
            return {"actions": found.model_dump(mode="json")["actions"], "deals_considered": len(deals)}
        intents = dict(inputs.get("intents") or {})
        data = {
            "rep": k.rep(ctx),
            "contact": k.tier2(ctx, "contact"),
            "deal": k.tier2(ctx, "deal"),
            "action_items": list(inputs.get("action_items") or []),
            "commitments": intents.get("commitments") or [],
            "objections": intents.get("objections") or [],
            "questions": intents.get("questions") or [],
            "next_meeting": intents.get("next_meeting") or {},
        }
        actions = kit.ask(ctx, "suggest-next-actions", NEXT, data, NextActions).model_dump(mode="json")[
            "actions"
        ]
        options = [
            {"id": a["id"], "title": a["title"], "due_date": a["due_date"], "priority": a["priority"]}
            for a in actions
            if a["kind"] != "crm"
        ]
        chosen = [o["id"] for o in options if o["priority"] != "low"]
        return {"actions": actions, "task_options": options, "selected": chosen}

    @registry.skill("copywriter")
    def copywriter(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """An email draft for the rep: a meeting follow-up, a reply, or times to meet."""
        contact = k.tier2(ctx, "contact") or {}
        history = k.tier2(ctx, "meeting_history") or {}
        meeting = history.get("meeting") or {}
        intents = dict(inputs.get("intents") or {})
        day = k.local_day(meeting["starts_at"], k.zone(ctx)).isoformat() if meeting else None
        message = dict(inputs.get("message") or {})
        data = {
            "kind": str(inputs.get("kind") or "follow_up"),
            "rep": k.rep(ctx),
            "contact": contact or ({"name": message.get("sender_name")} if message else None),
            "company": k.tier2(ctx, "company"),
            "meeting": {"title": meeting.get("title"), "date": day} if meeting else {},
            "commitments": intents.get("commitments") or [],
            "questions": intents.get("questions") or [],
            "next_meeting": intents.get("next_meeting") or {},
            "action_items": list(inputs.get("action_items") or []),
            "message": message,
            "classification": inputs.get("classification") or {},
            "slots": list(inputs.get("slots") or []),
            "contact_timezone": inputs.get("contact_timezone") or contact.get("timezone"),
            "reason": inputs.get("reason"),
        }
        draft = kit.ask(ctx, "copywriter", COPY, data, EmailDraft)
        to = str(inputs.get("to") or message.get("sender") or contact.get("email") or "")
        missing = [] if to else [f"an email address for {contact.get('name') or 'the recipient'}"]
        deal = k.tier2(ctx, "deal") or {}
        return {
            "to": to,
            "to_name": contact.get("name") or message.get("sender_name") or to,
            "subject": draft.subject,
            "body": draft.body,
            "cites": draft.cites,
            "contact_id": contact.get("id"),
            "deal_id": deal.get("id"),
            "thread_id": inputs.get("thread_id"),
            "meeting_id": meeting.get("id"),
            "missing": missing,
        }

    @registry.skill("create-task-from-action-item", gate="select")
    def create_tasks(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create a CRM task for each option the rep kept selected; once each, however often run."""
        options = {str(o["id"]): o for o in inputs.get("options") or []}
        selected = [str(s) for s in inputs.get("selected") or []]
        unknown = sorted(set(selected) - set(options))
        if unknown:
            raise ValidationFailed(f"selected: no such option(s) {', '.join(unknown)}")
        writer = k.crm(ctx).writer
        created, existing = [], 0
        for option_id in selected:
            option = options[option_id]
            due = date.fromisoformat(option["due_date"]) if option.get("due_date") else None
            task_id, new = writer.create_task(
                f"{ctx.job_id}:{option_id}",
                str(option["title"]),
                owner_id=ctx.user_id,
                due_date=due,
                now=ctx.now,
                contact_id=inputs.get("contact_id"),
                deal_id=inputs.get("deal_id"),
                meeting_id=inputs.get("meeting_id"),
            )
            created.append({"option": option_id, "task_id": task_id, "title": option["title"]})
            existing += not new
        skipped = [o for o in options if o not in selected]
        return {"created": created, "already_existed": existing, "not_selected": skipped}
