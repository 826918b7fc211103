"""Ids sort in the order they were made, within one millisecond and when the clock steps back,
so listings ordered by id (newest first, oldest first) are in the order things happened."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from overture import ids
from overture.ids import new_id


def test_ids_made_within_one_millisecond_sort_in_the_order_they_were_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ids, "_newest", ids._Newest())  # as in a new process, and put back after
    ms = 1_764_000_000_123
    monkeypatch.setattr(time, "time", lambda: ms / 1000)
    made = [new_id() for _ in range(10_000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert {i[:12] for i in made} <= {f"{ms:012x}", f"{ms + 1:012x}"}


def test_ids_keep_their_order_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ids, "_newest", ids._Newest())
    now = [1_764_000_005.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    before = new_id()
    now[0] -= 3.0  # the clock set back by three seconds
    after = new_id()
    assert before < after


def test_ids_from_many_threads_are_unique_and_well_formed() -> None:
    with ThreadPoolExecutor(8) as pool:
        made = [i for chunk in pool.map(lambda _: [new_id() for _ in range(2_000)], range(8)) for i in chunk]
    assert len(set(made)) == len(made) == 16_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in made)
