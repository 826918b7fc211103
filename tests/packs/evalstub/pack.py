"""A stand-in detector for testing ``overture eval``: ``meeting_ended`` queues its follow-ups by
keyword ("proposal", "meet again"), with no approval in the way, so a test knows exactly what
the real path will queue for each call. ``calendar_find_times`` then fails on purpose: the
evaluation counts what was queued, not whether it succeeded."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from overture.core.step_context import StepContext
from overture.engine.registry import ProviderRequest, Registry
from overture.errors import StepError
from overture.settings import Settings
from overture.storage.tables.crm import transcripts


def register(registry: Registry, settings: Settings) -> None:
    def transcript(request: ProviderRequest) -> str:
        """The words of the meeting the event names, as the receiver stored them."""
        query = sa.select(transcripts.c.segments).where(
            transcripts.c.org_id == request.org_id,
            transcripts.c.meeting_id == request.payload.get("meeting_id"),
        )
        with request.store.read() as conn:
            segments = conn.execute(query).scalar() or []
        return " ".join(str(s["text"]) for s in segments)

    registry.tier3["transcript"] = transcript

    @registry.skill("spot")
    def spot(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Which follow-ups the call's words ask for."""
        text = str((ctx.context.get("tier3") or {}).get("transcript") or "").lower()
        return {"proposal": "proposal" in text, "schedule": "meet again" in text}

    @registry.skill("note")
    def note(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return what the step was given."""
        return {"seen": inputs}

    @registry.skill("broken")
    def broken(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Always fail."""
        raise StepError("this follow-up fails on purpose")
