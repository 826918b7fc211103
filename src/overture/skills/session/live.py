"""A session whose person is elsewhere (a browser): what is said goes into an ordered list of
entries that a page renders or streams, and each question waits for an answer posted later.

Entries only grow, so a page that has seen ``n`` of them asks for what came after ``n``; a
model's streamed text arrives as ``stream`` entries, one per piece, from the model's thread.
Cancelling or ending while a question waits fails that question the way Ctrl-C or Ctrl-D
does in the terminal; before a question, the next question fails.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from overture.skills.session.conversation import Question, SessionCancelled, SessionEnded


@dataclass(frozen=True)
class Entry:
    """One thing shown: ``say``, ``stream`` (a piece of a model's turn), ``ask`` (with the
    question's key and offered answer), ``answer``, or ``done`` (the summary)."""

    kind: str
    text: str
    key: str = ""
    default: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text, "key": self.key, "default": self.default}


class LiveConversation:
    """The browser's side of a session, held on the server's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.entries: list[Entry] = []
        self.question: Question | None = None
        self.finished = False
        self._waiting: asyncio.Future[str] | None = None
        self._stop: BaseException | None = None
        self._changed = asyncio.Event()

    def _add(self, entry: Entry) -> None:
        self.entries.append(entry)
        self._changed.set()

    async def say(self, text: str) -> None:
        self._add(Entry("say", text))

    def stream(self, chunk: str) -> None:
        self.loop.call_soon_threadsafe(self._add, Entry("stream", chunk))

    async def ask(self, question: Question) -> str:
        if self._stop is not None:
            raise self._stop
        self.question = question
        self._waiting = self.loop.create_future()
        self._add(Entry("ask", question.text, question.key, question.default))
        try:
            return await self._waiting
        finally:
            self.question = None
            self._waiting = None

    def unused(self) -> list[str]:
        return []

    def answer(self, text: str) -> bool:
        """Answer the waiting question (an empty answer takes the offered one); False when
        nothing is waiting."""
        if self._waiting is None or self._waiting.done() or self.question is None:
            return False
        given = text.strip() or self.question.default
        self._add(Entry("answer", given))
        self._waiting.set_result(given)
        return True

    def cancel(self) -> None:
        self._fail(SessionCancelled())

    def end(self) -> None:
        self._fail(SessionEnded())

    def _fail(self, reason: BaseException) -> None:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_exception(reason)
        else:
            self._stop = reason

    def close(self, summary: str) -> None:
        """The session is over: ``summary`` is its last entry."""
        self.finished = True
        self._add(Entry("done", summary))

    async def after(self, seen: int) -> list[Entry]:
        """The entries after the first ``seen``, waiting for one when there are none yet."""
        while len(self.entries) <= seen and not self.finished:
            self._changed.clear()
            await self._changed.wait()
        return self.entries[seen:]
