"""Typed skills: pydantic models in and out, checked by the engine and by ``packs validate``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from overture.cli.main import cli
from overture.core.step_context import StepContext
from overture.engine.packs import BUILTIN, PackInvalid, load_packs
from overture.engine.registry import Registry
from overture.engine.typed_skills import skill
from overture.errors import SequenceFileError, ValidationFailed
from overture.sequences import StepKind
from overture.settings import Settings


class Transcript(BaseModel):
    text: str
    speakers: int = 1


class Intents(BaseModel):
    intents: list[str]


@skill("detect-intents")
def detect(ctx: StepContext, transcript: Transcript) -> Intents:
    """Find what the call asked for."""
    return Intents(intents=[w for w in transcript.text.split() if w.startswith("#")])


def _handler(registry: Registry) -> object:
    fn = registry.handler(StepKind.SKILL, "detect-intents")
    assert fn is not None
    return fn


def test_a_typed_skill_is_an_ordinary_handler_under_its_key() -> None:
    """The runner calls it as fn(ctx, inputs) and stores plain JSON; the function stays callable."""
    registry = Registry()
    registry.add(detect)
    run = registry.handler(StepKind.SKILL, "detect-intents")
    assert run is not None
    assert run(None, {"text": "send #pricing and #deck"}) == {"intents": ["#pricing", "#deck"]}  # type: ignore[arg-type]
    assert registry.descriptions[(StepKind.SKILL, "detect-intents")] == "Find what the call asked for."
    assert detect(None, Transcript(text="#a")) == Intents(intents=["#a"])  # type: ignore[arg-type]


def test_inputs_that_do_not_match_the_model_fail_with_the_field_and_not_the_value() -> None:
    registry = Registry()
    registry.add(detect)
    run = registry.handler(StepKind.SKILL, "detect-intents")
    assert run is not None
    with pytest.raises(ValidationFailed) as err:
        run(None, {"speakers": "secret-value"})  # type: ignore[arg-type]
    message = str(err.value)
    assert message.startswith("skill:detect-intents: inputs do not match Transcript:")
    assert "text: Field required" in message and "speakers:" in message
    assert "secret-value" not in message


def test_an_output_of_the_wrong_shape_fails_the_step() -> None:
    class Other(BaseModel):
        x: int

    @skill("wrong")
    def wrong(ctx: StepContext, transcript: Transcript) -> Intents:
        return Other(x=1)  # type: ignore[return-value]

    @skill("loose")
    def loose(ctx: StepContext, transcript: Transcript) -> Intents:
        return {"intents": "not a list"}  # type: ignore[return-value]

    registry = Registry()
    registry.add(wrong, loose)
    with pytest.raises(ValidationFailed, match="skill:wrong: returned Other, expected Intents"):
        registry.handler(StepKind.SKILL, "wrong")(None, {"text": "t"})  # type: ignore[arg-type,misc]
    with pytest.raises(ValidationFailed, match="skill:loose: output do not match Intents: intents"):
        registry.handler(StepKind.SKILL, "loose")(None, {"text": "t"})  # type: ignore[arg-type,misc]


def test_a_typed_skill_without_an_output_model_is_refused_where_it_is_defined() -> None:
    with pytest.raises(SequenceFileError) as err:

        @skill("no-output")
        def no_output(ctx: StepContext, transcript: Transcript) -> dict:  # type: ignore[type-arg]
            return {}

    assert err.value.path == __file__ and err.value.field == "skill:no-output"
    assert "returns a pydantic model" in err.value.problem


def _pack(root: Path, code: str, sequence: str) -> Path:
    folder = root / "pack"
    (folder / "sequences").mkdir(parents=True)
    (folder / "pack.py").write_text(textwrap.dedent(code))
    (folder / "sequences" / "thing.yaml").write_text(textwrap.dedent(sequence))
    return folder


TYPED_CODE = """
    from pydantic import BaseModel

    from overture.core.step_context import StepContext
    from overture.engine.typed_skills import skill


    class Ask(BaseModel):
        question: str
        tone: str = "plain"


    class Answer(BaseModel):
        text: str
        words: int


    @skill("answer")
    def answer(ctx: StepContext, ask: Ask) -> Answer:
        return Answer(text=ask.question, words=len(ask.question.split()))
"""


def _errors(folder: Path) -> list[str]:
    with pytest.raises(PackInvalid) as err:
        load_packs([str(folder)], Settings(database_url="sqlite://", schedules=[]))
    return [str(e) for e in err.value.errors]


def test_validate_reports_a_missing_input_and_an_unknown_field_at_their_lines(tmp_path: Path) -> None:
    folder = _pack(
        tmp_path,
        TYPED_CODE,
        """\
        event_type: thing
        steps:
          - name: ask
            uses: skill:answer
            with:
              tone: warm
          - name: use
            uses: skill:answer
            with:
              question: "{{ outputs.ask.body }}"
        """,
    )
    seq = folder / "sequences" / "thing.yaml"
    assert _errors(folder) == [
        f"{seq}:5: steps[0].with: skill:answer takes Ask, which requires question; add it to with",
        f"{seq}:10: steps[1].with.question: reads outputs.ask.body, but skill:answer returns Answer "
        "with fields text, words",
    ]


def test_validate_refuses_a_read_of_a_step_that_has_not_run_yet(tmp_path: Path) -> None:
    folder = _pack(
        tmp_path,
        TYPED_CODE,
        """\
        event_type: thing
        steps:
          - name: first
            uses: skill:answer
            when: "outputs.second.words > 3"
            with:
              question: "{{ outputs['frist'].text }}"
          - name: second
            uses: skill:answer
            with:
              question: "{{ event.payload.q }}"
        """,
    )
    errors = _errors(folder)
    assert len(errors) == 2
    assert errors[0].endswith(
        ":5: steps[0].when: reads outputs.second, but no earlier step is named 'second' "
        "(it is the first step)"
    )
    assert ":7: steps[0].with.question: reads outputs.frist" in errors[1]


def test_validate_refuses_a_handler_the_runner_cannot_call_where_it_is_defined(tmp_path: Path) -> None:
    """A keyword-only guess at the handler signature used to pass validation and fail at run time."""
    folder = _pack(
        tmp_path,
        """\
        def register(registry, settings):
            @registry.skill("guess")
            def guess(*, ctx, inputs):
                return {}
        """,
        """\
        event_type: thing
        steps:
          - name: a
            uses: skill:guess
        """,
    )
    [error] = _errors(folder)
    assert error.startswith(f"{folder / 'pack.py'}:2: skill:guess: a handler is called as fn(ctx, inputs)")
    assert "this one takes (*, ctx, inputs)" in error


def test_a_pack_whose_code_does_not_import_is_reported_at_its_line(tmp_path: Path) -> None:
    folder = _pack(tmp_path, "import os\nx = os.no_such_thing\n", "event_type: thing\nsteps: []\n")
    [error] = _errors(folder)
    assert error.startswith(f"{folder / 'pack.py'}:2: (python): AttributeError:")


@pytest.mark.parametrize("name", ["sales", "planner", "demo"])
def test_every_built_in_pack_validates_by_its_folder(name: str) -> None:
    """Copying a built-in pack as a template starts from a folder that validates."""
    result = CliRunner().invoke(cli, ["packs", "validate", str(BUILTIN / name)])
    assert result.exit_code == 0, result.output
    assert "all valid" in result.output
