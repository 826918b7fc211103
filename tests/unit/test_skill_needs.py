"""Needs from prose: the seed's pattern table, several needs per bullet, and pack need types."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from overture.skills.context.needs import NeedRegistry, NeedType
from overture.skills.environment import build_environment
from overture.skills.orchestrate import run_skill
from overture.skills.providers.base import FulfilEnv
from overture.skills.skillfile import Bullet, parse_skill


def kinds(text: str, registry: NeedRegistry | None = None) -> list[tuple[str, dict[str, str]]]:
    found = (registry or NeedRegistry.builtin()).classify(Bullet(text, 1))
    return [(n.kind, dict(n.params)) for n in found]


@pytest.mark.parametrize(
    ("bullet", "expected"),
    [
        ("Calendar events for the day", [("calendar", {})]),
        ("Calendar events", [("calendar", {})]),
        ("Week.md for weekly context", [("vault_file", {"file": "Week.md"})]),
        ("Month.md", [("vault_file", {"file": "Month.md"})]),
        ("Today.md", [("vault_file", {"file": "Today.md"})]),
        ("People files for anyone with 1:1 meetings", [("people", {"scope": "1:1"})]),
        ("People files for 1:1 meetings", [("people", {"scope": "1:1"})]),
        ("Active project files", [("projects", {})]),
        ("User's directives and preferences", [("directives", {})]),
        ("Directives", [("directives", {})]),
        ("preferences", [("directives", {})]),
    ],
)
def test_the_seeds_pattern_table(bullet: str, expected: list[tuple[str, dict[str, str]]]) -> None:
    """Every prose pattern in the seed's table maps to its need type, and only to it."""
    assert kinds(bullet) == expected


def test_one_bullet_can_name_several_files() -> None:
    """ "Today.md and `Month Plan.md`" is two vault-file needs, quoted names with spaces kept."""
    assert kinds("Today.md and `Month Plan.md` for context") == [
        ("vault_file", {"file": "Today.md"}),
        ("vault_file", {"file": "Month Plan.md"}),
    ]


def test_plan_keeps_each_need_once_and_reports_unrecognised_bullets_with_lines() -> None:
    """The seed's full Context list becomes five needs; an unknown bullet is kept for the summary."""
    skill = parse_skill(
        "---\nname: s\norchestrated: true\n---\n## Context\n"
        "- Calendar events for the day\n- User's directives and preferences\n- Week.md for weekly context\n"
        "- People files for anyone with 1:1 meetings\n- Active project files\n- The weather in Lisbon\n"
        "- Week.md again\n## Run\nGo.\n"
    )
    plan = NeedRegistry.builtin().plan(skill.bullets)
    assert [(n.kind, n.label, n.line) for n in plan.needs] == [
        ("calendar", "Calendar", 6),
        ("directives", "Directives", 7),
        ("vault_file", "Week.md", 8),
        ("people", "People", 9),
        ("projects", "Projects", 10),
    ]
    assert [(b.text, b.line) for b in plan.unrecognised] == [("The weather in Lisbon", 11)]


def test_a_pack_need_type_is_tried_first_and_registered_once() -> None:
    """A pack's type wins a bullet the built-ins would not know; registering it twice fails."""
    registry = NeedRegistry.builtin()
    registry.add(NeedType("deals", "Deals", (r"\bopen deals?\b",)))
    assert kinds("Open deals closing this month", registry) == [("deals", {})]
    assert next(iter(registry.kinds)) == "deals"
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(NeedType("deals", "Deals", ("deal",)))
    assert NeedRegistry.builtin().get("deals") is None


def test_a_pack_need_type_is_fulfilled_by_its_own_provider(tmp_path: Path) -> None:
    """A skill asking for "Open deals" gets them from the pack's provider, in context and summary."""
    seen: list[str] = []

    def open_deals(need: Any, env: FulfilEnv) -> list[dict[str, Any]]:
        seen.append(env.target.target_date.isoformat())
        return [{"account": "Acme", "stage": "proposal"}, {"account": "Globex", "stage": "negotiation"}]

    registry = NeedRegistry.builtin()
    registry.add(NeedType("deals", "Deals", (r"\bopen deals?\b",), provider=open_deals))
    skill = parse_skill(
        "---\nname: pipeline\norchestrated: true\n---\n"
        "## Context\n- Open deals for the week\n## Review\nReview.\n"
    )
    env = build_environment(vault=tmp_path, calendar=[], needs=registry)
    run = asyncio.run(run_skill(skill, env, datetime(2026, 2, 18, 9, tzinfo=UTC), "tomorrow"))
    assert seen == ["2026-02-19"]
    assert run.summary.context == ("Deals: 2 loaded",)
    assert '"account": "Globex"' in run.loading
    assert run.summary.status.value == "Drafted (no session)"
