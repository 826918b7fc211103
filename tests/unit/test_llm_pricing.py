"""Token usage to dollars: the vendored table, the two providers' formulas, overrides."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from overture.errors import ValidationFailed
from overture.llm.base import Usage
from overture.llm.pricing import PriceTable, cost_usd, prompt_tokens


def test_vendored_table_is_pinned_and_in_litellm_format() -> None:
    """The shipped JSON names its source commit and date; every model has per-token prices."""
    raw = json.loads(resources.files("overture.llm").joinpath("prices.json").read_text())
    assert raw["_snapshot"]["date"] == "2026-11-21" and len(raw["_snapshot"]["commit"]) == 40
    table = PriceTable.load()
    assert table.snapshot == "2026-11-21" and "_snapshot" not in table.models
    providers = {entry["litellm_provider"] for entry in table.models.values()}
    assert providers == {"openai", "anthropic"}
    for entry in table.models.values():
        assert 0 < entry["input_cost_per_token"] < 1e-3 and 0 < entry["output_cost_per_token"] < 1e-3


def test_openai_formula_bills_cached_tokens_at_the_cache_rate() -> None:
    """prompt_tokens includes cached ones: (prompt - cached) at input, cached at cache-read."""
    usage = Usage(input_tokens=10_000, output_tokens=500, cached_input_tokens=8_000)
    expected = 2_000 * 2.5e-06 + 8_000 * 1.25e-06 + 500 * 1e-05
    assert cost_usd("openai", "gpt-4o", usage) == pytest.approx(expected)


def test_anthropic_formula_adds_cache_writes_and_reads_to_input() -> None:
    """input_tokens excludes the cache: each part at its own rate, nothing subtracted."""
    usage = Usage(
        input_tokens=1_000, output_tokens=400, cached_input_tokens=30_000, cache_creation_tokens=5_000
    )
    expected = 1_000 * 5e-06 + 5_000 * 6.25e-06 + 30_000 * 5e-07 + 400 * 2.5e-05
    assert cost_usd("anthropic", "claude-opus-4-7", usage) == pytest.approx(expected)


def test_long_prompts_use_the_above_200k_rates() -> None:
    """Past 200k prompt tokens (cache included), a model's _above_200k_tokens rates apply."""
    short = Usage(input_tokens=150_000, output_tokens=1_000, cached_input_tokens=40_000)
    long = Usage(input_tokens=150_000, output_tokens=1_000, cached_input_tokens=60_000)
    assert cost_usd("anthropic", "claude-sonnet-4-5", short) == pytest.approx(
        150_000 * 3e-06 + 40_000 * 3e-07 + 1_000 * 1.5e-05
    )
    assert cost_usd("anthropic", "claude-sonnet-4-5", long) == pytest.approx(
        150_000 * 6e-06 + 60_000 * 6e-07 + 1_000 * 2.25e-05
    )


def test_missing_cache_price_falls_back_to_the_input_rate() -> None:
    """A model without a cache-read price bills cached tokens as ordinary input."""
    table = PriceTable.load({"house-model": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}})
    usage = Usage(input_tokens=100, output_tokens=10, cached_input_tokens=60)
    assert table.cost_usd("openai", "house-model", usage) == pytest.approx(100 * 1e-06 + 10 * 2e-06)


def test_unknown_model_is_none_not_zero_and_offline_is_free() -> None:
    """Unknown price → None (recorded as unknown); the offline provider always costs 0."""
    usage = Usage(input_tokens=100, output_tokens=10)
    assert cost_usd("openai", "some-local-model", usage) is None
    assert cost_usd("offline", "rules-v1", usage) == 0.0
    with pytest.raises(ValueError, match="unknown provider kind"):
        cost_usd("mistral", "gpt-4o", usage)


def test_lookup_tolerates_case_and_provider_prefix_but_not_dated_snapshots() -> None:
    """openai/GPT-4o finds gpt-4o; a dated snapshot the table does not name stays unknown."""
    table = PriceTable.load()
    assert table.entry("openai/GPT-4o") is table.entry("gpt-4o") is not None
    assert table.entry("gpt-4o-2024-05-13") is None


def test_overrides_merge_field_by_field_and_add_models() -> None:
    """llm_prices corrects one field of a vendored entry, or adds a model with both prices."""
    table = PriceTable.load(
        {
            "gpt-4o": {"input_cost_per_token": 2e-06},
            "qwen3:32b": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
        }
    )
    gpt = table.entry("gpt-4o")
    assert gpt is not None and gpt["input_cost_per_token"] == 2e-06 and gpt["output_cost_per_token"] == 1e-05
    assert table.cost_usd("openai", "qwen3:32b", Usage(1000, 100)) == 0.0
    assert PriceTable.load().models["gpt-4o"]["input_cost_per_token"] == 2.5e-06


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"new-model": {"input_cost_per_token": 1e-06}}, "needs both input_cost_per_token and output"),
        (
            {"gpt-4o": {"input_cost_per_million": 2.5}},
            "llm_prices.gpt-4o.input_cost_per_million: not a price",
        ),
        ({"gpt-4o": {"output_cost_per_token": -1.0}}, "cannot be negative"),
    ],
)
def test_bad_overrides_are_refused_with_the_setting_path(
    overrides: dict[str, dict[str, float]], message: str
) -> None:
    """A price override that cannot be right fails at load, naming llm_prices.<model>.<field>."""
    with pytest.raises(ValidationFailed, match=message):
        PriceTable.load(overrides)


def test_prompt_tokens_counts_every_prompt_token_per_kind() -> None:
    """OpenAI's prompt_tokens already holds the cache; Anthropic's must add reads and writes."""
    usage = Usage(input_tokens=100, output_tokens=5, cached_input_tokens=30, cache_creation_tokens=20)
    assert prompt_tokens("openai", usage) == 100
    assert prompt_tokens("anthropic", usage) == 150
