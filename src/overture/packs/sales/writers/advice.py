"""Offline rules for the advisory tasks: next actions after a call, actions for deals that need
them, the pre-meeting brief, and coaching feedback. Each is a plain mapping from facts to
advice, so the advice is explainable: every item says which fact it came from."""

from __future__ import annotations

from typing import Any

from overture.packs.sales.rules.text import first_name

_URGENT = {"send_proposal", "send_pricing", "send_contract", "schedule_meeting"}
_OBJECTION_ADVICE = {
    "price": "Prepare an ROI case that answers the price concern",
    "competition": "Prepare a comparison against the alternative they mentioned",
    "timing": "Agree a timeline and what would make it a priority now",
    "security": "Send the security packet and offer a call with our security lead",
    "implementation": "Share the implementation plan and a customer reference on rollout",
    "authority": "Ask to involve the economic buyer in the next meeting",
    "other": "Address the concern they raised before the next step",
}
_STAGE_QUESTIONS = {
    "prospecting": ["What prompted you to take this meeting now?"],
    "qualification": ["Who else is involved in choosing a solution?", "Is there a budget set aside?"],
    "discovery": ["What does success look like in six months?", "What happens if nothing changes?"],
    "demo": ["Which workflow matters most to see today?", "Who will use this day to day?"],
    "proposal": ["Does the proposal match what you need?", "What would stop you from signing?"],
    "negotiation": ["What is left to agree before signature?", "Who signs, and when?"],
}


def next_actions(data: dict[str, Any]) -> dict[str, Any]:
    """What the rep should do after the call: their promises first, then the agreed meeting,
    then answers to objections and open questions, then the prospect's promises to watch."""
    contact = data.get("contact") or {}
    who = first_name(str(contact.get("name") or "the prospect"))
    rep = str((data.get("rep") or {}).get("name") or "rep")
    actions: list[dict[str, Any]] = []

    def add(
        title: str, kind: str, reason: str, priority: str, due: str | None = None, owner: str = rep
    ) -> None:
        actions.append(
            {
                "id": f"a{len(actions) + 1}",
                "title": title,
                "kind": kind,
                "owner": owner,
                "due_date": due,
                "reason": reason,
                "priority": priority,
            }
        )

    promised: set[str] = set()
    for item in data.get("action_items") or []:
        if item["owner_side"] != "rep" or item["intent"] in promised:
            continue
        promised.add(item["intent"])
        kind = (
            "meeting"
            if item["intent"] == "schedule_meeting"
            else "email"
            if item["intent"].startswith("send_")
            else "task"
        )
        priority = "high" if item["intent"] in _URGENT else "medium"
        add(
            item["action"],
            kind,
            f"You committed to this on the call ({item['intent']})",
            priority,
            item.get("due_date"),
        )
    meeting = data.get("next_meeting") or {}
    if meeting.get("agreed") and not any(a["kind"] == "meeting" for a in actions):
        add(
            f"Book the next meeting with {who}",
            "meeting",
            "A next meeting was agreed on the call",
            "high",
            meeting.get("due_date"),
        )
    for objection in data.get("objections") or []:
        add(
            _OBJECTION_ADVICE.get(objection["category"], _OBJECTION_ADVICE["other"]),
            "task",
            f"{objection['speaker']} raised a {objection['category']} objection",
            "medium",
        )
    for question in [q for q in data.get("questions") or [] if q["side"] == "prospect"][:3]:
        asker = first_name(str(question.get("speaker") or "")) or who
        add(f'Answer {asker}\'s question: "{question["text"]}"', "email", "Asked on the call", "medium")
    for item in data.get("action_items") or []:
        if item["owner_side"] == "prospect":
            add(
                f"Check that {first_name(item['owner'])} followed through: {item['action']}",
                "task",
                "The prospect committed to this on the call",
                "low",
                item.get("due_date"),
            )
    return {"actions": actions}


def deal_actions(data: dict[str, Any]) -> dict[str, Any]:
    """One concrete action per deal that needs one, chosen by its most pressing reason."""
    actions = []
    for deal in data.get("deals") or []:
        reasons = deal.get("reasons") or []
        if not reasons:
            continue
        kinds = {r["kind"] for r in reasons}
        who = first_name(str(deal.get("contact_name") or "the champion"))
        if "proposal_unanswered" in kinds:
            action = f"Call {who} about the proposal and ask what is holding it up"
        elif "close_date_passed" in kinds:
            action = f"Agree a new close date with {who}, or close the deal as lost"
        elif "stale" in kinds:
            action = f"Re-engage {who} with a short check-in that references your last conversation"
        elif "objection" in kinds:
            action = f"Address {who}'s open objection before the next step"
        else:
            action = f"Review {deal.get('name')} and set a next step with {who}"
        actions.append({"deal_id": deal["deal_id"], "action": action, "reason": reasons[0]["text"]})
    return {"actions": actions}


def meeting_prep(data: dict[str, Any]) -> dict[str, Any]:
    """The brief: who, what is at stake, what happened last, what to ask and what to watch."""
    meeting, deal, company = data.get("meeting") or {}, data.get("deal") or {}, data.get("company") or {}
    attendees = data.get("attendees") or []
    names = (
        ", ".join(f"{a['name']} ({a.get('title') or 'attendee'})" for a in attendees) or "no known attendees"
    )
    value = int(deal.get("value_cents") or 0) // 100
    stake = f" - a ${value:,} deal in {deal.get('stage')}" if deal else ""
    people = ", ".join(a["name"] for a in attendees) or company.get("name") or "the prospect"
    headline = f"{meeting.get('title') or 'Meeting'} with {people}{stake}"
    points = [f"Attendees: {names}."]
    for touch in (data.get("last_touchpoints") or [])[:3]:
        points.append(f"Last touch ({str(touch.get('occurred_at') or '')[:10]}): {touch.get('summary')}")
    for promise in data.get("open_commitments") or []:
        points.append(f"Open commitment: {promise}")
    for person in attendees:
        enrichment = person.get("enrichment") or {}
        if enrichment.get("headline"):
            points.append(f"{person['name']}: {enrichment['headline']}")
    for item in (data.get("news") or [])[:2]:
        points.append(f"In the news: {item.get('title')}")
    risks = [f"Open {o['category']} objection: {o['phrase']}" for o in data.get("objections") or []]
    if deal and deal.get("days_inactive", 0) >= 14:
        risks.append(f"No activity for {deal['days_inactive']} days before this meeting")
    questions = list(
        _STAGE_QUESTIONS.get(str(deal.get("stage") or "discovery"), _STAGE_QUESTIONS["discovery"])
    )
    return {"headline": headline, "talking_points": points, "questions_to_ask": questions, "risks": risks}


def coaching_feedback(data: dict[str, Any]) -> dict[str, Any]:
    """Strengths and suggestions from the week's numbers, against common discovery-call norms
    (the rep talks under about half the time, asks several questions, ends with a next step)."""
    m = data.get("metrics") or {}
    strengths, suggestions = [], []
    # Judged on the percentage shown, so "you spoke 55%" is never told to aim under 55%.
    ratio = round(float(m.get("talk_ratio") or 0), 2)
    if ratio and ratio <= 0.55:
        strengths.append(f"You listened well: you spoke {ratio:.0%} of the time.")
    elif ratio:
        suggestions.append(f"You spoke {ratio:.0%} of the time; aim for under 55% by asking and pausing.")
    per_call = float(m.get("questions_per_call") or 0)
    if per_call >= 5:
        strengths.append(f"You asked {per_call:.1f} questions per call on average.")
    elif m.get("meetings"):
        suggestions.append(f"You asked {per_call:.1f} questions per call; aim for 5 or more in discovery.")
    rate = float(m.get("next_steps_rate") or 0)
    if rate >= 0.75:
        strengths.append(f"{rate:.0%} of your calls ended with an agreed next step.")
    elif m.get("meetings"):
        suggestions.append(
            f"Only {rate:.0%} of calls ended with an agreed next step; close each call with one."
        )
    if float(m.get("longest_monologue_s") or 0) > 90:
        suggestions.append(
            f"Your longest uninterrupted stretch was {float(m['longest_monologue_s']):.0f}s; check in sooner."
        )
    return {"strengths": strengths, "suggestions": suggestions}
