"""Recording calls with outside guests (``calendar_event_created``): the
``schedule-recording`` step decides whether the meeting gets a MeetingBaaS bot, and queues the
``sales.recording_bot`` effect that creates, moves or removes it after the step commits.

The bot carries Overture's routing in ``extra`` (``overture_account``, ``calendar_event_id``,
``org_id``, ``user_id``); MeetingBaaS echoes it back in the webhook of the finished meeting, so
the transcript finds its rep and its calendar event. Without a MeetingBaaS API key the step
records that bots are not configured and the sequence goes on: recording is a convenience,
never a reason for a calendar change to fail.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from overture.core.recording import RecordingPlan, Want, external_guests, meeting_link, org_domains
from overture.core.recording import plan_recording as plan
from overture.core.step_context import StepContext
from overture.core.webhooks import Provider
from overture.engine.registry import Registry
from overture.packs.sales import kit as k
from overture.packs.sales.skills.recording_bots import EFFECT, BotSettings, RecordingBots
from overture.settings import Settings
from overture.storage.queries import integrations as accounts
from overture.storage.queries import recording as ledger

log = logging.getLogger("overture.sales.recording")


def _when(value: Any) -> datetime | None:
    """An ISO moment from the payload, taken as UTC when it names no zone; None if unreadable."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _version(ctx: StepContext, event: dict[str, Any]) -> str:
    """Which version of the calendar event this is: the calendar's ``updated`` stamp, else when
    the event was sent. The effect handler ignores a version older than the one it applied."""
    stamp = _when(event.get("updated")) or _when(ctx.event.get("occurred_at")) or ctx.now
    return stamp.isoformat()


def _result(decision: RecordingPlan, **more: Any) -> dict[str, Any]:
    join_at = decision.join_at.isoformat() if decision.join_at else None
    return {"want": decision.want.value, "reason": decision.reason, "join_at": join_at, **more}


def schedule_recording(settings: Settings, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Decide whether the call gets a recording bot; queue its creation, move or removal."""
    event = dict(inputs.get("event") or {})
    meeting = dict(inputs.get("meeting") or {})
    calendar_event_id = meeting.get("calendar_event_id")
    if not calendar_event_id:
        return {"want": Want.LEAVE.value, "reason": "no_calendar_event", "join_at": None, "queued": False}
    session = k.crm(ctx)
    stored = session.calendar_event(str(calendar_event_id)) or {}
    with session.store.read() as conn:
        bot = ledger.get_bot(conn, str(calendar_event_id))
        account = accounts.find_for_user(conn, Provider.MEETINGBAAS.value, ctx.org_id, ctx.user_id)
    profile = ((ctx.context.get("tier1") or {}).get("org") or {}).get("profile") or {}
    domains = org_domains(profile, (u.get("email") for u in session.users()))
    guests = external_guests(event.get("attendees"), domains)
    link = meeting_link(event, stored.get("location"))
    decision = plan(
        cancelled=event.get("status") == "cancelled",
        start=_when(event.get("start")),
        now=ctx.now,
        guests=guests,
        link=link,
        has_bot=bot is not None and bot.live,
    )
    facts: dict[str, Any] = {"external_guests": len(guests), "has_video_link": link is not None}
    facts["bot_id"] = bot.bot_id if bot is not None and bot.live else None
    if decision.want == Want.LEAVE:
        return _result(decision, queued=False, **facts)
    config = BotSettings.load(settings, account)
    if config.api_key is None:
        detail = "no MeetingBaaS API key: set OVERTURE_MEETINGBAAS_API_KEY (or meetingbaas_api_key)"
        log.info("calendar event %s: recording bots are not configured", calendar_event_id)
        return _result(decision, queued=False, reason="bots_not_configured", detail=detail, **facts)
    extra = {"calendar_event_id": str(calendar_event_id), "org_id": ctx.org_id, "user_id": ctx.user_id}
    if account is not None:
        extra = {"overture_account": account.external_id, **extra}
    payload = {
        "calendar_event_id": str(calendar_event_id),
        "user_id": ctx.user_id,
        "account_id": account.id if account is not None else None,
        "want": decision.want.value,
        "reason": decision.reason,
        "join_at": decision.join_at.isoformat() if decision.join_at else None,
        "meeting_url": link,
        "version_at": _version(ctx, event),
        "bot_name": config.bot_name,
        "extra": extra,
    }
    key = ctx.effect(EFFECT, payload)
    return _result(decision, queued=True, effect_key=key, **facts)


def register(registry: Registry, settings: Settings) -> None:
    """The step and the effect handler that carries it out."""

    @registry.function("schedule-recording")
    def schedule_recording_step(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Whether the call gets a MeetingBaaS recording bot, and the bot's creation, move or removal."""
        return schedule_recording(settings, ctx, inputs)

    registry.effect(EFFECT)(RecordingBots(settings))
