"""Writes submitted by callers that must not block (an event loop's): they share commits with
each other and with waiting threads, each learns its own outcome from its future, and one bad
write never takes the others with it."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from overture.errors import LeaseLost
from overture.storage.group_commit import GroupCommit

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


class Storage:
    """A transaction that can be held open, recording what each commit carried."""

    def __init__(self) -> None:
        self.commits: list[list[str]] = []
        self.held = threading.Event()
        self.held.set()
        self.entered = threading.Event()
        self.threads: set[str] = set()

    @contextmanager
    def transaction(self) -> Iterator[list[str]]:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        assert self.held.wait(10)
        batch: list[str] = []
        yield batch
        self.commits.append(batch)


def write(name: str) -> Any:
    def run(batch: list[str]) -> str:
        batch.append(name)
        return f"{name} written by {WHO.get()}"

    return run


def test_writes_submitted_while_a_batch_commits_share_the_next_commit() -> None:
    storage = Storage()
    group = GroupCommit(storage.transaction)
    storage.held.clear()
    first = group.submit(write("a"))
    assert storage.entered.wait(10)  # the group's own thread is committing "a"
    rest = [group.submit(write(name)) for name in "bcde"]
    storage.held.set()
    assert first.result(10) == "a written by nobody"
    assert [f.result(10) for f in rest] == [f"{n} written by nobody" for n in "bcde"]
    assert storage.commits == [["a"], ["b", "c", "d", "e"]]
    assert all(t.startswith("overture-commit") for t in storage.threads)  # no caller thread parked
    group.close()


def test_a_write_runs_in_the_context_of_the_caller_who_submitted_it() -> None:
    group = GroupCommit(Storage().transaction)

    async def sender(name: str) -> str:
        WHO.set(name)
        return await asyncio.wrap_future(group.submit(write(name)))

    async def both() -> list[str]:
        return list(await asyncio.gather(sender("x"), sender("y")))

    assert asyncio.run(both()) == ["x written by x", "y written by y"]
    group.close()


def test_a_failing_submitted_write_fails_alone() -> None:
    storage = Storage()
    group = GroupCommit(storage.transaction, isolated=(LeaseLost,))
    storage.held.clear()
    leading = group.submit(write("lead"))
    assert storage.entered.wait(10)

    def lost(_batch: list[str]) -> str:
        raise LeaseLost("lease lost to another worker")

    def broken(_batch: list[str]) -> str:
        raise RuntimeError("disk on fire")

    expected = group.submit(lost)
    unexpected = group.submit(broken)
    fine = group.submit(write("fine"))
    storage.held.set()
    assert leading.result(10) == "lead written by nobody"
    with pytest.raises(LeaseLost):
        expected.result(10)
    with pytest.raises(RuntimeError, match="disk on fire"):
        unexpected.result(10)
    assert fine.result(10) == "fine written by nobody"
    # The batch with the unexpected error was rolled back and each write retried alone.
    assert storage.commits[0] == ["lead"] and ["fine"] in storage.commits[1:]
    group.close()


def test_waiting_threads_and_submitted_writes_are_all_committed_whoever_leads() -> None:
    storage = Storage()
    group = GroupCommit(storage.transaction)
    results: list[str] = []
    storage.held.clear()
    leader = threading.Thread(target=lambda: results.append(group.run(write("t0"))), name="caller-0")
    leader.start()
    assert storage.entered.wait(10)  # a caller's own thread leads the first batch
    futures = [group.submit(write(f"s{i}")) for i in range(3)]
    callers = [
        threading.Thread(target=lambda i=i: results.append(group.run(write(f"t{i}"))), name=f"caller-{i}")
        for i in range(1, 3)
    ]
    for t in callers:
        t.start()
    while group.queued < 5:
        threading.Event().wait(0.001)
    storage.held.set()
    for t in [leader, *callers]:
        t.join(10)
    assert sorted(f.result(10) for f in futures) == [f"s{i} written by nobody" for i in range(3)]
    assert sorted(results) == [f"t{i} written by nobody" for i in range(3)]
    assert sorted(name for batch in storage.commits for name in batch) == ["s0", "s1", "s2", "t0", "t1", "t2"]
    assert len(storage.commits) == 2  # the first write, then everything that queued behind it
    group.close()


def test_a_write_cancelled_before_its_batch_began_is_not_run() -> None:
    storage = Storage()
    group = GroupCommit(storage.transaction)
    storage.held.clear()
    first = group.submit(write("a"))
    assert storage.entered.wait(10)
    given_up = group.submit(write("given up"))
    kept = group.submit(write("kept"))
    assert given_up.cancel()  # its caller went away while it waited
    assert not first.cancel()  # running: it runs to its end
    storage.held.set()
    assert kept.result(10) == "kept written by nobody"
    assert first.result(10) == "a written by nobody"
    assert storage.commits == [["a"], ["kept"]]
    group.close()
