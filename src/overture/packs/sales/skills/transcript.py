"""A past call as the chained skills read it: its transcript turned into turns with each
speaker's side, and the day it took place, for what a proposal must include and when the
prospect said they can meet."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from overture.core.step_context import StepContext
from overture.packs.sales import kit as k
from overture.packs.sales.rules.detect.turns import Turn, turns
from overture.packs.sales.rules.offline import sides_of


def read_call(ctx: StepContext, meeting_id: Any, sides: Any) -> tuple[list[Turn], date | None]:
    """The meeting's turns (sides as participant resolution gave them, else by the org's reps)
    and its local day; nothing when the step cannot read the meeting."""
    if not meeting_id or "crm" not in (ctx.context.get("tier3") or {}):
        return [], None
    session = k.crm(ctx)
    meeting = session.meeting(str(meeting_id))
    segments = session.transcript(str(meeting_id)) if meeting else []
    if not meeting or not segments:
        return [], None
    given = dict(sides) if isinstance(sides, dict) and sides else {}
    known = given or sides_of({"reps": k.rep_names(session), "segments": segments})
    owner = session.user(str(meeting.get("owner_id") or ctx.user_id)) or k.rep(ctx)
    day = k.local_day(meeting["starts_at"], ZoneInfo(str(owner.get("timezone") or "UTC")))
    return turns(segments, known), day
