"""The offline provider: rules per task and per instance, answers held to the schema."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from overture.llm.base import InvalidModelOutput, LLMRequest
from overture.llm.offline import NoRule, OfflineProvider, estimate_tokens


class Commitments(BaseModel):
    commitments: list[str]


def find_commitments(data: dict[str, Any]) -> dict[str, Any]:
    """A toy rule: every sentence that starts with "I'll" is a commitment."""
    sentences = [s.strip() for s in str(data["transcript"]).split(".")]
    return {"commitments": [s for s in sentences if s.startswith("I'll")]}


def request(task: str = "detect-intents", **data: Any) -> LLMRequest[Commitments]:
    return LLMRequest(
        task=task,
        instructions="List the rep's commitments.",
        input=data or {"transcript": "Thanks. I'll send the proposal by Friday. Talk soon."},
        schema=Commitments,
    )


def test_dispatches_to_the_tasks_rule_and_validates_its_answer() -> None:
    """The registered rule answers; the value is a schema instance, free, from rules-v1."""
    offline = OfflineProvider()
    offline.register_rule("detect-intents", find_commitments)
    result = offline.structured(request())
    assert result.value == Commitments(commitments=["I'll send the proposal by Friday"])
    assert (result.provider, result.model, result.cost_usd, result.attempts) == (
        "offline",
        "rules-v1",
        0.0,
        1,
    )


def test_usage_is_estimated_at_four_characters_per_token() -> None:
    """Tokens are estimated from the instructions, input and answer sizes (about 4 chars each)."""
    offline = OfflineProvider({"detect-intents": find_commitments})
    usage = offline.structured(request(transcript="x" * 400)).usage
    assert usage.input_tokens == estimate_tokens(
        "List the rep's commitments.", '{"transcript": "' + "x" * 400 + '"}'
    )
    assert usage.input_tokens == 112 and usage.output_tokens == estimate_tokens('{"commitments": []}') == 5


def test_unknown_task_names_the_task_and_the_registered_ones() -> None:
    """Asking for a task with no rule fails clearly, listing what is registered."""
    offline = OfflineProvider({"detect-intents": find_commitments, "classify-email": find_commitments})
    with pytest.raises(NoRule, match=r"'summarise'; registered tasks: classify-email, detect-intents"):
        offline.structured(request("summarise"))
    with pytest.raises(NoRule, match=r"registered tasks: \(none\)"):
        OfflineProvider().structured(request())


def test_an_answer_off_schema_is_invalid_model_output() -> None:
    """A rule whose answer breaks the schema fails like a bad model answer, naming the field."""
    offline = OfflineProvider({"detect-intents": lambda _data: {"commitments": "I'll call"}})
    with pytest.raises(InvalidModelOutput, match="commitments: Input should be a valid list"):
        offline.structured(request())
    not_a_dict = OfflineProvider({"detect-intents": lambda _data: ["I'll call"]})  # type: ignore[arg-type,return-value]
    with pytest.raises(InvalidModelOutput, match="returned list, not a dict"):
        not_a_dict.structured(request())


def test_rules_belong_to_one_provider() -> None:
    """Two providers never share rules (no module-level registry); a task has one rule."""
    first, second = OfflineProvider(), OfflineProvider()

    @first.rule("detect-intents")
    def rule(data: dict[str, Any]) -> dict[str, Any]:
        return find_commitments(data)

    assert first.tasks == ["detect-intents"] and second.tasks == []
    with pytest.raises(ValueError, match="already has a rule for task 'detect-intents'"):
        first.register_rule("detect-intents", find_commitments)


def test_a_rule_cannot_change_the_callers_input() -> None:
    """Rules get a copy of the input, so a step's inputs are the same after the call."""

    def greedy(data: dict[str, Any]) -> dict[str, Any]:
        data["transcript"] = ""
        return {"commitments": []}

    req = request()
    OfflineProvider({"detect-intents": greedy}).structured(req)
    assert req.input["transcript"].startswith("Thanks.")
