"""A request's ``check``: an answer held to the request's own input, beyond its schema.

Over the wire (loopback fakes of Chat Completions and Messages): a failed check is retried once
with the problem, exactly as a schema error is; a second failure raises ``InvalidModelOutput``
carrying what both attempts cost, and ``ask`` still charges that to the step. The sales pack's
check for detect-intents (``Intents.disagreements``) is tested here too, on plain data.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from overture.core.budget import usd_to_micros
from overture.llm.base import InvalidModelOutput, LLMRequest
from overture.llm.factory import ask
from overture.llm.offline import OfflineProvider
from overture.packs.sales.models import Intents
from overture.packs.sales.rules.offline import detect_intents
from tests.unit.test_integrations_apis import FakeApi, Reply
from tests.unit.test_llm_anthropic import message
from tests.unit.test_llm_anthropic import provider as anthropic_provider
from tests.unit.test_llm_factory import step_context
from tests.unit.test_llm_openai import GOOD, Intent, Script, body, chat_completion
from tests.unit.test_llm_openai import provider as openai_provider


def known_intent(answer: Intent, given: dict[str, Any]) -> list[str]:
    """The answer's intent must be one the input offers."""
    offered = given["offered"]
    return [] if answer.intent in offered else [f"intent is not one of the {len(offered)} offered"]


CHECKED = LLMRequest(
    task="detect-intents",
    instructions="Pick the intent.",
    input={"offered": ["send_proposal", "send_pricing"]},
    schema=Intent,
    max_output_tokens=300,
    check=known_intent,
)
OFF = {"intent": "book_demo", "confidence": 0.9}


def test_a_failed_check_is_retried_once_with_the_problem_openai() -> None:
    """Schema-valid but not what the input offers: the retry tells the model so, and the second
    answer is used; usage covers both calls."""
    script = Script(
        Reply(body=chat_completion(json.dumps(OFF), prompt=400, completion=30)),
        Reply(body=chat_completion(json.dumps(GOOD), prompt=500, completion=40)),
    )
    with FakeApi(script) as api:
        result = openai_provider(api).structured(CHECKED)
    assert result.value == Intent.model_validate(GOOD) and result.attempts == 2
    assert (result.usage.input_tokens, result.usage.output_tokens) == (900, 70)
    correction = body(api.seen[1])["messages"][-1]["content"]
    assert "the answer does not agree with the input: intent is not one of the 2 offered" in correction


def test_a_failed_check_is_answered_with_an_error_tool_result_anthropic() -> None:
    """On the Messages API the problem goes back as an is_error tool_result, as schema errors do."""
    script = Script(Reply(body=message(OFF)), Reply(body=message(GOOD, tool_id="toolu_second")))
    with FakeApi(script) as api:
        result = anthropic_provider(api).structured(CHECKED)
    assert result.value == Intent.model_validate(GOOD) and result.attempts == 2
    [block] = body(api.seen[1])["messages"][-1]["content"]
    assert block["is_error"] is True and "intent is not one of the 2 offered" in block["content"]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_two_failed_checks_fail_and_both_calls_are_charged_to_the_step(kind: str) -> None:
    """The second failure raises InvalidModelOutput naming the problem, no third call is made,
    and ``ask`` records both calls' tokens and price on the step before the error goes on."""
    if kind == "openai":
        replies = [
            chat_completion(json.dumps(OFF), prompt=p, completion=c) for p, c in ((400, 30), (500, 40))
        ]
        price = 2.5e-06, 1e-05
    else:
        replies = [message(OFF, input_tokens=p, output_tokens=c) for p, c in ((400, 30), (500, 40))]
        price = 3e-06, 1.5e-05
    ctx = step_context()
    with FakeApi(Script(*(Reply(body=r) for r in replies))) as api:
        provider = openai_provider(api) if kind == "openai" else anthropic_provider(api)
        with pytest.raises(InvalidModelOutput) as caught:
            ask(ctx, provider, CHECKED)
    assert len(api.seen) == 2
    assert "after 2 attempts: the answer does not agree with the input: intent is not one of" in str(
        caught.value
    )
    spent = caught.value.spent
    assert spent is not None and (spent.provider, spent.attempts) == (kind, 2)
    expected = usd_to_micros(900 * price[0] + 70 * price[1])
    assert [(c["provider"], c["input_tokens"], c["output_tokens"], c["cost_micros"]) for c in ctx.costs] == [
        (kind, 900, 70, expected)
    ]


def test_the_offline_rules_are_not_checked() -> None:
    """A rule answers the same way twice, so a check (meant to give a model a second chance)
    is not run on it."""
    offline = OfflineProvider({"detect-intents": lambda _input: dict(OFF)})
    assert offline.structured(CHECKED).value.intent == "book_demo"


# Intents.disagreements: the detect-intents answer against the call.
CALL: dict[str, Any] = {
    "meeting": {"id": "m1", "title": "Discovery", "date": "2026-11-20"},
    "reps": ["Maya Chen", "Sam Ortiz"],
    "segments": [
        {"id": 0, "speaker": "Jordan Blake", "text": "Could you send a quote?"},
        {"id": 1, "speaker": "Maya Chen", "text": "Yes, by Friday."},
        {"id": 2, "speaker": "Jordan Blake", "text": "Let's meet again next week."},
        {"id": 3, "speaker": "Maya Chen", "text": "Sounds good."},
    ],
    "sides": {"Jordan Blake": "prospect", "Maya Chen": "rep"},
}


def answer(commitments: list[dict[str, Any]], meeting: dict[str, Any] | None = None) -> Intents:
    return Intents.model_validate(
        {
            "commitments": commitments,
            "questions": [],
            "objections": [],
            "next_meeting": meeting if meeting is not None else {"agreed": True, "segments": [2, 3]},
        }
    )


def promise(**fields: Any) -> dict[str, Any]:
    base = {
        "speaker": "Maya Chen",
        "side": "rep",
        "intent": "send_pricing",
        "phrase": "Yes, by Friday.",
        "confidence": 0.9,
        "commercial": True,
        "document": "quote",
        "segments": [0, 1],
    }
    return {**base, **fields}


def test_a_grounded_answer_has_no_disagreements() -> None:
    """Cited segments exist, sides match, the agreed meeting cites where it was agreed; no
    meeting agreed may cite nothing; the firmness defaults to firm."""
    grounded = answer([promise()])
    assert grounded.disagreements(CALL) == []
    assert grounded.commitments[0].firmness == "firm"
    assert answer([], {"agreed": False}).disagreements(CALL) == []


@pytest.mark.parametrize(
    ("commitment", "meeting", "problem"),
    [
        (promise(segments=[1, 7, 9]), None, "commitments[0] cites segments 7, 9, which are not in the call"),
        (
            promise(segments=[4]),
            None,
            "cites segment 4, which is not in the call (the transcript has segments 0 to 3)",
        ),
        (promise(segments=[]), None, "commitments[0] cites no segment"),
        (
            promise(side="prospect"),
            None,
            "commitments[0] has side 'prospect', but its speaker is on the rep side",
        ),
        (promise(speaker="Jordan Blake"), None, "has side 'rep', but its speaker is on the prospect side"),
        (promise(speaker="Jordan B.", segments=[0]), None, "no segment it cites was said from that side"),
        (promise(), {"agreed": True}, "next_meeting is agreed but cites no segment"),
        (
            promise(),
            {"agreed": False, "segments": [12]},
            "next_meeting cites segment 12, which is not in the call",
        ),
    ],
)
def test_disagreements_with_the_call_are_named(
    commitment: dict[str, Any], meeting: dict[str, Any] | None, problem: str
) -> None:
    """Each way an answer can misstate the call, said by position, never quoting the call."""
    [found] = answer([commitment], meeting).disagreements(CALL)
    assert problem in found
    assert "Could you send" not in found and "Jordan" not in found


def test_a_colleague_named_only_in_reps_is_on_the_rep_side() -> None:
    """``sides`` holds only who spoke; a rep-side name from ``reps`` (a colleague who promised in
    someone else's words, say) is on the rep side, and a name neither knows may stand on the
    side of a segment it cites."""
    assert answer([promise(speaker="Sam Ortiz")]).disagreements(CALL) == []
    assert answer([promise(speaker="Maya", segments=[1])]).disagreements(CALL) == []
    without_sides = {k: v for k, v in CALL.items() if k != "sides"}
    assert answer([promise(speaker="Jordan Blake")]).disagreements(without_sides) == []


def test_the_offline_rules_report_firm_grounded_commitments() -> None:
    """What the offline rules report is firm, and it passes the check a model's answer must."""
    call = {
        **CALL,
        "segments": [
            {"id": 0, "speaker": "Jordan Blake", "text": "Can we see numbers for both depots?"},
            {"id": 1, "speaker": "Maya Chen", "text": "I'll send you the proposal by Friday."},
        ],
    }
    found = Intents.model_validate(detect_intents(call))
    assert [(c.commercial, c.firmness) for c in found.commitments] == [(True, "firm")]
    assert found.disagreements(call) == []
