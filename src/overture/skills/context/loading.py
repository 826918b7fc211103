"""The loaded context as the seed shows it: "Loading context for planning-daily:" and then each
block under its title. This text is what the model reads before the skill's prose, so what is
missing is said here too, and the prose can adapt to it."""

from __future__ import annotations

from collections.abc import Iterable

from overture.skills.context.dates import ResolvedDate
from overture.skills.providers.base import Availability, NeedResult
from overture.skills.skillfile import Bullet


def render_loading(
    skill: str,
    date: ResolvedDate | None,
    results: Iterable[NeedResult],
    unrecognised: Iterable[Bullet] = (),
) -> str:
    """Pure: the context message for ``skill`` from the fulfilled needs."""
    parts = [f"Loading context for {skill}:"]
    if date is not None:
        parts.append(
            f"Date: {date.label} ({date.relative}, scope {date.scope.value}, time zone {date.timezone})"
        )
    for result in results:
        if result.availability is Availability.UNAVAILABLE:
            parts.append(f"{result.need.label}: {result.summary}")
            continue
        if not result.blocks:
            parts.append(f"{result.need.label}: {result.summary}")
        for block in result.blocks:
            parts.append(f"{block.title}:\n{block.body}")
        parts.extend(f"{result.need.label}: ⚠ {problem}" for problem in result.problems)
    parts.extend(
        f'Not understood: "{b.text}" (line {b.line}); nothing was loaded for it' for b in unrecognised
    )
    return "\n\n".join(parts) + "\n"
