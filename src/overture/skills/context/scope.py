"""The period a skill is about, taken from the skill when it states one.

A weekly ritual says so in its ``argument-hint`` (``[this|next|YYYY-Www]``), its date
argument, its Context ("Calendar events for the upcoming week") or its description. Run with
``--date tomorrow``, such a skill plans tomorrow's week, not one day of it; run with no date,
"the upcoming week" is the week from next Monday (today, on a Monday).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from overture.skills.context.dates import MON_FRI, ResolvedDate, Scope, resolve_date, widen
from overture.skills.skillfile import SkillFile

_WORDS = {
    Scope.DAY: re.compile(r"\b(?:day|daily|today|tomorrow|yesterday)\b|YYYY-MM-DD", re.IGNORECASE),
    Scope.WEEK: re.compile(r"\b(?:week|weekly|weeks)\b|YYYY-W", re.IGNORECASE),
    Scope.MONTH: re.compile(r"\b(?:month|monthly|months)\b|YYYY-MM(?!-)", re.IGNORECASE),
}
_UPCOMING = re.compile(r"\b(?:upcoming|coming)\s+(?:week|month)\b", re.IGNORECASE)
_CALENDAR = re.compile(r"\bcalendars?\b|\bschedule\b|\bagenda\b|\bevents\b|\bmeetings\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SkillScope:
    """The skill's period (None: it does not say), whether it means the upcoming one, and the
    words it was read from."""

    scope: Scope | None
    upcoming: bool = False
    source: str = ""


def _texts(skill: SkillFile) -> list[tuple[str, str]]:
    date_arg = skill.arguments.get("date")
    texts = [("argument-hint", skill.argument_hint)]
    texts.append(("the date argument", date_arg.description if date_arg else ""))
    texts.extend(("the Context", b.text) for b in skill.bullets if _CALENDAR.search(b.text))
    texts.append(("the description", skill.description))
    texts.append(("the name", skill.name.replace("-", " ")))
    return [(where, text) for where, text in texts if text]


def skill_scope(skill: SkillFile) -> SkillScope:
    """Pure: the first text that names exactly one of day, week and month decides."""
    upcoming = any(_UPCOMING.search(text) for _, text in _texts(skill))
    for where, text in _texts(skill):
        named = [scope for scope, pattern in _WORDS.items() if pattern.search(text)]
        if len(named) == 1:
            return SkillScope(named[0], upcoming and named[0] is not Scope.DAY, where)
    return SkillScope(None)


def resolve_for(
    skill: SkillFile,
    expression: str | None,
    now: datetime,
    tz: str | tzinfo = "UTC",
    workdays: frozenset[int] = MON_FRI,
) -> ResolvedDate:
    """The run's date: the expression, else the skill's default (``upcoming week`` for a skill
    about the upcoming week), widened to the skill's scope when the skill states a wider one."""
    stated = skill_scope(skill)
    default = skill.default_for("date")
    if default is None and stated.upcoming and stated.scope is not None:
        default = f"upcoming {stated.scope.value}" if stated.scope is Scope.WEEK else "next month"
    resolved = resolve_date(expression or default, now, tz, workdays)
    if stated.scope is not None:
        return widen(resolved, stated.scope, workdays)
    return resolved
