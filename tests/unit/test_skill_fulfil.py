"""Fulfilment: providers run together, each with a timeout; failures degrade, never abort."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from overture.errors import SourceUnavailable
from overture.skills.context.dates import resolve_date, zone
from overture.skills.context.fulfil import as_result, fulfil
from overture.skills.context.needs import Need, NeedRegistry
from overture.skills.providers.base import Availability, FulfilEnv
from overture.skills.providers.builtin import BUILTIN_PROVIDERS
from overture.skills.providers.calendar import CalendarEvent, CallableCalendar
from overture.skills.providers.vault import Vault
from overture.skills.skillfile import Bullet

NOW = datetime(2026, 2, 17, 8, 0, tzinfo=UTC)


def env(calendar: Any = None) -> FulfilEnv:
    return FulfilEnv(resolve_date("today", NOW, "UTC"), zone("UTC"), NOW, None, calendar)


def need(kind: str, label: str | None = None) -> Need:
    return Need(kind, label or kind.title(), f"{kind} please", 1)


def test_three_slow_providers_complete_together() -> None:
    """Three providers that each take 0.5 s (two blocking, one async) finish in well under 1.5 s."""

    def blocking(n: Need, e: FulfilEnv) -> str:
        time.sleep(0.5)
        return f"{n.kind} done"

    async def waiting(n: Need, e: FulfilEnv) -> str:
        await asyncio.sleep(0.5)
        return f"{n.kind} done"

    providers = {"a": blocking, "b": blocking, "c": waiting}
    started = time.perf_counter()
    results = asyncio.run(fulfil([need("a"), need("b"), need("c")], providers, env(), timeout_s=5))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.2
    assert [(r.need.kind, r.availability, r.blocks[0].body) for r in results] == [
        ("a", Availability.LOADED, "a done"),
        ("b", Availability.LOADED, "b done"),
        ("c", Availability.LOADED, "c done"),
    ]
    assert all(r.ms >= 450 for r in results)


def test_a_slow_provider_times_out_and_the_others_still_load() -> None:
    """A provider past its timeout is unavailable, named with the timeout; the rest load."""

    async def stuck(n: Need, e: FulfilEnv) -> str:
        await asyncio.sleep(5)
        return "never"

    def quick(n: Need, e: FulfilEnv) -> str:
        return "fine"

    started = time.perf_counter()
    results = asyncio.run(fulfil([need("slow"), need("quick")], {"slow": stuck, "quick": quick}, env(), 0.2))
    assert time.perf_counter() - started < 1.0
    assert results[0].availability is Availability.UNAVAILABLE
    assert results[0].summary == "⚠ Unavailable (timed out after 0.2s)"
    assert results[1].availability is Availability.LOADED


def test_failing_and_missing_providers_mark_only_their_need_unavailable() -> None:
    """An exception, a SourceUnavailable and a need nobody provides: three reasons, one success."""

    def broken(n: Need, e: FulfilEnv) -> str:
        raise ConnectionError("calendar server refused the connection")

    def down(n: Need, e: FulfilEnv) -> str:
        raise SourceUnavailable("the CRM is in maintenance")

    providers = {"broken": broken, "down": down, "ok": lambda n, e: "loaded"}
    results = asyncio.run(fulfil([need(k) for k in ("broken", "down", "ghost", "ok")], providers, env(), 1))
    assert [r.problems for r in results] == [
        ("ConnectionError: calendar server refused the connection",),
        ("the CRM is in maintenance",),
        ("nothing provides 'ghost' needs",),
        (),
    ]
    assert [r.degraded for r in results] == [True, True, True, False]


def test_calendar_and_people_share_one_calendar_fetch(tmp_path: Path) -> None:
    """The calendar and people needs both read the calendar; the source is asked once."""
    calls: list[tuple[date, date]] = []
    lock = threading.Lock()

    def events(start: date, end: date, tz: tzinfo) -> list[CalendarEvent]:
        with lock:
            calls.append((start, end))
        time.sleep(0.1)
        return [CalendarEvent("1:1 with Sarah Chen", datetime(2026, 2, 17, 14, tzinfo=UTC))]

    people = tmp_path / "02_Areas" / "People"
    people.mkdir(parents=True)
    (people / "Sarah Chen.md").write_text("# Sarah Chen\n")
    registry = NeedRegistry.builtin()
    needs = registry.classify(Bullet("Calendar events", 1)) + registry.classify(Bullet("People for 1:1s", 2))
    shared = FulfilEnv(
        resolve_date("today", NOW, "UTC"), zone("UTC"), NOW, Vault(tmp_path), CallableCalendar(events)
    )
    results = asyncio.run(fulfil(needs, BUILTIN_PROVIDERS, shared, 2))
    assert calls == [(date(2026, 2, 17), date(2026, 2, 17))]
    assert [r.summary for r in results] == ["1 event for 2026-02-17", "Sarah Chen (1:1 at 14:00)"]
    assert results[1].blocks[0].body == "# Sarah Chen"


def test_what_a_pack_provider_returns_is_wrapped() -> None:
    """Text loads as is, lists and dicts as JSON with a count, None is unavailable."""
    n = need("deals", "Deals")
    text = as_result(n, "  two deals  ")
    assert (text.summary, text.blocks[0].title, text.blocks[0].body) == ("Loaded", "Deals", "two deals")
    listed = as_result(n, [{"id": 1}, {"id": 2}])
    assert (listed.summary, listed.count) == ("2 loaded", 2)
    assert dict(listed.data) == {"value": [{"id": 1}, {"id": 2}]}
    assert as_result(n, None).problems == ("the source returned nothing",)
