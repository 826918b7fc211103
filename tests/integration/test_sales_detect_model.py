"""detect-intents with a configured model, through the real meeting_ended sequence on SQLite and
PostgreSQL: the sales pack talks to a loopback fake that speaks OpenAI's Chat Completions or
Anthropic's Messages API, and the model's answer is held to the call it was asked about.

An answer citing a transcript segment the call does not have gets the provider's one corrective
retry, and the corrected answer is what the sequence uses; a second bad answer fails the step
with a reason a rep can read; every attempt is charged to the cost ledger and the budget; and a
commercial commitment the model marks ``conditional`` chains no proposal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from overture.app import App
from overture.clock import FakeClock
from overture.core.budget import usd_to_micros
from overture.packs.sales import testing as t
from overture.packs.sales.seed.builder import SeedSummary
from overture.storage.queries import jobs as jobq
from overture.storage.tables.orchestrator import cost_ledger
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen
from tests.unit.test_llm_anthropic import message
from tests.unit.test_llm_openai import chat_completion

DETECT_STEP = 2  # meeting_ended: resolve-participants, extract-action-items, detect-intents, ...
MODELS = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-6"}
# Per-token prices of those models (llm/prices.json): input, output.
PRICES = {"openai": (2.5e-06, 1e-05), "anthropic": (3e-06, 1.5e-05)}
# Tokens the fake bills for each detect-intents attempt, (prompt, completion), in order.
DETECT_USAGE = [(3000, 200), (3500, 250), (3100, 210), (3600, 260)]
PROMISE = "I'll send you the proposal by Friday, with pricing for Chicago and Dallas."  # segment 19
OTHER_ANSWERS: dict[str, dict[str, Any]] = {
    "extract-action-items": {"items": []},
    "suggest-next-actions": {"actions": []},
    "copywriter": {
        "subject": "Thanks, Jordan",
        "body": "Hi Jordan, thanks for today. Maya",
        "cites": [],
        "sentences": [
            {"text": "Hi Jordan, thanks for today.", "segments": [0], "records": []},
            {"text": "Maya", "segments": [], "records": ["user:northwind.maya"]},
        ],
    },
    "generate-proposal": {
        "title": "Lane visibility for Brightline Freight",
        "body": "Scope: Chicago and Dallas.",
        "email_subject": "Your proposal",
        "email_body": "Hi Jordan, the proposal is attached. Maya",
    },
}


def commitment(firmness: str = "firm", segments: tuple[int, ...] = (18, 19)) -> dict[str, Any]:
    """Maya's promise of the proposal (segment 19, answering Jordan's ask in 18)."""
    return {
        "speaker": "Maya Chen",
        "side": "rep",
        "intent": "send_proposal",
        "phrase": PROMISE,
        "confidence": 0.95,
        "due_date": "2026-11-27",
        "due_phrase": "by Friday",
        "commercial": True,
        "document": "proposal",
        "firmness": firmness,
        "segments": list(segments),
    }


def intents(*commitments: dict[str, Any], meeting_segments: tuple[int, ...] = (21, 22)) -> dict[str, Any]:
    """A detect-intents answer: these commitments, and a call next week agreed without a time."""
    return {
        "commitments": list(commitments),
        "questions": [],
        "objections": [],
        "next_meeting": {
            "agreed": True,
            "fixed": False,
            "phrase": "let's set up a call next week with her",
            "proposed_by": "rep",
            "due_date": None,
            "segments": list(meeting_segments),
        },
    }


class FakeModel:
    """One loopback model for both wire formats: detect-intents answers ``detect`` in order (the
    last repeats), billed as ``DETECT_USAGE``; the sequences' other tasks get a fixed answer."""

    def __init__(self, *detect: dict[str, Any], copy: list[dict[str, Any]] | None = None) -> None:
        self.detect = list(detect)
        self.copy = list(copy or [])
        self.copy_requests: list[dict[str, Any]] = []
        self.detect_requests: list[dict[str, Any]] = []
        self.detect_inputs: list[dict[str, Any]] = []

    def __call__(self, seen: Seen) -> Reply:
        sent = json.loads(seen.body)
        anthropic = seen.path == "/v1/messages"
        if anthropic:
            task = sent["tools"][0]["name"]
            given = json.loads(sent["messages"][0]["content"][0]["text"])
        else:
            task = sent["response_format"]["json_schema"]["name"]
            given = json.loads(sent["messages"][1]["content"])
        prompt, completion = 1000, 100
        if task == "detect-intents":
            prompt, completion = DETECT_USAGE[len(self.detect_requests)]
            self.detect_requests.append(sent)
            self.detect_inputs.append(given)
            answer = self.detect.pop(0) if len(self.detect) > 1 else self.detect[0]
        elif task == "copywriter" and self.copy:
            self.copy_requests.append(sent)
            answer = self.copy.pop(0) if len(self.copy) > 1 else self.copy[0]
        else:
            answer = OTHER_ANSWERS.get(task, {})  # a task added later just fails its step
        if anthropic:
            body = message(answer, tool_name=task, input_tokens=prompt, output_tokens=completion)
            return Reply(body=body)
        return Reply(
            body=chat_completion(json.dumps(answer), model="gpt-4o", prompt=prompt, completion=completion)
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t.local(t.STORY_DAY, 10, 50))


@pytest.fixture(params=["openai", "anthropic"])
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def served() -> Iterator[tuple[FakeApi, FakeModel]]:
    model = FakeModel(intents(commitment()))
    with FakeApi(model) as api:
        yield api, model


@pytest.fixture
def app(
    db_url: str, clock: FakeClock, tmp_path: Path, kind: str, served: tuple[FakeApi, FakeModel]
) -> Iterator[App]:
    api, _ = served
    application = t.sales_app(
        db_url,
        clock,
        tmp_path / "outbox",
        llm_provider=kind,
        llm_model=MODELS[kind],
        llm_api_key="sk-test",
        llm_base_url=f"{api.url}/v1" if kind == "openai" else api.url,
    )
    yield application
    application.close()


@pytest.fixture
def seed(app: App) -> SeedSummary:
    return t.load_seed(app)


def meeting_ended(app: App, seed: SeedSummary) -> str:
    result = app.emit(
        t.event("meeting_ended", {"meeting_id": seed.meetings["story"]}, source="webhook:meetingbaas")
    )
    assert result.status == "accepted", result
    app.run_until_idle()
    return result.job_id or ""


def detect_rows(app: App, job_id: str) -> list[dict[str, Any]]:
    """The cost_ledger rows of the job's detect-intents step."""
    query = sa.select(cost_ledger).where(
        cost_ledger.c.job_id == job_id, cost_ledger.c.step_index == DETECT_STEP
    )
    with app.store.read() as conn:
        return [dict(r) for r in conn.execute(query.order_by(cost_ledger.c.id)).mappings()]


def micros(kind: str, attempts: list[tuple[int, int]]) -> int:
    per_input, per_output = PRICES[kind]
    return usd_to_micros(sum(p * per_input + c * per_output for p, c in attempts))


def correction_sent(kind: str, request: dict[str, Any]) -> str:
    """What the retry told the model was wrong: the last user message (OpenAI) or the error
    tool_result answering its tool call (Anthropic)."""
    if kind == "openai":
        last = request["messages"][-1]
        assert last["role"] == "user"
        return str(last["content"])
    [result] = request["messages"][-1]["content"]
    assert (result["type"], result["is_error"]) == ("tool_result", True)
    return str(result["content"])


def test_a_citation_of_a_missing_segment_is_retried_and_the_corrected_answer_used(
    app: App, seed: SeedSummary, served: tuple[FakeApi, FakeModel], kind: str
) -> None:
    """The first answer cites segment 99 of a 25-segment call: one corrective retry naming it,
    the corrected answer is the step's output and chains the proposal and the scheduling, and
    both attempts are one ledger row with their summed tokens and price."""
    _, model = served
    model.detect = [intents(commitment(segments=(19, 99))), intents(commitment())]
    job = meeting_ended(app, seed)

    assert len(model.detect_requests) == 2
    said = correction_sent(kind, model.detect_requests[1])
    assert (
        "commitments[0] cites segment 99, which is not in the call (the transcript has segments 0 to 24)"
        in said
    )
    statuses = dict(t.step_statuses(app, job))
    assert (
        statuses["detect-intents"]
        == statuses["queue-proposal"]
        == statuses["queue-find-times"]
        == "completed"
    )
    out = t.output(app, job, "detect-intents")
    assert [(c["segments"], c["firmness"]) for c in out["commitments"]] == [([18, 19], "firm")]
    children = {j.event_type: j for j in t.jobs(app) if j.parent_job_id == job}
    assert set(children) == {"proposal_generation", "calendar_find_times"}
    assert children["proposal_generation"].trigger_payload["trigger_phrase"] == PROMISE

    [row] = detect_rows(app, job)
    assert (row["provider"], row["input_tokens"], row["output_tokens"]) == (kind, 6500, 450)
    assert row["cost_micros"] == micros(kind, DETECT_USAGE[:2])


def test_a_second_bad_answer_fails_the_step_with_the_reason_and_both_calls_are_charged(
    app: App, seed: SeedSummary, served: tuple[FakeApi, FakeModel], clock: FakeClock, kind: str
) -> None:
    """Two answers citing a missing segment: the step fails saying why in words, no follow-up is
    queued, and both calls are in the ledger and the budget; the step's own retry (30 s later)
    asks twice more, fails the same way, and the job fails with that reason."""
    _, model = served
    model.detect = [intents(commitment(segments=(99,)))]
    job = meeting_ended(app, seed)

    assert len(model.detect_requests) == 2
    failed = [s for s in t.steps(app, job) if s.step_name == "detect-intents"]
    assert [s.status.value for s in failed] == ["failed"]
    reason = failed[0].error or ""
    assert "gave no valid answer for task 'detect-intents' after 2 attempts" in reason
    assert (
        "commitments[0] cites segment 99, which is not in the call (the transcript has segments 0 to 24)"
        in reason
    )
    assert not [j for j in t.jobs(app) if j.parent_job_id == job]
    [row] = detect_rows(app, job)
    first = micros(kind, DETECT_USAGE[:2])
    assert (row["input_tokens"], row["output_tokens"], row["cost_micros"]) == (6500, 450, first)
    assert failed[0].cost_micros == first
    extract = micros(kind, [(1000, 100)])  # the extract-action-items step before it
    with app.store.read() as conn:
        assert jobq.cost_since(conn, t.ORG, clock.now() - timedelta(days=1)) == extract + first

    clock.advance(timedelta(seconds=31))
    app.run_until_idle()
    assert len(model.detect_requests) == 4
    [parent] = [j for j in t.jobs(app) if j.id == job]
    assert parent.status.value == "failed"
    assert "step detect-intents failed" in (parent.status_reason or "")
    assert "cites segment 99, which is not in the call" in (parent.status_reason or "")
    rows = detect_rows(app, job)
    assert [r["input_tokens"] for r in rows] == [6500, 6700]
    with app.store.read() as conn:
        spent = jobq.cost_since(conn, t.ORG, clock.now() - timedelta(days=1))
    assert sum(r["cost_micros"] for r in rows) == first + micros(kind, DETECT_USAGE[2:])
    assert spent == extract + first + micros(kind, DETECT_USAGE[2:])


@pytest.mark.parametrize(
    ("firmness", "chained"), [("firm", True), ("conditional", False), ("withdrawn", False)]
)
def test_only_a_firm_commercial_commitment_chains_a_proposal(
    app: App, seed: SeedSummary, served: tuple[FakeApi, FakeModel], firmness: str, chained: bool
) -> None:
    """The same confident, commercial, rep-side commitment: queued as proposal_generation when
    the model marks it firm, skipped when conditional or withdrawn; the unfixed meeting is
    queued either way."""
    _, model = served
    model.detect = [intents(commitment(firmness))]
    job = meeting_ended(app, seed)

    assert len(model.detect_requests) == 1
    statuses = dict(t.step_statuses(app, job))
    assert statuses["queue-proposal"] == ("completed" if chained else "skipped")
    kinds = {j.event_type for j in t.jobs(app) if j.parent_job_id == job}
    assert kinds == ({"proposal_generation", "calendar_find_times"} if chained else {"calendar_find_times"})


def test_the_model_is_told_the_rule_and_given_segment_ids_and_sides(
    app: App, seed: SeedSummary, served: tuple[FakeApi, FakeModel], kind: str
) -> None:
    """The request carries the labelling rule (firmness, what is commercial, what a fixed meeting
    is, cite segment ids) and the call with numbered segments and each speaker's side; the
    schema the model must follow has firmness."""
    _, model = served
    meeting_ended(app, seed)
    [sent] = model.detect_requests
    if kind == "openai":
        instructions = sent["messages"][0]["content"]
        schema = sent["response_format"]["json_schema"]["schema"]
    else:
        instructions = sent["system"]
        schema = sent["tools"][0]["input_schema"]
    for rule in (
        "firmness",
        "conditional",
        "withdrawn",
        "re-sent",
        "prospect's own paperwork",
        "standing slot",
        "segments",
    ):
        assert rule in instructions
    assert schema["$defs"]["CommitmentItem"]["properties"]["firmness"]["enum"] == [
        "firm",
        "conditional",
        "hedged",
        "withdrawn",
        "past",
    ]
    [given] = model.detect_inputs
    assert [s["id"] for s in given["segments"]] == list(range(25))
    assert given["sides"] == {"Maya Chen": "rep", "Jordan Blake": "prospect"}


def test_a_follow_up_sentence_citing_a_missing_segment_is_retried(
    db_url: str, clock: FakeClock, tmp_path: Path, kind: str
) -> None:
    """The model's follow-up cites segment 99 of a 25-segment call: one corrective retry names it,
    and the draft waiting for Maya is the corrected one, every sentence with its source."""
    bad = {
        **OTHER_ANSWERS["copywriter"],
        "sentences": [{"text": "Hi Jordan.", "segments": [99], "records": []}],
    }
    good = OTHER_ANSWERS["copywriter"]
    model = FakeModel(intents(commitment()), copy=[bad, good])
    with FakeApi(model) as api:
        application = t.sales_app(
            db_url,
            clock,
            tmp_path / "outbox",
            llm_provider=kind,
            llm_model=MODELS[kind],
            llm_api_key="sk-test",
            llm_base_url=f"{api.url}/v1" if kind == "openai" else api.url,
        )
        try:
            job = meeting_ended(application, t.load_seed(application))
            draft = t.pending(application, job).draft
        finally:
            application.close()
    follow_ups = [r for r in model.copy_requests if '\\"kind\\": \\"follow_up\\"' in json.dumps(r)]
    assert len(follow_ups) == 2
    assert "segment(s) 99" in correction_sent(kind, follow_ups[1])
    assert draft["body"] == good["body"]
    assert [s["text"] for s in draft["grounding"]] == ["Hi Jordan, thanks for today.", "Maya"]
    assert all(s["sources"] for s in draft["grounding"])
