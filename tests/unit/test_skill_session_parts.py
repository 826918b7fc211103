"""The pure parts of an offline session: focus rules read from directives, the blocks they
propose in the free time, and how answers (typed or from a file) are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from overture.errors import ValidationFailed
from overture.skills.session.answers import pick, verdict, yes
from overture.skills.session.conversation import load_answers
from overture.skills.session.focus import focus_rules, hhmm, propose_blocks

WORKING_STYLE = [
    "- Working hours: 08:30-17:30, Monday to Friday.",
    "- At most three priorities a day; write them as outcomes, not activities.",
    "- Focus blocks are 90 minutes, in the morning when possible, never after 16:00.",
    "- Lunch 12:30-13:15 is not a meeting slot.",
]


def t(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def test_focus_rules_are_read_from_the_directives() -> None:
    rules = focus_rules(WORKING_STYLE)
    assert (hhmm(rules.start), hhmm(rules.end), rules.length, hhmm(rules.latest or 0)) == (
        "08:30",
        "17:30",
        90,
        "16:00",
    )
    assert rules.mornings and rules.busy == ((t("12:30"), t("13:15")),)
    assert len(rules.source) == 3


def test_blocks_fill_the_free_time_mornings_first_and_never_after_the_latest() -> None:
    """Meetings 09:00-09:15 and 10:00-12:00: a 45-minute block fits 09:15-10:00; the afternoon
    block ends by 16:00; lunch is never used."""
    rules = focus_rules(WORKING_STYLE)
    blocks = propose_blocks(rules, [(t("09:00"), t("09:15")), (t("10:00"), t("12:00"))])
    assert [(hhmm(a), hhmm(b)) for a, b in blocks] == [("09:15", "10:00"), ("13:15", "14:45")]
    plain = focus_rules(["- Mornings before 11:00 are for focus work."])
    assert plain.mornings and plain.latest == t("11:00")
    assert [(hhmm(a), hhmm(b)) for a, b in propose_blocks(plain, [(t("09:00"), t("09:15"))])] == [
        ("09:15", "10:45")
    ]


def test_answers_pick_offered_items_by_number_and_take_new_ones() -> None:
    offered = ["Ship the plan", "Answer Jonas", "Book the review"]
    assert pick("3, 1", offered) == ["Book the review", "Ship the plan"]
    assert pick("2; Call the bank, today", offered) == ["Answer Jonas", "Call the bank, today"]
    assert pick("1, 2, 3, Extra", offered, most=3) == offered
    assert verdict("t", ("tomorrow", "later", "drop")) == "tomorrow"
    assert verdict("Drop it", ("tomorrow", "later", "drop")) == "drop"
    assert verdict("", ("accept", "drop")) == "accept"
    assert yes("") and yes("Y") and not yes("no") and not yes("later")


def test_an_answers_file_is_flattened_by_key(tmp_path: Path) -> None:
    file = tmp_path / "answers.yaml"
    file.write_text(
        "meetings: keep\npriorities: [1, 'Own one']\nbring:\n  Mei Lin: wireframes\nwrite: true\n"
    )
    assert load_answers(file) == {
        "meetings": "keep",
        "priorities": "1; Own one",
        "priorities/1": "1",
        "priorities/2": "Own one",
        "bring/Mei Lin": "wireframes",
        "write": "yes",
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [("- just a list\n", "expected a mapping"), ("key: [never closed\n", "not valid YAML")],
)
def test_an_answers_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    file = tmp_path / "answers.yaml"
    file.write_text(text)
    with pytest.raises(ValidationFailed, match=problem):
        load_answers(file)
