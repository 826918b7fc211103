"""The ``sales.recording_bot`` outbox effect: make MeetingBaaS's bot for a calendar event match
what the ``schedule-recording`` step decided, after the step committed.

The effect is at-least-once (a dispatcher may die between acting and marking it sent), so the
handler acts on the state kept in ``meeting_bots``, never on the effect alone: a bot that
already joins at the wanted time and link is kept; a creation whose answer was lost is found
again by the request key it carried in ``extra``; an effect for an older version of the event
than the one applied is ignored. One handler at a time holds an event's row, so two
dispatchers never create two bots for one meeting.

Outbox handlers receive only the effect, not the App, so the handler opens the database named
by the settings itself, for the length of one effect.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from overture.core.recording import Change, Want, bot_change
from overture.core.step_context import EffectRequest
from overture.engine.audit import audit_row
from overture.integrations.apis import ApiError
from overture.integrations.meetingbaas_bots import (
    DEFAULT_BASE_URL,
    BotRequest,
    MeetingBaasBots,
    bots_client,
)
from overture.settings import Settings
from overture.storage.queries import integrations as accounts
from overture.storage.queries import jobs as jobq
from overture.storage.queries import recording as ledger
from overture.storage.queries.recording import MeetingBot
from overture.storage.store import Store

log = logging.getLogger("overture.sales.recording")
EFFECT = "sales.recording_bot"
CLAIM = timedelta(seconds=60)
WAIT_FOR_CLAIM_S = 20.0


def _read(settings: Settings, name: str) -> str | None:
    """The environment beats the settings object, read per use so a rotated key applies at once
    (as the webhook receivers read the same key)."""
    value: Any = os.environ.get(f"OVERTURE_{name.upper()}")
    if value is None:
        value = getattr(settings, name, None)
        if value is not None and hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
    return str(value) if value else None


@dataclass(frozen=True, repr=False)
class BotSettings:
    """How to reach MeetingBaaS for one user: the API key (``meetingbaas_api_key``: the very key
    that verifies v1 webhooks, so a bot's webhooks are always accepted), the API's base URL (the
    account's ``base_url``, else the settings'), where bots' webhooks go, the bots' name."""

    api_key: str | None
    base_url: str
    webhook_url: str | None
    bot_name: str

    def __repr__(self) -> str:
        return f"BotSettings(base_url={self.base_url!r}, configured={self.api_key is not None})"

    @classmethod
    def load(cls, settings: Settings, account: accounts.Account | None) -> BotSettings:
        return cls(
            api_key=_read(settings, "meetingbaas_api_key"),
            base_url=(account.base_url if account else None)
            or _read(settings, "meetingbaas_api_base_url")
            or DEFAULT_BASE_URL,
            webhook_url=_read(settings, "meetingbaas_webhook_url"),
            bot_name=_read(settings, "meetingbaas_bot_name") or "Overture notetaker",
        )


def request_key(effect_key: str) -> str:
    """The effect's key as MeetingBaaS's ``deduplication_key`` and our ``extra`` marker: no colon
    or comma, which ``filter_by_extra`` reads as separators."""
    return "ovt-" + hashlib.sha256(effect_key.encode()).hexdigest()[:40]


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


_DONE = {
    Change.CREATE: "created",
    Change.REPLACE: "moved",
    Change.DELETE: "cancelled",
    Change.KEEP: "unchanged",
    Change.NOTHING: "nothing_to_change",
}


class BotBusy(RuntimeError):
    """Another handler is changing this calendar event's bot; the outbox tries again later."""


class RecordingBots:
    """The effect handler, bound to the settings (and through them to the database)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, effect: EffectRequest) -> None:
        p = effect.payload
        event_id = str(p["calendar_event_id"])
        # Bots are rare: a connection per effect, closed after it, outlives no App.
        store = Store(self.settings.database_url, sqlite_synchronous=self.settings.sqlite_synchronous)
        try:
            with store.write() as conn:
                ledger.ensure_bot(conn, effect.org_id, str(p["user_id"]), event_id, _now())
            self._claim(store, event_id)
            try:
                self._apply(store, effect)
            finally:
                with store.write() as conn:
                    ledger.update_bot(conn, event_id, {"claimed_until": None})
        finally:
            store.close()

    def _claim(self, store: Store, event_id: str) -> None:
        deadline = time.monotonic() + WAIT_FOR_CLAIM_S
        while True:
            now = _now()
            with store.write() as conn:
                if ledger.claim_bot(conn, event_id, now, now + CLAIM):
                    return
            if time.monotonic() > deadline:
                raise BotBusy(f"the bot of calendar event {event_id} is being changed by another handler")
            time.sleep(0.2)

    def _apply(self, store: Store, effect: EffectRequest) -> None:
        p = effect.payload
        event_id = str(p["calendar_event_id"])
        with store.read() as conn:
            bot = ledger.get_bot(conn, event_id)
            account = accounts.get_account(conn, str(p["account_id"])) if p.get("account_id") else None
        assert bot is not None  # ensure_bot made it
        version = _when(p.get("version_at"))
        if bot.version_at is not None and version is not None and version < bot.version_at:
            newer = f"a newer change of the event ({bot.version_at.isoformat()}) was applied"
            return self._record(store, effect, bot, {}, "superseded", newer)
        config = BotSettings.load(self.settings, account)
        if config.api_key is None:
            return self._record(store, effect, bot, {}, "bots_not_configured", "no MeetingBaaS API key")
        want, join_at, url = Want(p["want"]), _when(p.get("join_at")), p.get("meeting_url")
        with bots_client(config.base_url, config.api_key) as http:
            api = MeetingBaasBots(http)
            bot = self._recover(store, api, bot)
            live = bot.bot_id if bot.live else None
            change = bot_change(want, live, bot.join_at, bot.meeting_url, join_at, url)
            try:
                values, detail = self._act(store, api, effect, bot, change, config)
            except ApiError as exc:
                if exc.retryable:
                    raise
                return self._refused(store, effect, bot, exc)
        values = {**values, "version_at": version}
        return self._record(store, effect, bot, values, _DONE[change], detail)

    def _refused(self, store: Store, effect: EffectRequest, bot: MeetingBot, exc: ApiError) -> None:
        """MeetingBaaS said no (4xx): recorded, not retried. A refused creation leaves no bot; a
        refused removal leaves the bot as it was."""
        with store.read() as conn:
            fresh = ledger.get_bot(conn, bot.calendar_event_id)
        creating = fresh is not None and fresh.status == "creating"
        values = {"status": "failed", "bot_id": None, "request_key": None} if creating else {}
        self._record(store, effect, bot, values, "api_refused", str(exc))

    def _recover(self, store: Store, api: MeetingBaasBots, bot: MeetingBot) -> MeetingBot:
        """A creation was in flight when a handler died: adopt the bot it made, if any."""
        if bot.status != "creating" or bot.request_key is None:
            return bot
        try:
            found = api.find("overture_request", bot.request_key)
        except ApiError as exc:
            if exc.retryable:
                raise
            found = None  # the listing is refused: create again; the deduplication key still holds
        values = {"status": "scheduled", "bot_id": found} if found else {"status": "none", "bot_id": None}
        with store.write() as conn:
            ledger.update_bot(conn, bot.calendar_event_id, {**values, "request_key": None})
            fresh = ledger.get_bot(conn, bot.calendar_event_id)
        assert fresh is not None
        return fresh

    def _act(
        self,
        store: Store,
        api: MeetingBaasBots,
        effect: EffectRequest,
        bot: MeetingBot,
        change: Change,
        config: BotSettings,
    ) -> tuple[dict[str, Any], str]:
        """Carry out ``change``; the row's new values and what was done."""
        p = effect.payload
        if change == Change.KEEP:
            return {}, f"bot {bot.bot_id} already joins then"
        if change == Change.NOTHING:
            return ({"status": "cancelled"} if p["want"] == Want.CANCEL else {}), "no bot to change"
        gone = ""
        if change in (Change.DELETE, Change.REPLACE) and bot.bot_id:
            gone = f"bot {bot.bot_id} removed" if api.delete(bot.bot_id) else f"bot {bot.bot_id} was gone"
        if change == Change.DELETE:
            return {"status": "cancelled", "bot_id": None, "join_at": None}, gone
        key = request_key(effect.idempotency_key)
        join_at = _when(p["join_at"])
        assert join_at is not None
        pending: dict[str, Any] = {"status": "creating", "bot_id": None, "request_key": key}
        pending |= {"join_at": join_at, "meeting_url": str(p["meeting_url"])[:500]}
        with store.write() as conn:  # before the call: a crash after it is then recoverable
            ledger.update_bot(conn, bot.calendar_event_id, {**pending, "updated_at": _now()})
        request = BotRequest(
            meeting_url=str(p["meeting_url"]),
            bot_name=str(p.get("bot_name") or config.bot_name),
            join_at=join_at,
            deduplication_key=key,
            extra={**dict(p.get("extra") or {}), "overture_request": key},
            webhook_url=config.webhook_url,
        )
        bot_id = api.create(request)
        made = f"bot {bot_id} joins at {join_at.isoformat()}"
        scheduled = {"status": "scheduled", "bot_id": bot_id, "request_key": None}
        return scheduled, f"{gone}; {made}" if gone else made

    def _record(
        self,
        store: Store,
        effect: EffectRequest,
        bot: MeetingBot,
        values: Mapping[str, Any],
        reason: str,
        detail: str,
    ) -> None:
        """The row's new state and an audit row, in one transaction."""
        now = _now()
        changes = {k: v for k, v in values.items() if k != "version_at" or v is not None}
        changes |= {"reason": reason, "detail": detail[:2000], "updated_at": now}
        with store.write() as conn:
            ledger.update_bot(conn, bot.calendar_event_id, changes)
            row = audit_row(
                now,
                "recording_bot",
                reason,
                org_id=effect.org_id,
                job_id=effect.job_id,
                actor="outbox",
                calendar_event_id=bot.calendar_event_id,
                want=effect.payload.get("want"),
                what=detail[:500],
            )
            jobq.insert_audit(conn, [row])
        log.info("recording bot of calendar event %s: %s", bot.calendar_event_id, reason)


def _now() -> datetime:
    return datetime.now(UTC)
