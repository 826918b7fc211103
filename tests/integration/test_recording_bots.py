"""Recording bots end to end on both backends: ``calendar_event_created`` with outside guests and
a video link schedules a MeetingBaaS bot (a loopback fake speaking API v1) routed back to the
rep's account; moving the meeting moves the bot, cancelling it removes the bot, and a redelivered
or re-run event never makes a second one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.core.step_context import EffectRequest
from overture.packs.sales import testing as t
from overture.packs.sales.seed.builder import SeedSummary
from overture.packs.sales.skills.recording_bots import EFFECT, request_key
from overture.storage.queries import recording as ledger
from overture.storage.tables.orchestrator import audit_log
from tests.fake_meetingbaas import API_KEY, FakeMeetingBaas
from tests.integration.test_http_api import in_process
from tests.integration.test_webhooks_accounts import connect, jobs_of
from tests.integration.test_webhooks_google import CHANNEL, CHANNEL_TOKEN, FakeCalendar, notify
from tests.unit.test_integrations_apis import FakeApi, Reply
from tests.unit.test_integrations_google_calendar import TIMED_EVENT

MONDAY = t.local(t.STORY_DAY + timedelta(days=3), 14, 0)
MEET = "https://meet.google.com/abc-defg-hij"
WEBHOOK = "https://overture.example/webhooks/meetingbaas"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t.local(t.STORY_DAY, 10, 50))


@pytest.fixture
def mb() -> Iterator[FakeMeetingBaas]:
    with FakeMeetingBaas() as server:
        yield server


@pytest.fixture
def app(
    db_url: str, clock: FakeClock, tmp_path: Path, mb: FakeMeetingBaas, monkeypatch: pytest.MonkeyPatch
) -> Iterator[App]:
    for name in ("API_KEY", "API_BASE_URL", "WEBHOOK_URL", "BOT_NAME"):
        monkeypatch.delenv(f"OVERTURE_MEETINGBAAS_{name}", raising=False)
    application = t.sales_app(
        db_url,
        clock,
        tmp_path / "outbox",
        meetingbaas_api_key=API_KEY,
        meetingbaas_api_base_url=mb.url,
        meetingbaas_webhook_url=WEBHOOK,
    )
    yield application
    application.close()


@pytest.fixture
def seed(app: App) -> SeedSummary:
    summary = t.load_seed(app)
    connect(app, "meetingbaas", "maya-recorder", user=t.MAYA, org=t.ORG)
    return summary


def invite(start: datetime = MONDAY, **changes: Any) -> dict[str, Any]:
    """Maya's demo with an outside guest, on Google Meet."""
    payload = {
        "provider": "google",
        "id": "evt-123",
        "calendar_id": "maya@northwind.example",
        "status": "confirmed",
        "summary": "Demo for Brightline dispatch",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=45)).isoformat(),
        "attendees": [
            {"email": "maya.chen@northwind.example", "name": "Maya Chen"},
            {"email": "jordan.blake@brightline-freight.example", "name": "Jordan Blake"},
        ],
        "meeting_url": MEET,
        "updated": "2026-11-20T15:00:00+00:00",
    }
    return {**payload, **changes}


def send(app: App, payload: dict[str, Any], key: str | None = None) -> str:
    """Emit ``calendar_event_created`` and run everything runnable now (the outbox included)."""
    extra = {"idempotency_key": key} if key else {}
    result = app.emit(t.event("calendar_event_created", payload, source="webhook:calendar", **extra))
    app.run_until_idle()
    return result.job_id or ""


def the_bot(app: App) -> ledger.MeetingBot:
    with app.store.read() as conn:
        [bot] = ledger.list_bots(conn)
    return bot


def test_an_external_call_gets_one_bot_routed_back_to_its_account(
    app: App, seed: SeedSummary, mb: FakeMeetingBaas
) -> None:
    """The join request MeetingBaaS documents: the link, a join time a minute early in seconds,
    transcription on, our webhook, and the routing in extra; the bot id is kept."""
    job = send(app, invite())
    decided = t.output(app, job, "schedule-recording")
    assert (decided["want"], decided["reason"], decided["queued"]) == ("schedule", "external_call", True)
    [bot] = mb.live()
    meeting = t.output(app, job, "upsert-meeting")
    assert bot.request == {
        "meeting_url": MEET,
        "bot_name": "Overture notetaker",
        "reserved": False,
        "start_time": int((MONDAY - timedelta(minutes=1)).timestamp()),
        "speech_to_text": {"provider": "Default"},
        "deduplication_key": bot.request["deduplication_key"],
        "webhook_url": WEBHOOK,
        "extra": {
            "overture_account": "maya-recorder",
            "calendar_event_id": meeting["calendar_event_id"],
            "org_id": t.ORG,
            "user_id": t.MAYA,
            "overture_request": bot.request["deduplication_key"],
        },
    }
    kept = the_bot(app)
    assert (kept.bot_id, kept.status, kept.reason) == (bot.uuid, "scheduled", "created")
    assert kept.calendar_event_id == meeting["calendar_event_id"] and kept.join_at == MONDAY - timedelta(
        minutes=1
    )
    [sent] = [e for e in t.outbox(app, job) if e["kind"] == EFFECT]
    assert sent["status"] == "sent" and "api_key" not in str(sent["payload"])
    with app.store.read() as conn:
        audit = (
            conn.execute(sa.select(audit_log).where(audit_log.c.action == "recording_bot")).mappings().all()
        )
    assert [(a["reason"], a["job_id"]) for a in audit] == [("created", job)]


def test_a_redelivered_or_rerun_event_makes_no_second_bot(
    app: App, seed: SeedSummary, mb: FakeMeetingBaas
) -> None:
    """The same delivery again is a duplicate; a new version at the same time keeps the bot."""
    first = send(app, invite(), key="google:evt-123:v1")
    assert send(app, invite(), key="google:evt-123:v1") == first
    later = send(app, invite(updated="2026-11-20T16:00:00+00:00", summary="Demo (agenda added)"))
    assert later != first and t.output(app, later, "schedule-recording")["queued"]
    assert len(mb.of("POST")) == 1 and len(mb.live()) == 1
    assert (the_bot(app).bot_id, the_bot(app).reason) == (mb.live()[0].uuid, "unchanged")


def test_a_moved_meeting_moves_its_bot(app: App, seed: SeedSummary, mb: FakeMeetingBaas) -> None:
    """v1 cannot change a scheduled bot: the old one is removed and one joins at the new time."""
    send(app, invite())
    [old] = mb.live()
    later = MONDAY + timedelta(days=1, hours=2)
    send(app, invite(start=later, updated="2026-11-20T17:00:00+00:00"))
    [new] = mb.live()
    assert new.uuid != old.uuid and mb.bots[old.uuid].deleted
    assert new.request["start_time"] == int((later - timedelta(minutes=1)).timestamp())
    kept = the_bot(app)
    assert (kept.bot_id, kept.reason, kept.join_at) == (new.uuid, "moved", later - timedelta(minutes=1))
    assert f"bot {old.uuid} removed" in kept.detail


def test_a_cancelled_meeting_loses_its_bot(app: App, seed: SeedSummary, mb: FakeMeetingBaas) -> None:
    """The event cancelled: the scheduled bot is deleted, the meeting marked cancelled."""
    send(app, invite())
    [bot] = mb.live()
    job = send(app, invite(status="cancelled", updated="2026-11-20T18:00:00+00:00"))
    assert t.output(app, job, "schedule-recording")["want"] == "cancel"
    assert mb.live() == [] and [c.path for c in mb.of("DELETE")] == [f"/bots/{bot.uuid}"]
    kept = the_bot(app)
    assert (kept.status, kept.bot_id, kept.reason) == ("cancelled", None, "cancelled")
    job_status = {j.id: j.status.value for j in t.jobs(app)}[job]
    assert job_status == "completed"


def test_an_older_change_arriving_late_is_ignored(app: App, seed: SeedSummary, mb: FakeMeetingBaas) -> None:
    """Effects carry the event's version: one older than the applied one changes nothing."""
    job = send(app, invite())
    [sent] = [e for e in t.outbox(app, job) if e["kind"] == EFFECT]
    stale = {**sent["payload"], "join_at": (MONDAY + timedelta(hours=3)).isoformat()}
    stale["version_at"] = "2026-11-20T14:00:00+00:00"
    app.registry.effects[EFFECT](EffectRequest("job:late", EFFECT, stale, t.ORG, None))
    assert len(mb.of("POST")) == 1 and the_bot(app).reason == "superseded"
    assert the_bot(app).join_at == MONDAY - timedelta(minutes=1)


def test_a_creation_whose_answer_was_lost_is_found_not_repeated(
    app: App, seed: SeedSummary, mb: FakeMeetingBaas
) -> None:
    """The dispatcher died after MeetingBaaS made the bot, before the row said so: the same
    effect, carried out again, finds the bot by the request key in its extra."""
    job = send(app, invite())
    [sent] = [e for e in t.outbox(app, job) if e["kind"] == EFFECT]
    [made] = mb.live()
    key = request_key(sent["idempotency_key"])
    assert made.request["extra"]["overture_request"] == key
    event_id = the_bot(app).calendar_event_id
    with app.store.write() as conn:  # the row as it stood while the call was in flight
        ledger.update_bot(conn, event_id, {"status": "creating", "bot_id": None, "request_key": key})
    again = EffectRequest(sent["idempotency_key"], EFFECT, sent["payload"], t.ORG, job)
    app.registry.effects[EFFECT](again)
    assert len(mb.of("POST")) == 1
    assert mb.of("GET")[0].query["filter_by_extra"] == [f"overture_request:{key}"]
    kept = the_bot(app)
    assert (kept.status, kept.bot_id, kept.request_key, kept.reason) == (
        "scheduled",
        made.uuid,
        None,
        "unchanged",
    )


def test_two_handlers_at_once_make_one_bot(app: App, seed: SeedSummary, mb: FakeMeetingBaas) -> None:
    """Two effects for one event carried out at the same moment (two dispatchers): the first
    holds the event's row while MeetingBaaS answers slowly, the second then finds its bot."""
    mb.fail("create", 400, "not yet")
    job = send(app, invite())
    [sent] = [e for e in t.outbox(app, job) if e["kind"] == EFFECT]
    assert the_bot(app).status == "failed"
    mb.create_delay_s = 0.5
    handler = app.registry.effects[EFFECT]
    effects = [EffectRequest(f"job:{n}", EFFECT, sent["payload"], t.ORG, None) for n in (1, 2)]
    threads = [threading.Thread(target=handler, args=(e,)) for e in effects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(mb.live()) == 1 and len(mb.of("POST")) == 2  # the refused one, then one bot
    assert sorted(a["reason"] for a in audits(app)) == ["api_refused", "created", "unchanged"]


def audits(app: App) -> list[Any]:
    with app.store.read() as conn:
        return list(
            conn.execute(sa.select(audit_log).where(audit_log.c.action == "recording_bot")).mappings()
        )


def test_a_refusal_is_recorded_and_the_job_still_completes(
    app: App, seed: SeedSummary, mb: FakeMeetingBaas
) -> None:
    """MeetingBaaS answers 400: no retry, the row says why, the calendar job completed."""
    mb.fail("create", 400, "invalid meeting url")
    job = send(app, invite())
    kept = the_bot(app)
    assert (kept.status, kept.reason, kept.bot_id) == ("failed", "api_refused", None)
    assert "invalid meeting url" in kept.detail
    assert {j.id: j.status.value for j in t.jobs(app)}[job] == "completed"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"meeting_url": None}, "no_video_link"),
        ({"attendees": [{"email": "maya.chen@northwind.example"}]}, "no_external_attendees"),
    ],
)
def test_calls_without_outside_guests_or_a_link_get_no_bot(
    app: App, seed: SeedSummary, mb: FakeMeetingBaas, changes: dict[str, Any], reason: str
) -> None:
    job = send(app, invite(**changes))
    decided = t.output(app, job, "schedule-recording")
    assert (decided["want"], decided["reason"], decided["queued"]) == ("leave", reason, False)
    assert mb.calls == []


def test_a_link_in_the_description_is_joined(app: App, seed: SeedSummary, mb: FakeMeetingBaas) -> None:
    """Zoom in the description (no conference field) is a video link too."""
    zoom = "https://northwind.zoom.us/j/81234567890?pwd=abc"
    send(app, invite(meeting_url=None, description=f"Join Zoom Meeting\n{zoom}\nMeeting ID: 812"))
    [bot] = mb.live()
    assert bot.request["meeting_url"] == zoom


def test_without_an_api_key_bots_are_not_configured_and_the_job_goes_on(
    db_url: str, clock: FakeClock, tmp_path: Path, mb: FakeMeetingBaas, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key: the step records `bots_not_configured`, nothing is queued or sent."""
    monkeypatch.delenv("OVERTURE_MEETINGBAAS_API_KEY", raising=False)
    bare = t.sales_app(db_url, clock, tmp_path / "outbox", meetingbaas_api_base_url=mb.url)
    try:
        t.load_seed(bare)
        job = send(bare, invite())
        decided = t.output(bare, job, "schedule-recording")
        assert (decided["want"], decided["reason"], decided["queued"]) == (
            "schedule",
            "bots_not_configured",
            False,
        )
        assert {j.id: j.status.value for j in t.jobs(bare)}[job] == "completed"
        assert t.outbox(bare, job) == [] and mb.calls == []
    finally:
        bare.close()


def test_a_calendar_webhook_cancellation_takes_the_bot_back(
    db_url: str, tmp_path: Path, mb: FakeMeetingBaas, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Google says the event is cancelled (its id and status only): as a bot is scheduled, the
    cancellation is sent on with the event as stored, and the bot is deleted."""
    monkeypatch.delenv("OVERTURE_MEETINGBAAS_API_KEY", raising=False)
    clock = FakeClock(datetime(2025, 11, 21, 9, 0, tzinfo=UTC))
    app = t.sales_app(
        db_url, clock, tmp_path / "outbox", meetingbaas_api_key=API_KEY, meetingbaas_api_base_url=mb.url
    )
    calendar = FakeCalendar()
    cancelled = {"kind": "calendar#event", "id": TIMED_EVENT["id"], "status": "cancelled"}
    calendar.pages["tok-2"] = Reply(body={"items": [cancelled], "nextSyncToken": "tok-3"})
    try:
        app.admin.add_org("acme", "Acme", {"domains": ["acme.test"]})
        app.admin.add_user("acme", "ana", "Ana", active_hours=None, email="ana@acme.test")
        connect(app, "meetingbaas", "ana-recorder")
        with FakeApi(calendar) as google, in_process(app) as api:
            connect(
                app,
                "google_calendar",
                CHANNEL,
                secret=CHANNEL_TOKEN,
                base_url=f"{google.url}/calendar/v3",
                state={"sync_token": "tok-1"},
            )
            assert notify(api, 10).status_code == 200
            app.run_until_idle()
            [bot] = mb.live()
            assert bot.request["meeting_url"] == TIMED_EVENT["hangoutLink"]
            assert notify(api, 11).status_code == 200
            app.run_until_idle()
        [_, gone] = jobs_of(app, "calendar_event_created")
        assert gone.trigger_payload["status"] == "cancelled" and gone.status.value == "completed"
        assert gone.trigger_payload["start"] == "2025-11-24T09:00:00Z"
        assert mb.live() == [] and the_bot(app).status == "cancelled"
    finally:
        app.close()
