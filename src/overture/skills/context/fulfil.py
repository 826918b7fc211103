"""Fulfilment: every need's provider at once, each with its own timeout.

The seed spawns its sub-agents in parallel; here they are coroutines (blocking providers run in
threads), so three half-second sources cost half a second, not one and a half. A provider that
raises, times out, or does not exist makes its need unavailable and nothing else: the run goes
on with what it has (the seed's degraded execution).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from overture.skills.context.needs import Need
from overture.skills.providers.base import (
    Availability,
    Block,
    FulfilEnv,
    NeedResult,
    Provider,
    describe,
    unavailable,
)

DEFAULT_TIMEOUT_S = 10.0


async def fulfil(
    needs: Iterable[Need],
    providers: Mapping[str, Provider],
    env: FulfilEnv,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[NeedResult]:
    """One result per need, in the needs' order."""
    calls = [_one(need, providers.get(need.kind), env, timeout_s) for need in needs]
    return list(await asyncio.gather(*calls))


async def _one(need: Need, provider: Provider | None, env: FulfilEnv, timeout_s: float) -> NeedResult:
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    if provider is None:
        return unavailable(need, f"nothing provides {need.kind!r} needs")
    try:
        value = await asyncio.wait_for(_call(provider, need, env), timeout_s)
    except TimeoutError:
        return unavailable(need, f"timed out after {timeout_s:g}s", elapsed())
    except Exception as exc:
        return unavailable(need, describe(exc), elapsed())
    return replace(as_result(need, value), ms=elapsed())


async def _call(provider: Provider, need: Need, env: FulfilEnv) -> Any:
    if inspect.iscoroutinefunction(provider):
        return await provider(need, env)
    value = await asyncio.to_thread(provider, need, env)
    if inspect.isawaitable(value):
        value = await value
    return value


def as_result(need: Need, value: Any) -> NeedResult:
    """What a pack's provider returned, as a NeedResult: text is loaded as is, anything else
    as JSON; None means the source had nothing, which is unavailable."""
    if isinstance(value, NeedResult):
        return value
    if value is None:
        return unavailable(need, "the source returned nothing")
    if isinstance(value, str):
        return NeedResult(need, Availability.LOADED, "Loaded", blocks=(Block(need.label, value.strip()),))
    count = len(value) if isinstance(value, list | tuple | dict) else None
    body = json.dumps(value, indent=2, default=str, sort_keys=True)
    summary = f"{count} loaded" if count is not None else "Loaded"
    data = {"value": json.loads(json.dumps(value, default=str))}
    return NeedResult(
        need, Availability.LOADED, summary, blocks=(Block(need.label, body),), count=count, data=data
    )
