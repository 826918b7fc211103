"""The labelled-call file: every line checked before anything runs, each problem naming its line
and field; the shipped tuning file reads cleanly; the MeetingBaaS webhook a call becomes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from overture.errors import ValidationFailed
from overture.evaluation.calls import CallFileError, parse_lines, read_calls, select
from overture.evaluation.staging import StagedCall, complete_webhook

TUNE = Path(__file__).parents[1] / "data" / "calls" / "tune.jsonl"


def doc(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c-1",
        "title": "Quote for the depots",
        "rep": "Dana Whitfield",
        "participants": [
            {"name": "Dana Whitfield", "role": "rep"},
            {"name": "Omar Haddad", "role": "colleague"},
            {"name": "Lena Fischer", "role": "prospect", "company": "Fischer Freight"},
        ],
        "segments": [
            {"speaker": "Lena Fischer", "role": "prospect", "start": 0.0, "end": 4.0, "text": "Any news?"},
            {"speaker": "Dana Whitfield", "role": "rep", "start": 4.5, "end": 9.0, "text": "A quote  soon."},
        ],
        "expected": {"proposal": True, "schedule": False},
    }
    base.update(changes)
    return base


def problems(*docs: dict[str, Any] | str) -> list[str]:
    lines = [d if isinstance(d, str) else json.dumps(d) for d in docs]
    with pytest.raises(CallFileError) as caught:
        parse_lines(lines, "calls.jsonl")
    return caught.value.problems


def segment(**changes: Any) -> list[dict[str, Any]]:
    return [{**doc()["segments"][0], **changes}]


BAD = [
    ("{not json", "line 1: not valid JSON"),
    ("[1, 2]", "line 1: must be a JSON object"),
    (doc(id=""), "line 1: id: must be a non-empty string"),
    (doc(segments=None), "line 1: segments: must be a non-empty list (got null)"),
    (
        {k: v for k, v in doc().items() if k != "segments"},
        "line 1: segments: must be a non-empty list (missing)",
    ),
    (doc(segments=segment(text="  ")), "line 1: segments[0].text: must be a non-empty string"),
    (doc(segments=segment(role="buyer")), 'line 1: segments[0].role: "buyer" is not one of'),
    (doc(segments=segment(speaker="Mo")), "line 1: segments[0].speaker: 'Mo' is not one of the participants"),
    (doc(segments=segment(role="rep")), "line 1: segments[0].role: 'rep', but participant 'Lena Fischer'"),
    (doc(segments=segment(start="0")), "line 1: segments[0].start: must be a number of seconds"),
    (doc(segments=segment(end=-1)), "line 1: segments[0].end: must be a number of seconds"),
    (doc(segments=segment(start=5.0, end=1.0)), "line 1: segments[0].end: 1.0 is before start 5.0"),
    (doc(participants=[{"name": "Dana Whitfield", "role": "boss"}]), "line 1: participants[0].role"),
    (doc(participants=[{"name": "Lena Fischer", "role": "prospect"}]), "line 1: participants: exactly one"),
    (doc(rep="Omar Haddad"), "line 1: rep: 'Omar Haddad' is not the participant with role rep"),
    (
        doc(expected={"proposal": "yes", "schedule": False}),
        'line 1: expected.proposal: must be true or false (got "yes")',
    ),
    (doc(expected={"proposal": True}), "line 1: expected.schedule: must be true or false (got null)"),
    (doc(expected=[True, False]), "line 1: expected: must be an object"),
]


@pytest.mark.parametrize(("line", "problem"), BAD)
def test_each_kind_of_bad_line_is_named_with_its_field(line: dict[str, Any] | str, problem: str) -> None:
    """One malformed line: the one problem, naming line and field."""
    [found] = problems(line)
    assert found.startswith(problem), found


def test_every_line_is_checked_and_every_problem_reported() -> None:
    """Problems on several lines are all listed, with the right line numbers (blank lines count)."""
    found = problems(doc(), "", doc(id="c-2", expected={}), doc(id="c-1"), "{")
    assert [p.split(":")[0] for p in found] == ["line 3", "line 4", "line 5"]
    assert "id: 'c-1' is already used on line 1" in found[1]


def test_an_empty_file_is_refused() -> None:
    """No calls at all is a bad file, not a perfect score."""
    assert problems("", "  ") == ["line 1: the file holds no calls"]


def test_the_error_message_says_nothing_ran_and_caps_its_list() -> None:
    """The message a person reads: the file, the count, nothing run, at most 20 lines listed."""
    with pytest.raises(CallFileError) as caught:
        parse_lines(["{"] * 25, "calls.jsonl")
    text = str(caught.value)
    assert text.startswith("calls.jsonl: 25 problem(s), nothing was run")
    assert "line 20:" in text and "line 21:" not in text and "… and 5 more" in text


def test_a_good_line_is_read_whole() -> None:
    """Fields as given; the title defaults to the id; the segment's repr hides its words."""
    [call] = parse_lines(["", json.dumps(doc(title=None))], "calls.jsonl")
    assert (call.line, call.id, call.title, call.rep) == (2, "c-1", "c-1", "Dana Whitfield")
    assert [p.name for p in call.people("colleague")] == ["Omar Haddad"]
    assert call.expected == {"proposal": True, "schedule": False}
    assert "news" not in repr(call.segments[0])


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported on their line."""
    path = tmp_path / "calls.jsonl"
    path.write_bytes(json.dumps(doc()).encode() + b'\n{"id": "\xff"}\n')
    with pytest.raises(CallFileError) as caught:
        read_calls(path)
    [problem] = caught.value.problems
    assert problem.startswith("line 2: not UTF-8 text")


def test_the_tuning_file_is_valid() -> None:
    """The shipped tune.jsonl reads cleanly: 224 calls."""
    assert len(read_calls(TUNE)) == 224


def test_select_by_id_then_limit() -> None:
    """--only keeps file order; --limit takes the first N; an unknown id is refused."""
    calls = parse_lines([json.dumps(doc(id=f"c-{i}")) for i in range(5)], "calls.jsonl")
    assert [c.id for c in select(calls, ["c-3", "c-1"])] == ["c-1", "c-3"]
    assert [c.id for c in select(calls, [], 2)] == ["c-0", "c-1"]
    with pytest.raises(ValidationFailed, match="--only: no call 'nope'"):
        select(calls, ["c-1", "nope"])


def test_the_webhook_is_a_v1_complete_with_timed_words() -> None:
    """Speaker turns of words spread over each segment's span; extra routes to the account."""
    [call] = parse_lines([json.dumps(doc())], "calls.jsonl")
    staged = StagedCall(call, "eval-0001", "eval-0001.rep", "eval-0001.recorder", "bot-1")
    body = complete_webhook(staged)
    assert body["event"] == "complete"
    data = body["data"]
    assert data["bot_id"] == "bot-1"
    assert data["extra"] == {
        "overture_account": "eval-0001.recorder",
        "meeting_title": "Quote for the depots",
    }
    assert data["speakers"] == ["Lena Fischer", "Dana Whitfield", "Omar Haddad"]
    second = data["transcript"][1]
    assert second["speaker"] == "Dana Whitfield"
    assert [w["word"] for w in second["words"]] == ["A", "quote", "soon."]
    assert [(w["start"], w["end"]) for w in second["words"]] == [(4.5, 6.0), (6.0, 7.5), (7.5, 9.0)]
