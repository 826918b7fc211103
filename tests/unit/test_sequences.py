"""Sequence files: the full format loads into the model, and every error names line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from overture.errors import SequenceFileError, ValidationFailed
from overture.sequences import (
    ApprovalSpec,
    DedupeSpec,
    FailurePolicy,
    RetryPolicy,
    Sequence,
    SequencesInvalid,
    StepKind,
    load_sequence_dir,
    load_sequence_file,
    load_sequence_text,
)
from overture.sequences.expressions import Expressions

PATH = "packs/demo/sequences/meeting_ended.yaml"

FULL = """\
event_type: meeting_ended
description: What happens after a call.
active_hours: ignore
dedupe:
  fields: [meeting_id, thread.id]
  window: 24h
steps:
  - name: extract-action-items
    uses: skill:extract-action-items
    with: {transcript_id: "{{ event.payload.transcript_id }}", tags: [a, b]}
    when: "event.payload.kind == 'call'"
    ai: true
    on_failure: retry
    retry: {attempts: 2, backoff: 2s, factor: 3, max_backoff: 1m}
    timeout: 30s
    requires_context: [apollo, company_news]
  - name: log-call
    uses: crm:log_activity
    approval:
      pattern: draft
      title: "Follow-up to {{ event.payload.contact_name }}"
  - name: tell-owner
    uses: notify
    with:
      text: "Done: {{ outputs['extract-action-items'].count }} items"
  - name: check-back
    uses: followup
    on_failure: continue
    with: {type: check_in, payload: {meeting: "{{ event.payload.meeting_id }}"}}
  - name: score
    uses: function:score_deal
    effect: true
"""

MINIMAL = """\
event_type: meeting_ended
steps:
  - name: only
    uses: skill:summarize
"""


def _error(text: str, path: str = PATH) -> SequenceFileError:
    with pytest.raises(SequenceFileError) as caught:
        load_sequence_text(text, path)
    return caught.value


def test_full_file_round_trips() -> None:
    """Every field of a full file lands in the model with parsed durations and line numbers."""
    seq = load_sequence_text(FULL, PATH)
    assert seq.event_type == "meeting_ended"
    assert seq.description == "What happens after a call."
    assert seq.active_hours == "ignore"
    assert seq.dedupe == DedupeSpec(fields=("meeting_id", "thread.id"), window=timedelta(hours=24))
    assert seq.path == PATH
    assert seq.uses_ai
    assert [s.name for s in seq.steps] == [
        "extract-action-items",
        "log-call",
        "tell-owner",
        "check-back",
        "score",
    ]
    first, crm, notify, followup, function = seq.steps
    assert (first.index, first.kind, first.target, first.line) == (
        0,
        StepKind.SKILL,
        "extract-action-items",
        8,
    )
    assert first.uses == "skill:extract-action-items"
    assert first.inputs == {
        "transcript_id": "{{ event.payload.transcript_id }}",
        "tags": ("a", "b"),
    }
    assert first.when == "event.payload.kind == 'call'"
    assert first.ai
    assert first.on_failure is FailurePolicy.RETRY
    assert first.retry == RetryPolicy(
        attempts=2, backoff=timedelta(seconds=2), factor=3.0, max_backoff=timedelta(minutes=1)
    )
    assert first.timeout == timedelta(seconds=30)
    assert first.requires_context == ("apollo", "company_news")
    assert not first.effect
    assert first.approval is None
    assert (crm.kind, crm.target, crm.effect, crm.line) == (StepKind.CRM, "log_activity", True, 17)
    assert crm.approval == ApprovalSpec(
        pattern="draft",
        expires=timedelta(hours=48),
        title="Follow-up to {{ event.payload.contact_name }}",
    )
    assert (notify.kind, notify.target, notify.effect) == (StepKind.NOTIFY, "", True)
    assert (followup.kind, followup.effect, followup.on_failure) == (
        StepKind.FOLLOWUP,
        False,
        FailurePolicy.CONTINUE,
    )
    assert followup.inputs["payload"] == {"meeting": "{{ event.payload.meeting_id }}"}
    assert (function.kind, function.target, function.effect) == (
        StepKind.FUNCTION,
        "score_deal",
        True,
    )


def test_defaults() -> None:
    """Omitted fields take their documented defaults."""
    seq = load_sequence_text(MINIMAL, PATH)
    assert (seq.description, seq.active_hours, seq.dedupe, seq.uses_ai) == (
        "",
        "defer",
        None,
        False,
    )
    (step,) = seq.steps
    assert step.inputs == {}
    assert (step.when, step.ai, step.on_failure) == (None, False, FailurePolicy.STOP)
    assert step.retry == RetryPolicy()
    assert (step.timeout, step.requires_context, step.effect, step.approval) == (
        None,
        (),
        False,
        None,
    )
    assert step.line == 3
    dedupe = load_sequence_text(MINIMAL + "dedupe: {fields: [meeting_id]}\n", PATH).dedupe
    assert dedupe == DedupeSpec(fields=("meeting_id",), window=timedelta(hours=1))


def test_line_of_points_at_fields() -> None:
    """line_of finds a field's line, or its nearest known ancestor's."""
    seq = load_sequence_text(FULL, PATH)
    assert seq.line_of("event_type") == 1
    assert seq.line_of("steps", 1, "uses") == 18
    assert seq.line_of("steps", 2, "with", "text") == 25
    assert seq.line_of("steps", 2, "nothing-here") == 22
    assert seq.line_of() == 1


def test_steps_and_inputs_are_frozen() -> None:
    """Steps cannot be reassigned and their inputs cannot be mutated."""
    step = load_sequence_text(FULL, PATH).steps[0]
    with pytest.raises(AttributeError):
        step.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        step.inputs["x"] = 1  # type: ignore[index]


def test_retry_delay() -> None:
    """Delays grow by the factor per failed attempt and stop at max_backoff."""
    policy = RetryPolicy(
        attempts=5, backoff=timedelta(seconds=2), factor=2.0, max_backoff=timedelta(seconds=10)
    )
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4, 50_000)] == [2, 4, 8, 10, 10]


def test_yaml_syntax_error() -> None:
    """A YAML syntax error names the line of the problem."""
    error = _error("event_type: meeting_ended\nsteps:\n  - name: [unclosed\n    uses: notify\n")
    assert error.path == PATH
    assert error.field == "(yaml)"
    assert error.line == 4
    assert "YAML syntax error" in error.problem


def test_unknown_key_suggests_nearest() -> None:
    """An unknown key is named with its line and the nearest valid key."""
    error = _error(MINIMAL + "    retires: 3\n")
    assert (error.line, error.field) == (5, "steps[0].retires")
    assert "did you mean 'retry'" in error.problem
    top = _error(MINIMAL + "descripton: x\n")
    assert (top.line, top.field) == (5, "descripton")
    assert "did you mean 'description'" in top.problem


def test_wrong_type() -> None:
    """A wrong type says what was expected and what was found."""
    error = _error(MINIMAL + "    requires_context: 3\n")
    assert (error.line, error.field) == (5, "steps[0].requires_context")
    assert error.problem == "expected a list of strings, got int"
    item = _error(MINIMAL + "    requires_context: [apollo, 7]\n")
    assert (item.line, item.field) == (5, "steps[0].requires_context[1]")
    flag = _error(MINIMAL + "    ai: 'sure'\n")
    assert (flag.field, flag.problem) == ("steps[0].ai", "expected true or false, got string")


def test_bad_choice() -> None:
    """An invalid on_failure names the valid choices and suggests the closest."""
    error = _error(MINIMAL + "    on_failure: retyr\n")
    assert (error.line, error.field) == (5, "steps[0].on_failure")
    assert "stop, continue, retry" in error.problem
    assert "did you mean 'retry'" in error.problem


def test_bad_duration() -> None:
    """A malformed duration points at its field."""
    error = _error(MINIMAL + "    timeout: 3 fortnights\n")
    assert (error.line, error.field) == (5, "steps[0].timeout")
    assert "not a duration" in error.problem
    huge = _error(MINIMAL + "    timeout: .inf\n")
    assert (huge.line, huge.field) == (5, "steps[0].timeout")
    zero = _error(MINIMAL + "    timeout: 0s\n")
    assert "greater than zero" in zero.problem
    window = _error(MINIMAL + "dedupe:\n  fields: [a]\n  window: soon\n")
    assert (window.line, window.field) == (7, "dedupe.window")


def test_retry_rules() -> None:
    """retry needs on_failure: retry and attempts within 0..10."""
    error = _error(MINIMAL + "    retry: {attempts: 2}\n")
    assert (error.line, error.field) == (5, "steps[0].retry")
    assert "on_failure: retry" in error.problem
    error = _error(MINIMAL + "    on_failure: retry\n    retry:\n      attempts: 11\n")
    assert (error.line, error.field) == (7, "steps[0].retry.attempts")


def test_duplicate_step_name() -> None:
    """A repeated step name points at the second one and names the first line."""
    error = _error(MINIMAL + "  - name: only\n    uses: skill:other\n")
    assert (error.line, error.field) == (5, "steps[1].name")
    assert "duplicate step name 'only'" in error.problem
    assert "line 3" in error.problem


def test_duplicate_mapping_key() -> None:
    """A key repeated in one mapping is an error naming the key and its line."""
    error = _error(MINIMAL + "    uses: skill:again\n")
    assert (error.line, error.field) == (5, "steps[0].uses")
    assert "duplicate key 'uses'" in error.problem
    assert "line 4" in error.problem


def test_event_type_must_match_stem() -> None:
    """event_type must equal the file stem."""
    error = _error(MINIMAL, "packs/demo/sequences/call_ended.yaml")
    assert (error.line, error.field) == (1, "event_type")
    assert "'call_ended'" in error.problem


def test_event_type_required_and_well_formed() -> None:
    """A missing or malformed event_type is reported."""
    missing = _error("steps:\n  - name: a\n    uses: notify\n    with: {text: hi}\n")
    assert (missing.line, missing.field, missing.problem) == (
        1,
        "event_type",
        "required key is missing",
    )
    bad = _error(MINIMAL.replace("meeting_ended", "Meeting-Ended"), "x/Meeting-Ended.yaml")
    assert bad.field == "event_type"
    assert "not a valid event type" in bad.problem


def test_notify_without_text() -> None:
    """A notify step needs with.text."""
    error = _error(MINIMAL + "  - name: tell\n    uses: notify\n    with: {channel: x}\n")
    assert (error.line, error.field) == (7, "steps[1].with.text")
    assert "with.text" in error.problem


def test_followup_without_type() -> None:
    """A followup step needs with.type, and its payload must be a mapping."""
    error = _error(MINIMAL + "  - name: later\n    uses: followup\n")
    assert (error.line, error.field) == (5, "steps[1].with.type")
    payload = _error(MINIMAL + "  - name: later\n    uses: followup\n    with: {type: t, payload: 1}\n")
    assert (payload.line, payload.field) == (7, "steps[1].with.payload")


def test_approval_on_notify() -> None:
    """An approval on a notify step is an error at the approval key."""
    text = MINIMAL + "  - name: tell\n    uses: notify\n    with: {text: hi}\n"
    error = _error(text + "    approval: {pattern: confirm}\n")
    assert (error.line, error.field) == (8, "steps[1].approval")
    inform = _error(MINIMAL + "    approval: {pattern: inform}\n")
    assert (inform.line, inform.field) == (5, "steps[0].approval.pattern")
    assert "use a notify step" in inform.problem


@pytest.mark.parametrize(
    ("uses", "fragment"),
    [
        ("skil:summarize", "did you mean 'skill'"),
        ("skill:", "needs a target"),
        ("notify:slack", "takes no target"),
        ("summarize", "expected skill:KEY"),
    ],
)
def test_bad_uses(uses: str, fragment: str) -> None:
    """A malformed uses string points at its line."""
    error = _error(MINIMAL.replace("skill:summarize", f"'{uses}'") + "    with: {text: hi}\n")
    assert (error.line, error.field) == (4, "steps[0].uses")
    assert fragment in error.problem


def test_bad_template_in_with() -> None:
    """Template syntax errors inside with are found at load, at the nested field."""
    text = MINIMAL + "    with:\n      nested:\n        - ok\n        - '{{ event.payload. }}'\n"
    error = _error(text)
    assert (error.line, error.field) == (8, "steps[0].with.nested[1]")
    assert "bad template" in error.problem


def test_bad_when_syntax() -> None:
    """A condition with bad syntax is found at load."""
    error = _error(MINIMAL + '    when: "event.payload.kind =="\n')
    assert (error.line, error.field) == (5, "steps[0].when")
    assert "bad condition" in error.problem


def test_bad_approval_title_template() -> None:
    """An approval title is syntax-checked as a template."""
    error = _error(MINIMAL + "    approval:\n      pattern: draft\n      title: '{% if %}'\n")
    assert (error.line, error.field) == (7, "steps[0].approval.title")


def test_empty_steps() -> None:
    """A sequence needs at least one step, given as a list."""
    error = _error("event_type: meeting_ended\nsteps: []\n")
    assert (error.line, error.field) == (2, "steps")
    assert "at least one step" in error.problem
    wrong = _error("event_type: meeting_ended\nsteps: {a: 1}\n")
    assert wrong.problem == "expected a list of steps, got mapping"


def test_top_level_must_be_a_mapping() -> None:
    """A list or an empty file at the top level is an error."""
    assert "got list" in _error("- 1\n").problem
    assert "empty file" in _error("").problem


def test_errors_are_sorted_by_line() -> None:
    """With several problems, load_sequence_text raises the first one in the file."""
    text = "event_type: meeting_ended\nsteps:\n  - name: Bad Name\n    uses: nope\n"
    assert _error(text).line == 3


def test_load_sequence_file(tmp_path: Path) -> None:
    """load_sequence_file reads a file and reports unreadable ones as SequenceFileError."""
    path = tmp_path / "meeting_ended.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_sequence_file(path).path == str(path)
    with pytest.raises(SequenceFileError, match="cannot read"):
        load_sequence_file(tmp_path / "absent.yaml")


def test_load_sequence_dir_collects_all_errors(tmp_path: Path) -> None:
    """Errors from every file are collected into one SequencesInvalid, one per line."""
    (tmp_path / "meeting_ended.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "broken.yml").write_text("event_type: broken\nsteps: [\n", encoding="utf-8")
    (tmp_path / "typo.yaml").write_text(
        "event_type: typo\nsteps:\n  - name: a\n    usse: notify\n", encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    with pytest.raises(SequencesInvalid) as caught:
        load_sequence_dir(tmp_path)
    invalid = caught.value
    assert isinstance(invalid, ValidationFailed)
    where = sorted((Path(e.path).name, e.field) for e in invalid.errors)
    assert where == [
        ("broken.yml", "(yaml)"),
        ("typo.yaml", "steps[0].uses"),
        ("typo.yaml", "steps[0].usse"),
    ]
    assert len(str(invalid).splitlines()) == 4


def test_load_sequence_dir_success(tmp_path: Path) -> None:
    """A clean folder loads into a dict keyed by event type, sharing one Expressions."""
    (tmp_path / "meeting_ended.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "call_booked.yml").write_text(
        MINIMAL.replace("meeting_ended", "call_booked"), encoding="utf-8"
    )
    loaded = load_sequence_dir(tmp_path, Expressions())
    assert sorted(loaded) == ["call_booked", "meeting_ended"]
    assert all(isinstance(seq, Sequence) for seq in loaded.values())


def test_load_sequence_dir_duplicate_event_type(tmp_path: Path) -> None:
    """Two files for the same event type are an error."""
    (tmp_path / "meeting_ended.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "meeting_ended.yml").write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(SequencesInvalid, match="already defined"):
        load_sequence_dir(tmp_path)


def test_bad_step_name() -> None:
    """A step name outside [a-z0-9][a-z0-9_-]* is reported as a bad step name."""
    error = _error(MINIMAL.replace("name: only", "name: Only Me"))
    assert (error.line, error.field) == (3, "steps[0].name")
    assert "not a valid step name" in error.problem


def test_bad_dedupe_field_and_source_name() -> None:
    """Dedupe field paths and context source names are checked item by item."""
    error = _error(MINIMAL + "dedupe:\n  fields: ['thread..id']\n")
    assert (error.line, error.field) == (6, "dedupe.fields[0]")
    assert "field path" in error.problem
    source = _error(MINIMAL + "    requires_context: ['Apollo']\n")
    assert "context source name" in source.problem
