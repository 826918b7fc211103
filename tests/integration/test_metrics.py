"""GET /metrics on the real app after real work, on SQLite and PostgreSQL: every figure an
operator breaks down by sequence is labelled by event type and step (steps run, their
durations, failed jobs, model tokens and spend, effects sent and failed, approvals decided by
action and channel), and webhook receipts are counted by source and outcome."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision
from overture.storage.queries import approvals as actionq
from tests.conftest import event
from tests.integration.test_http_api import in_process, issue, paused
from tests.integration.test_http_health import samples
from tests.integration.test_webhooks_accounts import connect, hooks_app
from tests.integration.test_webhooks_meetingbaas import API_KEY, CALLBACK_SECRET, KEYED, URL, raw, v1

Labels = dict[str, str]


def value(got: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """One sample's value; a missing sample is a KeyError naming what was looked for."""
    return got[(name, tuple(sorted(labels.items())))]


def pending_action(app: App, job_id: str, step_index: int = 0) -> str:
    with app.store.read() as conn:
        action = actionq.action_for_step(conn, job_id, step_index)
    assert action is not None, f"job {job_id} has no pending action at step {step_index}"
    return action.id


def test_metrics_by_event_type_and_step_after_real_work(
    app: App, clock: FakeClock, effect_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run a spending sequence, a failing one and three approvals (API, web, Slack); one
    effect is sent and one fails for good: /metrics says so, figure by figure."""
    monkeypatch.setattr("overture.engine.run.outbox.backoff", lambda attempts: timedelta(0))
    org = issue(app, "acme")
    with in_process(app) as api:
        api.post("/v1/events", json=event("costly", {"usd": 0.25}), headers=org)
        api.post("/v1/events", json=event("flaky", {"fail_times": 5}), headers=org)
        app.run_until_idle()
        clock.advance(timedelta(seconds=3))  # past the retry's backoff: the second attempt fails too
        app.run_until_idle()

        approved, action = paused(api, app, org, ref="r1")
        decided = api.post(
            f"/v1/approvals/{action}/decision", json={"action": "approve", "decided_by": "ana"}, headers=org
        )
        assert decided.status_code == 200, decided.text
        app.run_until_idle()  # the approved step runs and its effect is written

        effect_dir.parent.joinpath("blocked").write_text("a file where the effects folder should be")
        monkeypatch.setenv("MECHANICS_EFFECT_DIR", str(effect_dir.parent / "blocked" / "effects"))
        mail = app.emit(event("mail")).job_id or ""
        app.run_until_idle()
        app.approvals.decide(pending_action(app, mail), Decision.APPROVE, "ana", "web")
        app.run_until_idle()
        for _ in range(5):  # five failed attempts end the effect failed
            app.outbox.dispatch()

        cancelled, action = paused(api, app, org, ref="r2")
        app.approvals.decide(action, Decision.CANCEL, "ana", "slack")
        response = api.get("/metrics")

    assert response.status_code == 200
    got = samples(response.text)
    step = {"event_type": "costly", "step": "think"}
    assert value(got, "overture_steps_total", **step, status="completed") == 1
    assert value(got, "overture_step_duration_seconds_count", **step, status="completed") == 1
    assert value(got, "overture_step_duration_seconds_bucket", **step, status="completed", le="+Inf") == 1
    assert value(got, "overture_steps_total", event_type="flaky", step="wobble", status="failed") == 2
    assert value(got, "overture_job_failures_total", event_type="flaky", step="wobble") == 1
    assert ("overture_job_failures_total", (("event_type", "costly"), ("step", "think"))) not in got

    model = {**step, "provider": "fake-llm", "model": "fake-1"}
    assert value(got, "overture_llm_tokens_total", **model, direction="input") == 100
    assert value(got, "overture_llm_tokens_total", **model, direction="output") == 50
    assert value(got, "overture_llm_cost_dollars_total", **model) == pytest.approx(0.25)
    more = {**model, "step": "think-more"}
    assert value(got, "overture_llm_cost_dollars_total", **more) == pytest.approx(0.25)

    kind = "mechanics.file"
    assert value(got, "overture_effects", event_type="gated", step="send", kind=kind, status="sent") == 1
    assert value(got, "overture_effects", event_type="mail", step="send", kind=kind, status="failed") == 1

    decisions = "overture_approval_decisions_total"
    assert value(got, decisions, event_type="gated", step="send", action="approved", channel="api") == 1
    assert value(got, decisions, event_type="mail", step="send", action="approved", channel="web") == 1
    assert value(got, decisions, event_type="gated", step="send", action="cancelled", channel="slack") == 1
    assert value(got, "overture_pending_approvals") == 0
    assert approved and cancelled


def test_webhook_receipts_are_counted_by_source_and_outcome(
    db_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MeetingBaaS delivery, its redelivery and a forged one: processed, duplicate and
    nothing for the forgery (it is refused before a receipt is kept)."""
    app = hooks_app(db_url, clock)
    try:
        connect(app, "meetingbaas", "ana-recorder", secret=CALLBACK_SECRET)
        monkeypatch.setenv("OVERTURE_MEETINGBAAS_API_KEY", API_KEY)
        with in_process(app) as api:
            assert api.post(URL, content=raw(v1()), headers=KEYED).status_code == 200
            assert api.post(URL, content=raw(v1()), headers=KEYED).status_code == 200
            forged = {**KEYED, "x-meeting-baas-api-key": "wrong"}
            assert api.post(URL, content=raw(v1()), headers=forged).status_code == 401
            app.run_until_idle()
            got = samples(api.get("/metrics").text)
    finally:
        app.close()
    assert value(got, "overture_webhook_receipts", source="meetingbaas", outcome="processed") == 1
    assert value(got, "overture_webhook_receipts", source="meetingbaas", outcome="duplicate") == 1
    receipts = [k for k in got if k[0] == "overture_webhook_receipts"]
    assert len(receipts) == 2
    steps = [k for k in got if k[0] == "overture_steps_total" and ("event_type", "meeting_ended") in k[1]]
    assert steps, "the meeting_ended job's steps are labelled with its event type"
