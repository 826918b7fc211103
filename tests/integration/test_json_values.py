"""What an event carries comes back as it was sent, after the store has kept it as JSON: in the
event, in its job's context and trigger, in a step's output and in a decision's edits. On both
backends, through the hot path's own encoder and SQLAlchemy's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision, JobStatus
from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq

ORG, USER = "vals", "vu"
KEEP = (
    "event_type: keep\nactive_hours: ignore\nsteps:\n"
    "  - name: a\n    uses: skill:payload\n"
    "  - name: b\n    uses: skill:payload\n    with: {name: Ana Ødegård, big: 73786976294838206464}\n"
    "    approval:\n      pattern: draft\n      expires: 1h\n"
)
PAYLOAD: dict[str, Any] = {
    "big": 2**70,  # past 64 bits: kept exactly, not as a float
    "negative": -(2**65) - 1,
    "small": 7,
    "ratio": 0.1,
    "tiny": 5e-324,
    "name": "Zoë Müller — Société Générale ✓",
    "emoji": "🦊",
    "nested": {"list": [1, "two", None, True, {"deep": [2**64]}]},
}


def registry() -> Registry:
    reg = Registry()

    @reg.skill("payload")
    def payload(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return the event's payload, with the step's inputs (a decision's edits) over it."""
        return {**ctx.event["payload"], **inputs}

    reg.add_sequence(load_sequence_text(KEEP, "keep.yaml"))
    return reg


@pytest.fixture
def keeper(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = App(Settings(database_url=db_url, packs=[]), clock=clock, registry=registry())
    app.migrate()
    app.admin.add_org(ORG, "Values")
    app.admin.add_user(ORG, USER, "Vu", active_hours=None)
    yield app
    app.close()


def test_numbers_and_text_come_back_exactly_from_every_place_they_are_kept(keeper: App) -> None:
    sent = keeper.emit({"type": "keep", "org_id": ORG, "user_id": USER, "payload": PAYLOAD})
    assert sent.status == "accepted" and sent.job_id
    keeper.run_until_idle()
    with keeper.store.read() as conn:
        event = jobq.get_event(conn, sent.event_id)
        job = jobq.get_job(conn, sent.job_id)
        steps = jobq.steps_of(conn, sent.job_id)
        (action,) = actionq.list_actions(conn, ORG)
    assert event is not None and job is not None
    assert event["payload"] == PAYLOAD
    assert job.trigger_payload == PAYLOAD and job.context["event"]["payload"] == PAYLOAD
    assert [s.output for s in steps if s.step_name == "a"] == [PAYLOAD]
    assert action.draft == {"name": "Ana Ødegård", "big": 2**66}
    big = type(event["payload"]["big"])
    assert big is int  # not 1.1805916207174113e+21

    edits = {"name": "Jürgen Åström", "big": 2**80}
    assert keeper.approvals.decide(action.id, Decision.EDIT, USER, modifications=edits).applied
    keeper.run_until_idle()
    with keeper.store.read() as conn:
        job = jobq.get_job(conn, sent.job_id)
        decided = actionq.get_action(conn, action.id)
        outputs = {s.step_name: s.output for s in jobq.steps_of(conn, sent.job_id) if s.output}
    assert job is not None and job.status == JobStatus.COMPLETED
    assert decided is not None and decided.modifications == edits
    assert outputs["b"] == {**PAYLOAD, **edits}
