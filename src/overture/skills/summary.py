"""The orchestrator summary in the seed's format: what was loaded (with counts and sources),
what was done and decided, and a status that says what happened:

- ``Complete``: a session with the person ran to its end with everything loaded;
- ``Complete (degraded)``: the same, with something unavailable or stale, each named;
- ``Cancelled``: the person cancelled the session (nothing half-written);
- ``Drafted (no session)``: the prose was not run with the person (a one-pass model run, or
  the offline draft).

It is the run's record for people and for debugging, so it is pure and exact."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from overture.skills.providers.base import Availability, NeedResult
from overture.skills.skillfile import Bullet


class RunStatus(StrEnum):
    COMPLETE = "Complete"
    DEGRADED = "Complete (degraded)"
    CANCELLED = "Cancelled"
    DRAFTED = "Drafted (no session)"


class Outcome(StrEnum):
    """How the prose was run: with the person to the end, cancelled by them, or without them."""

    SESSION = "session"
    CANCELLED = "cancelled"
    DRAFTED = "drafted"


@dataclass(frozen=True)
class Summary:
    """The parts of the summary; :func:`render_summary` writes the markdown."""

    skill: str
    status: RunStatus
    context: tuple[str, ...]
    actions: tuple[str, ...]
    unavailable: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.skill,
            "status": self.status.value,
            "context": list(self.context),
            "actions": list(self.actions),
            "unavailable": list(self.unavailable),
            "summary": render_summary(self),
        }


def _context_line(result: NeedResult) -> str:
    line = f"{result.need.label}: {result.summary}"
    if (
        result.sources
        and result.availability is not Availability.UNAVAILABLE
        and result.need.kind != "calendar"
    ):
        line += f" [{', '.join(result.sources)}]"
    return line


def summarise(
    skill: str,
    results: Iterable[NeedResult],
    unrecognised: Iterable[Bullet] = (),
    actions: Iterable[str] = (),
    direct: bool = False,
    outcome: Outcome = Outcome.SESSION,
    problems: Iterable[str] = (),
) -> Summary:
    """Pure: the summary of one run. Any unavailable, partial or stale need, any bullet nothing
    recognised, and any problem of the session (``problems``) makes a session degraded, and
    each is named; a cancelled or drafted run says so whatever loaded."""
    results = list(results)
    context = [_context_line(r) for r in results]
    missing: list[str] = []
    for r in results:
        missing.extend(f"{r.need.label}: {problem}" for problem in r.problems)
    for bullet in unrecognised:
        context.append(f'Not understood: "{bullet.text}" (line {bullet.line})')
        missing.append(f'"{bullet.text}": no need type recognises it')
    if direct:
        context.append("None: the skill runs directly (no orchestrated Context section)")
    missing.extend(problems)
    status = RunStatus.DEGRADED if missing else RunStatus.COMPLETE
    if outcome is Outcome.CANCELLED:
        status = RunStatus.CANCELLED
    elif outcome is Outcome.DRAFTED:
        status = RunStatus.DRAFTED
    return Summary(
        skill=skill,
        status=status,
        context=tuple(context),
        actions=tuple(actions) or ("No actions taken",),
        unavailable=tuple(missing),
    )


def render_summary(summary: Summary) -> str:
    """The markdown block the seed shows, fenced by horizontal rules."""
    lines = [
        "---",
        f"**Orchestrator Summary: {summary.skill}**",
        "",
        "**Context Loaded:**",
        *(f"- {c}" for c in summary.context),
        "",
        "**Actions Taken:**",
        *(f"- {a}" for a in summary.actions),
        "",
        f"**Status:** {summary.status.value}",
    ]
    if summary.unavailable:
        lines += ["", "**Unavailable:**", *(f"- {u}" for u in summary.unavailable)]
    return "\n".join([*lines, "---"])
