"""Answers read after the commit (``Pending(after_commit=True)``): they are read only once the
batch committed, one write's failure then is its own, and the batch is never run again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from overture.errors import LeaseLost
from overture.storage.group_commit import GroupCommit, Pending


def test_answers_after_the_commit_are_read_then_and_fail_alone() -> None:
    log: list[str] = []

    @contextmanager
    def transaction() -> Iterator[list[str]]:
        log.append("begin")
        yield log
        log.append("commit")

    group = GroupCommit(transaction, isolated=(LeaseLost,), sync=lambda _s: log.append("sync"))

    def fenced(ok: bool) -> Any:
        def write(session: list[str]) -> Pending[str]:
            session.append("write")

            def answer() -> str:
                log.append("read")
                if not ok:
                    raise LeaseLost("lease lost to another worker")
                return "advanced"

            return Pending(answer, after_commit=True)

        return write

    assert group.run(fenced(True)) == "advanced"
    assert log == ["begin", "write", "commit", "read"]  # no round trip of its own before the commit
    log.clear()
    with pytest.raises(LeaseLost):
        group.run(fenced(False))
    assert log == ["begin", "write", "commit", "read"]  # not rolled back and run again
    log.clear()
    assert group.run(lambda s: Pending(lambda: log.append("read") or "claimed")) == "claimed"
    assert log == ["begin", "sync", "read", "commit"]  # an answer the transaction still needs
