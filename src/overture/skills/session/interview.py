"""The offline session: an interview that follows the skill's structure, without a model.

No model reads the prose, so the interview is chosen by what the prose writes (Today.md, Week.md,
a review appended to Today.md) and asks what those rituals ask, from the loaded context:

- planning a day: confirm the meetings, agree the top priorities (offering carried items, then
  Week.md's), for each 1:1 what to bring (showing what their note says is open), and focus
  blocks in the free time as the directives shape them;
- planning a week: settle the last archive's carried items, agree at most three outcomes
  (offering the month's open goals), and what to bring to each 1:1;
- reviewing a day: for each open item, tomorrow, later or drop, and how the day felt.

Each returns the note written from the answers and the decisions, which the summary lists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from overture.skills.context.needs import VAULT_FILE
from overture.skills.prose.drafts import DraftInput
from overture.skills.session import material as m
from overture.skills.session.answers import items, numbers, pick, verdict
from overture.skills.session.conversation import Conversation, Question
from overture.skills.session.focus import focus_rules, hhmm, parse_time, propose_blocks

MOST = 3


@dataclass
class Interview:
    """What a session decided: the note to write (or append), its text, and the decisions."""

    note: str
    mode: str
    content: str
    decisions: list[str] = field(default_factory=list)
    closing: str = "User completed the session"


def _minutes(stamp: str | None) -> int | None:
    if not stamp or "T" not in stamp:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment.hour * 60 + moment.minute


def _numbered(lines: Sequence[str]) -> str:
    return "\n".join(f"  {i}. {line}" for i, line in enumerate(lines, 1))


async def _confirm_meetings(
    talk: Conversation, events: list[Mapping[str, Any]], when: str
) -> tuple[list[Mapping[str, Any]], str]:
    if not events:
        await talk.say(f"No meetings on the calendar for {when}.")
        return [], f"No meetings {when}"
    lines = [f"{e['when']}: {e['title']}" for e in events]
    await talk.say(f"Your meetings {when}:\n{_numbered(lines)}")
    answer = await talk.ask(
        Question(
            "meetings",
            "Are they all still happening? Enter keeps them all, or give the numbers to drop.",
            "keep",
        )
    )
    dropped = numbers(answer, len(events))
    kept = [e for i, e in enumerate(events, 1) if i not in dropped]
    decision = f"Confirmed {len(kept)} meeting{'s' if len(kept) != 1 else ''}"
    if dropped:
        decision += "; dropped " + ", ".join(str(events[i - 1]["title"]) for i in dropped)
    return kept, decision


async def _choose(talk: Conversation, key: str, what: str, offers: list[m.Offer]) -> list[str]:
    if offers:
        await talk.say(f"On offer for {what}:\n" + _numbered([f"{o.text} ({o.source})" for o in offers]))
    default = ", ".join(str(i) for i in range(1, min(MOST, len(offers)) + 1))
    question = Question(
        key,
        f"Which {what} (at most {MOST})? Numbers from the list and/or your own, separated by ';'.",
        default,
    )
    return pick(await talk.ask(question), [o.text for o in offers], MOST)


async def _prepare(
    talk: Conversation, people: list[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], str]]:
    prepared = []
    for person in people:
        name = str(person["name"])
        open_items = m.waiting_on(person)
        said = "\n".join(f"  - {t}" for t in open_items) or "  (nothing open in their note)"
        await talk.say(f"1:1 with {name} at {person['when']}. Their note says is open:\n{said}")
        default = "; ".join(open_items)
        answer = await talk.ask(Question(f"bring/{name}", f"What do you want to bring to {name}?", default))
        prepared.append((person, answer.strip()))
    return prepared


async def _focus(
    talk: Conversation, src: DraftInput, kept: list[Mapping[str, Any]]
) -> tuple[list[tuple[int, int]], list[str]]:
    rules = focus_rules(m.directive_lines(src))
    busy = []
    for event in kept:
        start, end = _minutes(event.get("start")), _minutes(event.get("end"))
        if start is not None:
            busy.append((start, end if end is not None and end > start else start + 30))
    blocks = propose_blocks(rules, busy)
    if not blocks:
        await talk.say("There is no free time long enough for a focus block today.")
        return [], ["No room for a focus block"]
    why = "; ".join(rules.source) or "no directive on focus blocks: 90 minutes in the free time"
    await talk.say(f"Focus blocks in the free time (from your directives: {why}).")
    accepted: list[tuple[int, int]] = []
    decisions = []
    for i, (begin, end) in enumerate(blocks, 1):
        span = f"{hhmm(begin)}-{hhmm(end)}"
        answer = await talk.ask(
            Question(
                f"focus/{i}", f"Focus block {span}: accept, drop, or a new start time (e.g. 14:00)?", "accept"
            )
        )
        moved = parse_time(answer)
        if moved is not None:
            new = (moved, moved + end - begin)
            accepted.append(new)
            clash = [b for b in busy if b[0] < new[1] and new[0] < b[1]]
            note = f" (it overlaps {len(clash)} meeting{'s' if len(clash) != 1 else ''})" if clash else ""
            decisions.append(f"Focus block moved from {span} to {hhmm(new[0])}-{hhmm(new[1])}{note}")
        elif verdict(answer, ("accept", "drop")) == "drop":
            decisions.append(f"Focus block {span} dropped")
        else:
            accepted.append((begin, end))
            decisions.append(f"Focus block {span} accepted")
    return accepted, decisions


def _prep_lines(prepared: list[tuple[Mapping[str, Any], str]]) -> list[str]:
    lines: list[str] = []
    for person, bring in prepared:
        lines.append(f"### {person['name']} ({person['when']})")
        brought = items(bring)
        lines.extend(f"- Bring: {t}" for t in brought)
        lines.extend(f"- Also open: {t}" for t in m.waiting_on(person) if t not in brought)
    return lines


async def plan_day(src: DraftInput, talk: Conversation) -> Interview:
    """Planning a day, as the daily planning rituals ask."""
    day = src.date.target_date
    decisions: list[str] = []
    kept, said = await _confirm_meetings(
        talk, m.meetings(src, day), f"on {day.strftime('%A')} {day.isoformat()}"
    )
    decisions.append(said)
    if stale := m.stale(src, "Week.md"):
        await talk.say(
            f"⚠ Week.md is {stale}: its focus may be out of date. Consider running the weekly plan first."
        )
    top = await _choose(talk, "priorities", "priorities for the day", m.day_offers(src))
    decisions.append("Top priorities: " + ("; ".join(top) if top else "none chosen"))
    prepared = await _prepare(talk, m.one_on_ones(src))
    decisions += [f"For the 1:1 with {p['name']}: bring {b or 'nothing in particular'}" for p, b in prepared]
    blocks, said_focus = await _focus(talk, src, kept)
    decisions += said_focus
    schedule = [(_minutes(e.get("start")) or -1, f"- {e['when']}: {e['title']}") for e in kept]
    schedule += [(b, f"- {hhmm(b)}-{hhmm(e)}: Focus block") for b, e in blocks]
    lines = [
        "---",
        f"date: {day.isoformat()}",
        "planned_with: overture (offline session)",
        "---",
        f"# {day.strftime('%A')} {day.isoformat()}",
        "",
        "## Top 3",
        *([f"- [ ] {t}" for t in top] or ["- [ ] "]),
        "",
        "## Schedule",
        *([line for _, line in sorted(schedule, key=lambda s: s[0])] or ["- No meetings"]),
        "",
        "## 1:1 prep",
        *(_prep_lines(prepared) or ["- No 1:1s"]),
        "",
        "## Log",
        "",
    ]
    return Interview(
        "Today.md", "write", "\n".join(lines), decisions, "User completed daily planning session"
    )


async def plan_week(src: DraftInput, talk: Conversation) -> Interview:
    """Planning a week: settle what was carried, agree outcomes, prepare the 1:1s."""
    d = src.date
    decisions: list[str] = []
    events = m.meetings(src, None)
    days = d.workdays or d.days
    shape = []
    for day in days:
        todays = [e for e in events if e["date"] == day.isoformat()]
        shape.append(
            f"{day.strftime('%a')} {day.isoformat()}: {len(todays)} meeting{'s' if len(todays) != 1 else ''}"
        )
    await talk.say("The shape of the week:\n" + "\n".join(f"  - {line}" for line in shape))
    carried = m.week_carried(src)
    kept: list[str] = []
    for i, offer in enumerate(carried, 1):
        answer = await talk.ask(
            Question(
                f"carry/{i}",
                f"Carried from {offer.source}: {offer.text}. Accept, move (later) or drop?",
                "accept",
            )
        )
        choice = verdict(answer, ("accept", "move", "later", "drop"))
        choice = "move" if choice == "later" else choice
        done = {"accept": "accepted", "move": "moved on", "drop": "dropped"}[choice]
        decisions.append(f"Carried item {done}: {offer.text}")
        if choice == "accept":
            kept.append(offer.text)
    offers = [m.Offer(t, "carried") for t in kept] + [o for o in m.week_offers(src) if o.text not in kept]
    outcomes = await _choose(talk, "outcomes", "outcomes for the week", offers)
    decisions.append("Outcomes for the week: " + ("; ".join(outcomes) if outcomes else "none chosen"))
    prepared = await _prepare(talk, m.one_on_ones(src))
    decisions += [f"For the 1:1 with {p['name']}: bring {b or 'nothing in particular'}" for p, b in prepared]
    iso = d.start.isocalendar()
    lines = [
        "---",
        f"week: {iso.year}-W{iso.week:02d}",
        f"dates: {d.start.isoformat()} to {d.end.isoformat()}",
        "planned_with: overture (offline session)",
        "---",
        f"# Week {iso.week} — {d.start.isoformat()}",
        "",
        "## Focus",
        *([f"- [ ] {t}" for t in outcomes] or ["- [ ] "]),
        "",
        "## Days",
    ]
    for day in days:
        todays = [e for e in events if e["date"] == day.isoformat()]
        lines += [
            f"### {day.strftime('%a')} {day.isoformat()}",
            *([f"- {e['when']}: {e['title']}" for e in todays] or ["- No meetings"]),
        ]
    lines += ["", "## 1:1s", *(_prep_lines(prepared) or ["- No 1:1s"]), "", "## Notes", ""]
    return Interview(
        "Week.md", "write", "\n".join(lines), decisions, "User completed weekly planning session"
    )


async def review_day(src: DraftInput, talk: Conversation) -> Interview:
    """Reviewing a day against its plan: every open item goes to tomorrow, later, or is dropped."""
    day = src.date.target_date
    if src.data(VAULT_FILE, "Today.md") is None:
        await talk.say("There is no Today.md to review against, so there is nothing to carry forward.")
        return Interview(
            "Today.md", "append", "", ["Nothing reviewed: Today.md was not loaded"], "User ended the review"
        )
    done, still_open = m.plan_open_items(src)
    await talk.say(
        f"Done today: {len(done)} of {len(done) + len(still_open)}" + "".join(f"\n  ✓ {t}" for t in done)
    )
    moves: dict[str, list[str]] = {"tomorrow": [], "later": [], "drop": []}
    for i, item in enumerate(still_open, 1):
        answer = await talk.ask(
            Question(f"open/{i}", f"Still open: {item}. Tomorrow, later this week, or drop?", "tomorrow")
        )
        moves[verdict(answer, ("tomorrow", "later", "drop"))].append(item)
    felt = (await talk.ask(Question("felt", "How did the day feel, in one line?", ""))).strip()
    decisions = [f"Done: {len(done)} of {len(done) + len(still_open)}"]
    decisions += [f"Carried to tomorrow: {t}" for t in moves["tomorrow"]]
    decisions += [f"Moved to later this week: {t}" for t in moves["later"]]
    decisions += [f"Dropped: {t}" for t in moves["drop"]]
    lines = [
        f"## Review ({day.isoformat()})",
        f"- Done: {len(done)} of {len(done) + len(still_open)}" + (f" ({'; '.join(done)})" if done else ""),
        "- Carried (tomorrow):",
        *([f"  - [ ] {t}" for t in moves["tomorrow"]] or ["  - (nothing)"]),
    ]
    if moves["later"]:
        lines += ["- Later this week:", *[f"  - [ ] {t}" for t in moves["later"]]]
    if moves["drop"]:
        lines.append("- Dropped: " + "; ".join(moves["drop"]))
    lines.append(f"- Felt: {felt or '(not said)'}")
    return Interview(
        "Today.md", "append", "\n".join([*lines, ""]), decisions, "User completed daily review session"
    )


Interviewer = Callable[[DraftInput, Conversation], Awaitable[Interview]]
INTERVIEWS: Mapping[tuple[str, str], Interviewer] = {
    ("write", "Today.md"): plan_day,
    ("write", "Week.md"): plan_week,
    ("append", "Today.md"): review_day,
}


def interviewer_for(wanted: Sequence[tuple[str, str]]) -> Interviewer | None:
    """The interview for the first note the prose writes that an interview knows."""
    return next((INTERVIEWS[w] for w in wanted if w in INTERVIEWS), None)
