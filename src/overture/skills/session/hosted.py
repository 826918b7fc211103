"""Skill sessions held for people elsewhere (the console), reachable from every server process.

The conversation runs where it was started: a :class:`LiveConversation` on this process's
event loop. Everything else goes through the database, so the page, the answers and the stream
can reach any process (``serve --http-workers``, several hosts on PostgreSQL):

- a pump copies what the session says into ``skill_session_entries`` as it is said (a model's
  streamed pieces joined per copy), and hands the conversation what the person sent, from
  ``skill_session_inputs``;
- readers poll the entries; the holder beats every few seconds, and a session whose holder
  stopped beating is reported lost instead of waiting for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta

from overture.clock import Clock
from overture.ids import new_id
from overture.skills.session.live import Entry, LiveConversation
from overture.storage.queries import skill_sessions as q
from overture.storage.store import Store

log = logging.getLogger("overture.skills")
Holding = Callable[[LiveConversation], Coroutine[None, None, None]]
PUMP_EVERY_S = 0.1
READ_EVERY_S = 0.15
BEAT_EVERY = timedelta(seconds=5)
LOST_AFTER = timedelta(seconds=30)
KEEP_FINISHED = 5
ACTIONS = ("answer", "end", "cancel")


@dataclass
class _Local:
    """A session this process holds: its conversation, how much of it is copied, its task."""

    live: LiveConversation
    copied: int = 0
    seq: int = 0
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class SessionView:
    """What a page shows of a session: the row and everything said so far."""

    row: q.SessionRow
    entries: list[Entry]
    lost: bool = False

    @property
    def finished(self) -> bool:
        return self.row.status != q.OPEN or self.lost

    @property
    def question(self) -> Entry | None:
        """The question waiting for an answer: the last thing said, if it asked."""
        last = self.entries[-1] if self.entries else None
        return last if last is not None and last.kind == "ask" and not self.finished else None


def _entry(row: dict[str, str]) -> Entry:
    return Entry(row["kind"], row["text"], row["key"], row["default"])


def _joined(entries: list[Entry]) -> list[Entry]:
    """Consecutive streamed pieces as one entry: fewer rows, the same text."""
    out: list[Entry] = []
    for e in entries:
        if e.kind == "stream" and out and out[-1].kind == "stream":
            out[-1] = Entry("stream", out[-1].text + e.text)
        else:
            out.append(e)
    return out


@dataclass
class SessionHost:
    """This process's sessions, and the way to every process's sessions through the store."""

    store: Store
    clock: Clock
    holder: str = field(default_factory=new_id)
    _local: dict[str, _Local] = field(default_factory=dict)
    _pump: asyncio.Task[None] | None = None
    _wake: asyncio.Event | None = None
    _beaten: float = 0.0

    async def start(self, org_id: str, user_id: str, skill: str, hold: Holding) -> str:
        """Record a new session of ``skill``, start holding it here, return its id."""
        now = self.clock.now()
        row = q.SessionRow(new_id(), org_id, user_id, skill, self.holder, q.OPEN, now, now)
        await asyncio.to_thread(self._insert, row)
        local = _Local(LiveConversation())
        local.task = asyncio.create_task(hold(local.live))
        self._local[row.id] = local
        if self._pump is None or self._pump.done():
            self._wake = asyncio.Event()
            self._pump = asyncio.create_task(self._run_pump())
        return row.id

    def _insert(self, row: q.SessionRow) -> None:
        with self.store.write() as conn:
            q.insert_session(conn, row)
            mine = q.sessions_of(conn, row.org_id, row.user_id)
            over = [s.id for s in mine if s.status != q.OPEN]
            q.forget(conn, over[:-KEEP_FINISHED])

    def view(self, session_id: str, org_id: str, user_id: str) -> SessionView | None:
        """The session as its person sees it; None for anyone else."""
        with self.store.read() as conn:
            row = q.get_session(conn, session_id, org_id, user_id)
            rows = q.entries_after(conn, session_id, 0) if row is not None else []
        if row is None:
            return None
        return SessionView(row, [_entry(r) for r in rows], self._lost(row))

    def sessions(self, org_id: str, user_id: str) -> list[SessionView]:
        with self.store.read() as conn:
            rows = q.sessions_of(conn, org_id, user_id)
        return [SessionView(r, [], self._lost(r)) for r in rows]

    def _lost(self, row: q.SessionRow) -> bool:
        if row.status == q.LOST:
            return True
        if row.status != q.OPEN or row.holder == self.holder:
            return False
        return row.seen_at < self.clock.now() - LOST_AFTER

    async def send(self, session_id: str, action: str, text: str = "") -> None:
        """Pass an answer, or end or cancel, to the session wherever it is held."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        await asyncio.to_thread(self._add_input, session_id, action, text)
        if session_id in self._local and self._wake is not None:
            self._wake.set()

    def _add_input(self, session_id: str, action: str, text: str) -> None:
        with self.store.write() as conn:
            q.add_input(conn, session_id, action, text, self.clock.now())

    async def follow(self, session_id: str, seen: int) -> AsyncIterator[tuple[int, Entry]]:
        """Each entry after the first ``seen`` as it is recorded, with its number, until the
        session is over (or lost) and all it said was given."""
        while True:
            rows, status, lost = await asyncio.to_thread(self._read_after, session_id, seen)
            for row in rows:
                seen = int(row["seq"])
                yield seen, _entry(row)
            if status != q.OPEN or lost:
                return
            if not rows:
                await asyncio.sleep(READ_EVERY_S)

    def _read_after(self, session_id: str, seen: int) -> tuple[list[dict[str, str]], str, bool]:
        with self.store.read() as conn:
            rows = q.entries_after(conn, session_id, seen)
            found = q.session_by_id(conn, session_id)
        if found is None:
            return rows, q.LOST, True
        return rows, found.status, self._lost(found)

    async def _run_pump(self) -> None:
        """Copy entries out and inputs in until this process holds no session."""
        while self._local:
            try:
                await self._pump_once()
            except Exception as exc:  # a database hiccup must not drop the sessions held here
                log.warning("skill sessions: copying failed, trying again: %s", type(exc).__name__)
            if self._wake is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PUMP_EVERY_S):
                        await self._wake.wait()
                self._wake.clear()

    async def _pump_once(self) -> None:
        inputs = await asyncio.to_thread(self._take_inputs, list(self._local))
        for given in inputs:
            local = self._local.get(given.session_id)
            if local is None:
                continue
            live = local.live
            if given.action == "answer":
                live.answer(given.text)
            else:
                {"end": live.end, "cancel": live.cancel}[given.action]()
        if inputs:
            await asyncio.sleep(0)  # let the session take the answer and say what comes next
        batch: dict[str, tuple[int, list[Entry], bool]] = {}
        copied: dict[str, int] = {}
        for session_id, local in self._local.items():
            done = local.live.finished  # read first: entries said before it are all copied
            fresh = local.live.entries[local.copied :]
            if fresh or done:
                batch[session_id] = (local.seq + 1, _joined(fresh), done)
                copied[session_id] = len(fresh)
        loop = asyncio.get_running_loop()
        beat = loop.time() - self._beaten >= BEAT_EVERY.total_seconds()
        if batch or beat:
            await asyncio.to_thread(self._write, batch, beat)
            if beat:
                self._beaten = loop.time()
        for session_id, (first, entries, done) in batch.items():
            local = self._local[session_id]
            local.copied += copied[session_id]
            local.seq = first - 1 + len(entries)
            if done:
                del self._local[session_id]

    def _take_inputs(self, session_ids: list[str]) -> list[q.InputRow]:
        now = self.clock.now()
        with self.store.read() as conn:
            waiting = q.pending_inputs(conn, session_ids)
        if not waiting:
            return []
        with self.store.write() as conn:
            return q.take_inputs(conn, session_ids, now)

    def _write(self, batch: dict[str, tuple[int, list[Entry], bool]], beat: bool) -> None:
        now = self.clock.now()
        with self.store.write() as conn:
            for session_id, (first, entries, done) in batch.items():
                q.append_entries(conn, session_id, first, [e.as_dict() for e in entries])
                if done:
                    q.set_status(conn, session_id, q.OVER, now)
            if beat:
                q.beat(conn, self.holder, now)
