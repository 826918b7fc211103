"""SKILL.md parsing: front matter, sections, Context bullets, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from overture.packs.planner import SKILLS
from overture.skills.skillfile import SkillFileError, load_skill_dir, parse_skill

SEED_EXAMPLE = """---
name: planning-daily
orchestrated: true
---

## Context

- Calendar events for the day
- Week.md for weekly context
- People files for anyone with 1:1 meetings
- User's directives and preferences

## Planning Session

Greet the user warmly.
Write Today.md to Captive with the plan.
"""


def test_the_seeds_example_parses_into_flags_bullets_and_prose() -> None:
    """The seed's planning-daily example: orchestrated, four needs with their lines, and the
    Planning Session section as the prose to execute."""
    skill = parse_skill(SEED_EXAMPLE, "skills/planning-daily/SKILL.md")
    assert (skill.name, skill.orchestrated, skill.internal, skill.runs_orchestrated) == (
        "planning-daily",
        True,
        False,
        True,
    )
    assert [(b.text, b.line) for b in skill.bullets] == [
        ("Calendar events for the day", 8),
        ("Week.md for weekly context", 9),
        ("People files for anyone with 1:1 meetings", 10),
        ("User's directives and preferences", 11),
    ]
    assert skill.prose is not None and skill.prose.title == "Planning Session"
    assert skill.prose_text == (
        "## Planning Session\n\nGreet the user warmly.\nWrite Today.md to Captive with the plan."
    )
    assert [(s.title, s.level, s.line) for s in skill.sections] == [
        ("Context", 2, 6),
        ("Planning Session", 2, 13),
    ]


def test_all_front_matter_fields_and_the_skills_own_arguments_are_kept() -> None:
    """description, internal, disable-model-invocation, arguments with defaults, and unknown keys."""
    text = (
        "---\nname: orchestrator\ndescription: >\n  Internal orchestrator.\ninternal: true\n"
        "disable-model-invocation: true\narguments:\n  date:\n    description: The day\n"
        "    default: tomorrow\n  focus: What to focus on\nowner: ops\n---\n# Orchestrator\n"
    )
    skill = parse_skill(text)
    assert skill.description == "Internal orchestrator."
    assert (skill.internal, skill.disable_model_invocation, skill.orchestrated) == (True, True, False)
    assert skill.default_for("date") == "tomorrow"
    assert skill.arguments["focus"].description == "What to focus on"
    assert skill.default_for("focus") is None
    assert dict(skill.extra) == {"owner": "ops"}


def test_a_skill_without_the_flag_runs_directly_with_its_whole_body() -> None:
    """No ``orchestrated: true``: a Context section is just prose and the whole body runs."""
    skill = parse_skill(SEED_EXAMPLE.replace("orchestrated: true\n", ""))
    assert skill.runs_orchestrated is False
    assert skill.bullets == ()
    assert skill.prose_text.startswith("## Context\n\n- Calendar events")


def test_an_orchestrated_skill_without_a_context_section_runs_directly() -> None:
    """``orchestrated: true`` but no ``## Context``: the skill runs directly."""
    skill = parse_skill("---\nname: hello\norchestrated: true\n---\n## Say hello\nGreet the user.\n")
    assert skill.runs_orchestrated is False
    assert skill.prose_text == "## Say hello\nGreet the user."


def test_headings_and_bullets_inside_code_fences_are_prose() -> None:
    """A fenced ``## Context`` (as in the seed's own examples) is neither a section nor a need."""
    text = (
        "---\nname: doc\norchestrated: true\n---\n## Context\n\n- Calendar events\n"
        "```markdown\n## Context\n- Not a need\n```\n\n## Session\nDo it.\n"
    )
    skill = parse_skill(text)
    assert [b.text for b in skill.bullets] == ["Calendar events"]
    assert [s.title for s in skill.sections] == ["Context", "Session"]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("# No front matter\n", 1, "must start with a '---' line"),
        ("---\nname: x\n# never closed\n", 1, "never closed"),
        ("---\nname: x\ndescription: [unclosed\n---\n", 3, "not valid YAML"),
        ("---\nname: x\nkey: value\n  bad indent: 1\nmore: 2\n---\n", 4, "not valid YAML"),
        ("---\n- a\n- b\n---\n", 2, "must be a mapping"),
        ("---\ndescription: no name\n---\n", 2, "needs a name"),
        ("---\nname: Bad Name!\n---\n", 2, "name must be letters"),
        ("---\nname: x\n\norchestrated: yes please\n---\n", 4, "orchestrated must be true or false"),
        ("---\nname: x\ninternal: 1\n---\n", 3, "internal must be true or false"),
        ("---\nname: x\narguments: [date]\n---\n", 3, "arguments must map"),
        (
            "---\nname: x\norchestrated: true\n---\n## Context\n- a\n## Context\n- b\n## Run\ngo\n",
            7,
            "a second '## Context' section (the first is at line 5)",
        ),
        (
            "---\nname: x\norchestrated: true\n---\n\n## Context\nCalendar please.\n## Run\ngo\n",
            6,
            "lists no needs",
        ),
        ("---\nname: x\norchestrated: true\n---\n## Context\n- Calendar events\n", 5, "nothing to execute"),
    ],
)
def test_malformed_files_name_the_file_and_the_line(text: str, line: int, problem: str) -> None:
    """Each kind of malformed SKILL.md is refused with ``path:line: problem``."""
    with pytest.raises(SkillFileError) as caught:
        parse_skill(text, "skills/x/SKILL.md")
    assert caught.value.path == "skills/x/SKILL.md"
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"skills/x/SKILL.md:{line}: ")


def test_a_folder_with_two_skills_of_one_name_is_refused(tmp_path: Path) -> None:
    """Two SKILL.md files declaring the same name: the second file is named, with the first."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "SKILL.md").write_text("---\nname: same\n---\nHi.\n")
    with pytest.raises(SkillFileError) as caught:
        load_skill_dir(tmp_path)
    assert caught.value.path == str(tmp_path / "b" / "SKILL.md")
    assert "also defined in" in caught.value.problem and str(tmp_path / "a") in caught.value.problem


def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported against the file, with no line."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "SKILL.md").write_bytes(b"---\nname: \xff\n---\n")
    with pytest.raises(SkillFileError) as caught:
        load_skill_dir(tmp_path)
    assert caught.value.line is None and "cannot read" in caught.value.problem


def test_the_planner_packs_skills_parse_and_are_orchestrated() -> None:
    """planning-daily, planning-weekly and review-daily all parse, each with Context and prose."""
    skills = load_skill_dir(SKILLS)
    assert sorted(skills) == ["planning-daily", "planning-weekly", "review-daily"]
    assert all(s.runs_orchestrated and s.prose is not None for s in skills.values())
    assert skills["planning-weekly"].default_for("date") == "this week"
    assert skills["review-daily"].prose is not None
    assert skills["review-daily"].prose.title == "Review Session"
