"""Token usage to US dollars, from a price table in LiteLLM's per-token format.

The table ships with the package (``prices.json``, a few current OpenAI and Anthropic chat
models copied from LiteLLM's ``model_prices_and_context_window.json`` at a pinned commit and
date) so that pricing needs no network and does not drift between runs. Operators correct or
extend it with the ``llm_prices`` setting, model by model, in the same format.

The two API families count prompt tokens differently, which is why
``cost_usd`` takes the provider kind and ``Usage`` holds the numbers as the provider reported
them:

- OpenAI-style: ``input_tokens`` is ``prompt_tokens`` and *includes* the cached tokens, so
  ``cost = (input - cached) * input_rate + cached * cache_read_rate + output * output_rate``.
- Anthropic: ``input_tokens`` *excludes* cache reads and writes, so
  ``cost = input * input_rate + cache_creation * creation_rate + cache_read * read_rate
  + output * output_rate``.

A model the table does not know costs ``None`` (unknown), never 0: a free model would
otherwise be indistinguishable from a missing price.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from overture.errors import ValidationFailed
from overture.llm.base import Usage

PROVIDER_KINDS = ("offline", "openai", "anthropic")
INPUT = "input_cost_per_token"
OUTPUT = "output_cost_per_token"
CACHE_READ = "cache_read_input_token_cost"
CACHE_CREATION = "cache_creation_input_token_cost"
_RATE_FIELDS = (INPUT, OUTPUT, CACHE_READ, CACHE_CREATION)
_TIER = re.compile(r"^(?P<base>[a-z_]+)_above_(?P<k>\d+)k_tokens$")
_SKIPPED_KEYS = ("sample_spec", "_snapshot")


@dataclass(frozen=True)
class Rates:
    """USD per token for one call, long-context tier already applied."""

    input: float
    output: float
    cache_read: float
    cache_creation: float


@dataclass(frozen=True)
class PriceTable:
    """Model name → LiteLLM price entry, plus the date of the snapshot it came from."""

    models: Mapping[str, Mapping[str, Any]]
    snapshot: str = "unknown"

    @classmethod
    def load(cls, overrides: Mapping[str, Mapping[str, float]] | None = None) -> PriceTable:
        """The vendored table with ``overrides`` merged field by field over it."""
        raw = json.loads(resources.files("overture.llm").joinpath("prices.json").read_text("utf-8"))
        snapshot = str(raw.get("_snapshot", {}).get("date", "unknown"))
        models: dict[str, dict[str, Any]] = {
            name: dict(entry) for name, entry in raw.items() if name not in _SKIPPED_KEYS
        }
        for name, fields in (overrides or {}).items():
            models[name] = {**models.get(name, {}), **_checked_override(name, fields)}
            if INPUT not in models[name] or OUTPUT not in models[name]:
                raise ValidationFailed(
                    f"llm_prices.{name}: a model missing from the price table needs both "
                    f"{INPUT} and {OUTPUT} (USD per token, e.g. 3e-06 for $3 per million)"
                )
        frozen = {name: MappingProxyType(entry) for name, entry in models.items()}
        return cls(MappingProxyType(frozen), snapshot)

    def entry(self, model: str) -> Mapping[str, Any] | None:
        """The entry for ``model``, also tried lower-cased and without a ``provider/`` prefix.

        Dated snapshots are not folded into their alias (``gpt-4o-2024-05-13`` was priced
        differently from ``gpt-4o``): a snapshot the table does not name is unknown.
        """
        for candidate in _candidates(model):
            found = self.models.get(candidate)
            if found is not None:
                return found
        return None

    def rates(self, model: str, prompt_tokens: int) -> Rates | None:
        """Per-token rates for a call whose prompt had ``prompt_tokens`` tokens, or None."""
        entry = self.entry(model)
        if entry is None or INPUT not in entry or OUTPUT not in entry:
            return None
        tier = _tier(entry, prompt_tokens)

        def rate(field: str, fallback: float) -> float:
            if tier is not None and f"{field}_above_{tier}k_tokens" in entry:
                return float(entry[f"{field}_above_{tier}k_tokens"])
            return float(entry[field]) if field in entry else fallback

        input_rate = rate(INPUT, 0.0)
        return Rates(
            input_rate, rate(OUTPUT, 0.0), rate(CACHE_READ, input_rate), rate(CACHE_CREATION, input_rate)
        )

    def cost_of_answer(self, provider_kind: str, requested: str, answered: str, usage: Usage) -> float | None:
        """What a call cost, priced by the model asked for, or by the model that answered when
        only that one is in the table (a dated alias, say)."""
        cost = self.cost_usd(provider_kind, requested, usage)
        if cost is None and answered != requested:
            cost = self.cost_usd(provider_kind, answered, usage)
        return cost

    def cost_usd(self, provider_kind: str, model: str, usage: Usage) -> float | None:
        """What the call cost in USD under the provider kind's formula; None when unpriced."""
        if provider_kind not in PROVIDER_KINDS:
            raise ValueError(
                f"unknown provider kind {provider_kind!r}; use one of {', '.join(PROVIDER_KINDS)}"
            )
        if provider_kind == "offline":
            return 0.0
        total_prompt = prompt_tokens(provider_kind, usage)
        rates = self.rates(model, total_prompt)
        if rates is None:
            return None
        if provider_kind == "openai":
            cached = min(usage.cached_input_tokens, usage.input_tokens)
            return (
                (usage.input_tokens - cached) * rates.input
                + cached * rates.cache_read
                + usage.output_tokens * rates.output
            )
        return (
            usage.input_tokens * rates.input
            + usage.cache_creation_tokens * rates.cache_creation
            + usage.cached_input_tokens * rates.cache_read
            + usage.output_tokens * rates.output
        )


def prompt_tokens(provider_kind: str, usage: Usage) -> int:
    """Every prompt token the call processed, cached or not, whichever way the kind counts
    (any kind but Anthropic counts them OpenAI's way, inside ``input_tokens``)."""
    if provider_kind == "anthropic":
        return usage.input_tokens + usage.cache_creation_tokens + usage.cached_input_tokens
    return usage.input_tokens


def cost_usd(provider_kind: str, model: str, usage: Usage, table: PriceTable | None = None) -> float | None:
    """``usage`` in USD for ``model`` (the vendored table unless ``table`` is given)."""
    return (table or PriceTable.load()).cost_usd(provider_kind, model, usage)


def _checked_override(name: str, fields: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for field, value in fields.items():
        base = m.group("base") if (m := _TIER.match(field)) else field
        if base not in _RATE_FIELDS:
            raise ValidationFailed(
                f"llm_prices.{name}.{field}: not a price field; use {', '.join(_RATE_FIELDS)} "
                "(optionally with an _above_<N>k_tokens suffix)"
            )
        if value < 0:
            raise ValidationFailed(f"llm_prices.{name}.{field}: a price cannot be negative")
        out[field] = float(value)
    return out


def _tier(entry: Mapping[str, Any], prompt_tokens: int) -> int | None:
    """The highest ``_above_<N>k_tokens`` threshold the prompt exceeds, if the entry has one."""
    passed = [
        int(m.group("k"))
        for key in entry
        if (m := _TIER.match(key))
        and m.group("base") in _RATE_FIELDS
        and prompt_tokens > int(m.group("k")) * 1000
    ]
    return max(passed, default=None)


def _candidates(model: str) -> list[str]:
    names = [model, model.lower()]
    if "/" in model:
        names.append(model.rsplit("/", 1)[1].lower())
    return list(dict.fromkeys(names))
