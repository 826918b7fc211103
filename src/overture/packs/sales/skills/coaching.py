"""Coaching from the week's calls: talk ratio, questions asked, next steps agreed, longest
monologue. The numbers are measured from the transcripts; only the advice is asked of the model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.packs.sales import kit as k
from overture.packs.sales.kit import Kit
from overture.packs.sales.models import CoachingFeedback, Intents
from overture.packs.sales.rules.text import sentences, side_of, talk_seconds

ADVISE = (
    "From these call metrics for one sales rep, list two or three strengths and two or three "
    "specific suggestions; quote the numbers."
)


def call_metrics(segments: list[dict[str, Any]], reps: list[str]) -> dict[str, Any]:
    """Talk ratio, the rep's questions and their longest uninterrupted stretch in one call."""
    talk = talk_seconds(segments, reps)
    total = talk["rep"] + talk["prospect"]
    longest = current = 0.0
    for segment in segments:
        if side_of(str(segment.get("speaker") or ""), reps) == "rep":
            current += float(segment.get("end_s") or 0) - float(segment.get("start_s") or 0)
            longest = max(longest, current)
        else:
            current = 0.0
    asked = sum(1 for s in sentences(segments, reps) if s.side == "rep" and s.is_question)
    return {
        "talk_ratio": round(talk["rep"] / total, 3) if total else 0.0,
        "rep_questions": asked,
        "longest_monologue_s": round(longest, 1),
    }


def summarise(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The week's numbers across calls (talk ratio averaged per call, so one long call does not
    drown the others)."""
    n = len(calls)
    if not n:
        return {
            "meetings": 0,
            "talk_ratio": 0.0,
            "questions_per_call": 0.0,
            "next_steps_rate": 0.0,
            "longest_monologue_s": 0.0,
        }
    return {
        "meetings": n,
        "talk_ratio": round(sum(c["talk_ratio"] for c in calls) / n, 3),
        "questions_per_call": round(sum(c["rep_questions"] for c in calls) / n, 1),
        "next_steps_rate": round(sum(1 for c in calls if c["next_step_agreed"]) / n, 3),
        "longest_monologue_s": max(c["longest_monologue_s"] for c in calls),
    }


def register(registry: Registry, kit: Kit) -> None:
    @registry.skill("coaching-analysis")
    def coaching_analysis(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The rep's week of calls measured, with strengths and suggestions."""
        session = k.crm(ctx)
        days = int(inputs.get("days") or 7)
        start = ctx.now - timedelta(days=days)
        reps = k.rep_names(session)
        calls = []
        for meeting in session.meetings(owner_id=ctx.user_id, start=start, end=ctx.now, status="completed"):
            segments = session.transcript(meeting["id"])
            if not segments:
                continue
            day = k.local_day(meeting["starts_at"], k.zone(ctx)).isoformat()
            data = {
                "meeting": {"id": meeting["id"], "title": meeting["title"], "date": day},
                "reps": reps,
                "segments": segments,
            }
            intents = kit.ask(ctx, "detect-intents", "Detect commitments and next steps.", data, Intents)
            agreed = intents.next_meeting.agreed or any(c.side == "prospect" for c in intents.commitments)
            calls.append(
                {
                    "meeting_id": meeting["id"],
                    "title": meeting["title"],
                    **call_metrics(segments, reps),
                    "next_step_agreed": agreed,
                }
            )
        metrics = summarise(calls)
        feedback = kit.ask(ctx, "coaching-analysis", ADVISE, {"metrics": metrics}, CoachingFeedback)
        name = str(k.rep(ctx).get("name") or ctx.user_id).split(" ")[0]
        lines = [f"Your week in calls, {name}: {metrics['meetings']} recorded."]
        lines += [f"+ {s}" for s in feedback.strengths] + [f"- {s}" for s in feedback.suggestions]
        return {
            "calls": calls,
            "metrics": metrics,
            **feedback.model_dump(mode="json"),
            "text": "\n".join(lines),
        }
