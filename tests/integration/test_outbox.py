"""The outbox on both backends: fenced, renewed claims (two dispatchers never run one effect
twice), attempts recorded before and after (a dead worker's attempt is redone where the
receiver recognises a repeat, reported in doubt where it cannot), failures flagged on the job,
told to the rep and retried on request."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.core.step_context import EffectRequest, StepContext
from overture.engine.registry import Registry
from overture.engine.run.outbox import OutboxDispatcher, unrepeatable
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from overture.storage.queries import outbox as outq
from overture.storage.tables.orchestrator import outbox
from tests.integration.test_console import Session, visible
from tests.integration.test_http_api import in_process

ORG, USER = "acme", "ana"


class Receiver:
    """Counts each effect's deliveries; can be slow, fail, or be told to fail N times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()
        self.seconds = 0.0
        self.failures_left = 0

    def __call__(self, effect: EffectRequest) -> None:
        time.sleep(self.seconds)
        with self.lock:
            if self.failures_left:
                self.failures_left -= 1
                raise ConnectionRefusedError("the receiver said no to ana@acme.test")
            self.seen[effect.idempotency_key] += 1


def outbox_app(db_url: str, receiver: Receiver, kind_unrepeatable: bool = False) -> App:
    registry = Registry()

    @registry.skill("act")
    def act(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Queue one effect."""
        return {"effect": ctx.effect("test.effect", {"n": inputs.get("n")})}

    def send(effect: EffectRequest) -> None:
        receiver(effect)

    registry.effect("test.effect")(unrepeatable(send) if kind_unrepeatable else send)
    text = "event_type: act\nactive_hours: ignore\nsteps:\n  - name: act\n    uses: skill:act\n"
    registry.add_sequence(load_sequence_text(text + "    with: {n: '{{ event.payload.n }}'}\n", "act.yaml"))

    @registry.skill("noop")
    def noop(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Do nothing (a step whose commit takes the hot path)."""
        return {}

    plain = "event_type: plain\nactive_hours: ignore\nsteps:\n  - name: noop\n    uses: skill:noop\n"
    registry.add_sequence(load_sequence_text(plain, "plain.yaml"))
    app = App(Settings(database_url=db_url, packs=[]), registry=registry)
    app.migrate()
    return app


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def oapp(db_url: str, receiver: Receiver) -> Iterator[App]:
    app = outbox_app(db_url, receiver)
    app.admin.add_org(ORG, "Acme")
    app.admin.add_user(ORG, USER, "Ana", active_hours=None)
    yield app
    app.close()


def queue(app: App, n: int) -> list[str]:
    """n jobs run to completion, each leaving one effect queued (no dispatch yet)."""
    ids = [
        app.emit({"type": "act", "org_id": ORG, "user_id": USER, "payload": {"n": i}}).job_id or ""
        for i in range(n)
    ]
    worker = app.worker("runner")
    while worker.run_one():
        pass
    worker._let_go_of_connection()
    return ids


def rows(app: App) -> list[dict[str, Any]]:
    with app.store.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(outbox).order_by(outbox.c.id)).mappings()]


def test_two_dispatchers_with_slow_effects_run_each_once(oapp: App, receiver: Receiver) -> None:
    """A claim lasts 1 s, a batch of five 0.3 s effects takes 1.5 s: renewal keeps the rows of
    a working dispatcher its own, so the second one never runs them again."""
    queue(oapp, 12)
    receiver.seconds = 0.3
    dispatchers = [
        OutboxDispatcher(oapp.store, oapp.registry, oapp.clock, claim_s=1.0, renew_s=0.25, actor=f"d{i}")
        for i in range(2)
    ]
    threads = [threading.Thread(target=d.dispatch) for d in dispatchers]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join(60)
    assert sum(receiver.seen.values()) == 12 and set(receiver.seen.values()) == {1}
    assert {r["status"] for r in rows(oapp)} == {"sent"}
    assert all(r["claim_token"] is None and r["started_at"] is None for r in rows(oapp))


def test_marks_are_fenced_by_the_claim_token(oapp: App) -> None:
    """A dispatcher whose claim was taken over changes nothing about the row."""
    queue(oapp, 1)
    now = oapp.clock.now()
    with oapp.store.write() as conn:
        (mine,) = outq.claim(conn, "old", now - timedelta(seconds=60), now - timedelta(seconds=1), 5)
        (theirs,) = outq.claim(conn, "new", now, now + timedelta(seconds=30), 5)
        assert not outq.start(conn, mine["id"], "old", now, now)
        assert not outq.finish(conn, mine["id"], "old", "sent", now, None)
        assert outq.start(conn, theirs["id"], "new", now, now + timedelta(seconds=30))
    (row,) = rows(oapp)
    assert row["status"] == "sending" and row["claim_token"] == "new" and row["attempts"] == 1


def dead_worker_attempt(app: App) -> None:
    """As if a worker claimed the row, began the attempt and was killed before the outcome."""
    now = app.clock.now()
    with app.store.write() as conn:
        (row,) = outq.claim(conn, "dead", now - timedelta(seconds=90), now - timedelta(seconds=60), 5)
        assert outq.start(conn, row["id"], "dead", now - timedelta(seconds=90), now - timedelta(seconds=60))


def test_a_repeatable_effect_cut_short_by_a_dead_worker_is_done_again(oapp: App, receiver: Receiver) -> None:
    """A receiver that recognises the key (a file, an upsert) is simply called again."""
    queue(oapp, 1)
    dead_worker_attempt(oapp)
    assert oapp.outbox.dispatch() == 1
    (row,) = rows(oapp)
    assert row["status"] == "sent" and row["attempts"] == 2 and sum(receiver.seen.values()) == 1


def test_an_unrepeatable_effect_cut_short_is_reported_in_doubt(db_url: str, receiver: Receiver) -> None:
    """SMTP-like: not sent again blindly; in doubt, flagged on the job, told to the rep, audited;
    a person's retry sends it."""
    app = outbox_app(db_url, receiver, kind_unrepeatable=True)
    app.admin.add_org(ORG, "Acme")
    app.admin.add_user(ORG, USER, "Ana", active_hours=None)
    try:
        (job_id,) = queue(app, 1)
        dead_worker_attempt(app)
        assert app.outbox.dispatch() == 0
        (row,) = rows(app)
        assert row["status"] == "in_doubt" and "may have been delivered" in row["last_error"]
        assert sum(receiver.seen.values()) == 0
        with app.store.read() as conn:
            job = jobq.get_job(conn, job_id)
            notes = noteq.for_user(conn, USER)
            actions = [a["action"] for a in jobq.audit_of(conn, job_id=job_id)]
        assert job is not None and job.status.value == "completed"
        assert job.execution_metadata is not None and job.execution_metadata["effect_failures"] == 1
        assert [n["kind"] for n in notes] == ["effect_failed"] and "may or may not" in notes[0]["body"][
            "text"
        ]
        assert "effect_in_doubt" in actions
        retried = app.effects.retry(effect_id=row["id"], by=USER, via="api")
        assert [r["status"] for r in retried] == ["pending"]
        assert app.outbox.dispatch() == 1 and sum(receiver.seen.values()) == 1
        with app.store.read() as conn:
            job = jobq.get_job(conn, job_id)
            actions = [a["action"] for a in jobq.audit_of(conn, job_id=job_id)]
        assert job is not None and "effect_failures" not in (job.execution_metadata or {})
        assert "effect_retry_requested" in actions
    finally:
        app.close()


def test_an_effect_that_keeps_failing_flags_its_job_and_can_be_retried(
    oapp: App, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five failed attempts (with backoff) end the effect failed: the completed job carries the
    flag, the rep is told why, `jobs show` says so, and `effects retry` sends it."""
    (job_id,) = queue(oapp, 1)
    receiver.failures_left = 5
    monkeypatch.setattr("overture.engine.run.outbox.backoff", lambda attempts: timedelta(0))
    for _ in range(5):
        oapp.outbox.dispatch()
    (row,) = rows(oapp)
    assert (
        row["status"] == "failed" and row["attempts"] == 5 and "ConnectionRefusedError" in row["last_error"]
    )
    with oapp.store.read() as conn:
        job = jobq.get_job(conn, job_id)
        notes = noteq.for_user(conn, USER)
    assert job is not None and job.status.value == "completed"
    assert job.execution_metadata is not None and job.execution_metadata["effect_failures"] == 1
    assert "could not be carried out" in notes[-1]["body"]["text"]
    assert notes[-1]["body"]["retry"] == f"overture effects retry {row['id']}"

    env = {"OVERTURE_DATABASE_URL": str(oapp.settings.database_url), "OVERTURE_PACKS": "[]"}
    runner = CliRunner()
    shown = runner.invoke(cli, ["jobs", "show", job_id], env=env)
    assert "effects: 1 failed or in doubt" in shown.output, shown.output
    missing = runner.invoke(cli, ["effects", "retry", "999999"], env=env)
    assert missing.exit_code != 0 and "no effect 999999" in missing.output
    retried = runner.invoke(cli, ["jobs", "retry-effects", job_id, "--by", USER], env=env)
    assert retried.exit_code == 0 and "pending" in retried.output, retried.output
    assert oapp.outbox.dispatch() == 1
    (row,) = rows(oapp)
    assert row["status"] == "sent" and receiver.seen[row["idempotency_key"]] == 1


def test_a_failed_attempt_waits_its_backoff(oapp: App, receiver: Receiver) -> None:
    """A failure puts the row back with a retry time; it is not taken again before then."""
    queue(oapp, 1)
    receiver.failures_left = 1
    assert oapp.outbox.dispatch() == 0
    (row,) = rows(oapp)
    assert row["status"] == "pending" and row["claimed_until"] > oapp.clock.now()
    assert oapp.outbox.dispatch() == 0 and sum(receiver.seen.values()) == 0


def test_until_idle_waits_for_effects_a_dead_worker_holds(oapp: App, receiver: Receiver) -> None:
    """`worker --until-idle` does not exit while a dead worker's claim still holds an effect:
    it waits for the claim to run out, takes the effect over and carries it out."""
    queue(oapp, 1)
    now = oapp.clock.now()
    with oapp.store.write() as conn:
        outq.claim(conn, "dead", now, now + timedelta(seconds=1.5), 5)
    started = time.monotonic()
    oapp.worker("rescuer").run(until_idle=True)
    assert time.monotonic() - started >= 1.0
    (row,) = rows(oapp)
    assert row["status"] == "sent" and sum(receiver.seen.values()) == 1


@pytest.mark.parametrize("event_type", ["plain", "act"])
def test_a_flag_written_while_the_job_runs_survives_its_completion(oapp: App, event_type: str) -> None:
    """An effect of an earlier step fails while the job is still running: the job's completing
    commit keeps the count in the metadata it writes (the hot path's plain completion, and the
    full commit of a step that queues effects)."""
    (done_id,) = queue(oapp, 1)
    event = {"type": event_type, "org_id": ORG, "user_id": USER, "payload": {"n": "x"}}
    job_id = oapp.emit(event).job_id or ""
    worker = oapp.worker("slowpoke")
    job = worker.claim()
    assert job is not None and job.id == job_id
    with oapp.store.write() as conn:  # as if an effect of this job had just failed for good
        conn.execute(
            sa.update(outbox).where(outbox.c.job_id == done_id).values(job_id=job_id, status="failed")
        )
        assert outq.flag_job(conn, job_id) == 1
    worker.runner.run(job, worker._connection())
    worker._let_go_of_connection()
    with oapp.store.read() as conn:
        finished = jobq.get_job(conn, job_id)
    assert finished is not None and finished.status.value == "completed"
    assert finished.execution_metadata is not None and finished.execution_metadata["effect_failures"] == 1
    assert finished.execution_metadata["steps_completed"] == 1


def test_failed_effects_are_retried_from_the_job_page(
    oapp: App, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job page offers "Retry failed effects" to its owner; pressing it queues the effect
    again, audited as the owner via web, and it is then sent once; another member may not."""
    (job_id,) = queue(oapp, 1)
    receiver.failures_left = 5
    monkeypatch.setattr("overture.engine.run.outbox.backoff", lambda attempts: timedelta(0))
    for _ in range(5):
        oapp.outbox.dispatch()
    oapp.admin.add_user(ORG, "eve", "Eve", active_hours=None)
    with in_process(oapp) as http:
        ana, eve = Session(oapp, http, USER), Session(oapp, http, "eve")
        page = ana.get(f"/jobs/{job_id}")
        assert "Retry failed effects" in visible(page.text)
        assert "Retry failed effects" not in visible(eve.get(f"/jobs/{job_id}").text)
        assert eve.post(f"/jobs/{job_id}/effects/retry").status_code == 403
        assert rows(oapp)[0]["status"] == "failed"
        done = ana.post(f"/jobs/{job_id}/effects/retry")
        assert (done.status_code, done.headers["location"]) == (303, f"/jobs/{job_id}?said=effects_retried")
        assert "Retry failed effects" not in visible(ana.get(f"/jobs/{job_id}").text)
        again = ana.post(f"/jobs/{job_id}/effects/retry")
        assert again.status_code == 409 and "no failed or in-doubt effects" in visible(again.text)
    assert oapp.outbox.dispatch() == 1
    (row,) = rows(oapp)
    assert row["status"] == "sent" and receiver.seen[row["idempotency_key"]] == 1
    with oapp.store.read() as conn:
        asked = [a for a in jobq.audit_of(conn, job_id=job_id) if a["action"] == "effect_retry_requested"]
    assert [(a["actor"], a["reason"]) for a in asked] == [("ana via web", "web")]
