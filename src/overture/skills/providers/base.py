"""What a provider is given and what it gives back.

A provider turns one need into a :class:`NeedResult`: blocks of text for the "Loading context"
message, a line for the summary, the sources it read, and structured data the offline model
can draft from. It never raises past :func:`overture.skills.context.fulfil.fulfil`: a failure becomes
an unavailable need, because a missing source degrades a run, it never aborts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from overture.errors import SourceUnavailable
from overture.skills.context.dates import ResolvedDate
from overture.skills.context.needs import Need

if TYPE_CHECKING:
    from overture.skills.providers.calendar import CalendarEvent, CalendarSource
    from overture.skills.providers.vault import Vault


class Availability(StrEnum):
    LOADED = "loaded"
    PARTIAL = "partial"
    UNAVAILABLE = "unavailable"
    ABSENT = "absent"  # asked for only if it exists, and it does not: nothing is wrong


@dataclass(frozen=True, slots=True)
class Block:
    """A titled piece of loaded context, as it appears under "Loading context for …"."""

    title: str
    body: str
    source: str | None = None


@dataclass(frozen=True)
class NeedResult:
    """The outcome for one need. ``problems`` name what is missing (a person with no note);
    any problem makes the run degraded, even when the rest of the need loaded."""

    need: Need
    availability: Availability
    summary: str
    blocks: tuple[Block, ...] = ()
    sources: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    count: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    ms: float = 0.0

    @property
    def degraded(self) -> bool:
        ok = (Availability.LOADED, Availability.ABSENT)
        return self.availability not in ok or bool(self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "need": self.need.label,
            "kind": self.need.kind,
            "text": self.need.text,
            "availability": self.availability.value,
            "summary": self.summary,
            "count": self.count,
            "sources": list(self.sources),
            "problems": list(self.problems),
            "ms": round(self.ms, 1),
        }


def describe(exc: BaseException) -> str:
    """A failure as the summary names it: a SourceUnavailable's own words, else type and message."""
    return str(exc) if isinstance(exc, SourceUnavailable) else f"{type(exc).__name__}: {exc}"


def unavailable(need: Need, reason: str, ms: float = 0.0) -> NeedResult:
    """A need that could not be fulfilled, with the reason the summary shows."""
    return NeedResult(need, Availability.UNAVAILABLE, f"⚠ Unavailable ({reason})", problems=(reason,), ms=ms)


class FulfilEnv:
    """Everything providers share in one run: the date, the zone, the vault and the calendar.

    The calendar is fetched at most once per run and shared, because both the calendar need
    and the people need (1:1 attendees) read it, and they run at the same time.
    """

    def __init__(
        self,
        target: ResolvedDate,
        tz: tzinfo,
        now: datetime,
        vault: Vault | None = None,
        calendar: CalendarSource | None = None,
    ) -> None:
        self.target = target
        self.tz = tz
        self.now = now
        self.vault = vault
        self.calendar = calendar
        self._events: asyncio.Future[list[CalendarEvent]] | None = None

    async def events(self) -> list[CalendarEvent]:
        """The period's calendar events, fetched once (in a thread: sources do blocking I/O)."""
        if self.calendar is None:
            raise SourceUnavailable("no calendar is configured")
        if self._events is None:
            source = self.calendar
            self._events = asyncio.ensure_future(
                asyncio.to_thread(source.events, self.target.start, self.target.end, self.tz)
            )
            # A waiter that timed out leaves nobody to read a late failure; read it here.
            self._events.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(self._events)

    def require_vault(self) -> Vault:
        if self.vault is None:
            raise SourceUnavailable("no vault is configured")
        if not self.vault.root.is_dir():
            raise SourceUnavailable(f"the vault folder {self.vault.root} does not exist")
        return self.vault


Provider = Callable[[Need, FulfilEnv], "Awaitable[Any] | Any"]
