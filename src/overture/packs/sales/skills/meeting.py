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
from overture.llm.base import LLMRequest
from overture.llm.factory import ask
from overture.packs.sales import kit as k
from overture.packs.sales.kit import Kit
from overture.packs.sales.models import ActionItems, DealActions, EmailDraft, Intents, NextActions
from overture.packs.sales.rules.offline import sides_of
from overture.packs.sales.writers.followup import sources

EXTRACT = (
    "From this sales-call transcript, list every action item: who owns it (a speaker's name and "
    "side, rep or prospect), the action in plain words, its intent, and its due date resolved "
    "against the meeting date (null when none was said)."
)
DETECT = """\
You read the transcript of one B2B sales call and report what was committed and agreed on it.

The input: `meeting` (its title, and its `date`, YYYY-MM-DD, against which you resolve every
relative date), `reps` (the names of the seller's people), `segments` (the call in order, each
with an integer `id`, the `speaker` and the `text`) and, when known, `sides` (each speaker's
side: "rep" is the seller's side, the rep and any colleague of theirs; "prospect" is anyone on
the buyer's side). A speaker's side is the one `sides` gives; without one, a name in `reps` is on
the rep side and anyone else on the prospect side.

commitments: each promise a speaker makes to do something after the call (send, share, write
up, set up, introduce, check). For each one:
- speaker: the name exactly as in the segments; side: that speaker's side (see above);
- intent: send_proposal (proposal, SOW), send_pricing (quote, estimate, costing, pricing),
  send_contract (order form, agreement, MSA, contract, engagement letter), send_materials
  (anything else to read), schedule_meeting, intro, follow_up, internal_review or setup_trial;
- phrase: the words the promise was made in, quoted from the transcript;
- confidence: 0 to 1, how sure you are that the commitment is as you label it;
- due_date (YYYY-MM-DD) and due_phrase: when it is due, as said, else null;
- segments: the ids of the segments it rests on: where it was made, and every later segment
  that changed it (an ask it answers, a condition, a withdrawal, a re-commitment). Every
  commitment cites at least one id, and only ids that are in the input.

commercial: true only for a promise by the rep's side (the rep or a colleague; never the
prospect) to send the prospect a commercial document tailored to them: a proposal, quote,
estimate or costing, pricing for their scope, SOW, order form, draft agreement (MSA, contract,
engagement letter), or a revised version of one. document names it: proposal, quote, estimate,
pricing, sow, order_form or agreement. Not commercial (commercial: false, document null):
material not tailored to them or not commercial (a price list, rate card, deck, case study,
SOC 2 or security report, a spoken ballpark figure, notes, a recording, a trial), and the
prospect's own paperwork whoever sends it (their RFP, PO, their contract or redlines,
questionnaires).

firmness: how the promise stands at the end of the call, which decides; set it on every
commitment.
- firm: a forward-looking promise still standing at the end of the call, in any wording ("you'll
  have the quote by Thursday", "Priya will write up the SOW", "yes, I can do that" answering an
  ask). A promise that waits only on facts the prospect will send (headcount, volumes, a spec)
  is firm. A promise withdrawn and then made again is firm.
- conditional: it waits on a decision the prospect has not made ("if you go ahead with phase
  two I'll send a quote", "once budget is approved we'll put a proposal together"), or it is
  hypothetical ("I could send", "we would normally", "happy to if that helps" with no yes).
- hedged: no real promise ("maybe", "I'll try to see", "we might", "at some point").
- withdrawn: declined ("I'd rather not send numbers yet"), negated ("we won't send pricing"),
  deferred ("let's hold off on the proposal until ..."), turned down by the prospect ("no need
  to send anything yet"), or taken back later in the call; cite the segment where that happened.
- past: already done before or during the call ("I sent the proposal Monday"), or only re-sent
  unchanged ("I'll forward the same quote again"); a revised version is a new, firm promise.

questions: each question asked on the call (speaker, side, the question's text).
objections: each concern the prospect raised (speaker, category: price, timing, competition,
security, implementation, authority or other; phrase: their words).

next_meeting: agreed is true only when both sides agreed to meet again: a call, video or in
person; a phone call both agree to counts; an email recap, "stay in touch", or one side asking
while the other declines or defers does not. A meeting that was cancelled or fell through counts
only if both agree to find another time. fixed is true when a day and a clock time were settled
("Thursday at 2pm"), or it is a standing slot ("our regular Wednesday call"); a day with no clock
time ("Thursday", "next week"), or times still to be found, is not fixed. phrase: the words of the
agreement; proposed_by: the side that proposed it; due_date: the day it should happen by
(YYYY-MM-DD), when said; segments: the ids of the proposal and of the other side's agreement
(required when agreed). With no meeting agreed: agreed false, fixed false, segments empty.
"""
NEXT = (
    "Given what was agreed on the call, list the rep's next actions, most urgent first, each "
    "with a reason that points at the call."
)
COPY = (
    "Write the email the rep sends. Cite the meeting (its day and what was agreed), keep it short "
    "and specific, never promise what the rep did not, and sign with the rep's first name. For a "
    "follow-up to a call, every statement must rest on the call or the CRM: greet every person on "
    "the prospect's side by name; give the rep's promises as the rep made them and the prospect's "
    "in the second person ('your operations director', never 'our' for something of theirs); call "
    "a question open only if no one on the rep's side answered it on the call; offer the next "
    "meeting on the terms the prospect stated. List every sentence of the body in `sentences` with "
    "the ids of the transcript segments it rests on, and/or the records (contact:ID, meeting:ID, "
    "user:ID) for greetings and sign-offs."
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


def _segments_of(ctx: StepContext, meeting: dict[str, Any]) -> list[dict[str, Any]]:
    """The meeting's transcript with segment ids, when the step may read the CRM."""
    if not meeting.get("id") or "crm" not in (ctx.context.get("tier3") or {}):
        return []
    return [{"id": i, **s} for i, s in enumerate(k.crm(ctx).transcript(str(meeting["id"])))]


def _record_labels(data: dict[str, Any], contact: dict[str, Any]) -> dict[str, str]:
    """How each CRM record a draft sentence rests on is named on the approval card."""
    labels = {f"user:{(data.get('rep') or {}).get('id')}": f"You ({(data.get('rep') or {}).get('name')})"}
    meeting = data.get("meeting") or {}
    if meeting.get("id"):
        labels[f"meeting:{meeting['id']}"] = f"Meeting: {meeting.get('title')} ({meeting.get('date')})"
    for person in [*(data.get("prospects") or []), contact]:
        if person and (person.get("contact_id") or person.get("id")):
            labels[f"contact:{person.get('contact_id') or person.get('id')}"] = (
                f"Contact: {person.get('name')}"
            )
    return labels


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
        """Commitments (speaker side, intent, phrase, confidence, firmness), questions, objections,
        next meeting; held to the call (``Intents.disagreements``: cited segments exist, sides
        match), a failing answer retried once like a schema error."""
        data = _call(ctx, str(inputs["meeting_id"]), inputs.get("sides"))
        request = LLMRequest(
            task="detect-intents",
            instructions=DETECT,
            input=data,
            schema=Intents,
            max_output_tokens=4096,
            check=Intents.disagreements,
        )
        found = ask(ctx, kit.llm, request)
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
        kind = str(inputs.get("kind") or "follow_up")
        segments = _segments_of(ctx, meeting) if kind == "follow_up" else []
        data = {
            "kind": kind,
            "rep": k.rep(ctx),
            "contact": contact or ({"name": message.get("sender_name")} if message else None),
            "company": k.tier2(ctx, "company"),
            "meeting": {"id": meeting.get("id"), "title": meeting.get("title"), "date": day}
            if meeting
            else {},
            "segments": segments,
            "sides": dict(inputs.get("sides") or {})
            or sides_of({"reps": k.rep_names(k.crm(ctx)), "segments": segments})
            if segments
            else {},
            "prospects": list(inputs.get("prospects") or []),
            "commitments": intents.get("commitments") or [],
            "questions": intents.get("questions") or [],
            "next_meeting": intents.get("next_meeting") or {},
            "action_items": list(inputs.get("action_items") or []),
            "message": message,
            "classification": inputs.get("classification") or {},
            "slots": list(inputs.get("slots") or []),
            "contact_timezone": inputs.get("contact_timezone") or contact.get("timezone"),
            "reason": inputs.get("reason"),
            "terms": inputs.get("terms") or "",
            "terms_segments": list(inputs.get("terms_segments") or []),
        }
        check = EmailDraft.ungrounded if segments else None
        draft = kit.ask(ctx, "copywriter", COPY, data, EmailDraft, check=check)
        to = str(inputs.get("to") or message.get("sender") or contact.get("email") or "")
        missing = [] if to else [f"an email address for {contact.get('name') or 'the recipient'}"]
        deal = k.tier2(ctx, "deal") or {}
        records = _record_labels(data, contact)
        return {
            "to": to,
            "to_name": contact.get("name") or message.get("sender_name") or to,
            "subject": draft.subject,
            "body": draft.body,
            "cites": draft.cites,
            "grounding": sources([s.model_dump() for s in draft.sentences], segments, records),
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
