"""``serve --reload``: a pack edited while Overture runs is used from the next job; a broken edit
is reported at its line and the running pack stays."""

from __future__ import annotations

import queue
from pathlib import Path

from overture.cli.reload import PackReloader, Reloaded
from overture.cli.scaffold import scaffold
from overture.sequences import StepKind
from overture.testing import PackHarness

CLASSIFY = '''

class Message(BaseModel):
    message: str


class Topic(BaseModel):
    topic: str


@skill("classify")
def classify(ctx: StepContext, message: Message) -> Topic:
    """Say what a message is about."""
    return Topic(topic="shipping" if "ship" in message.message.lower() else "other")
'''

STEP = """\
  - name: classify
    uses: skill:classify
    with:
      message: "{{ event.payload.message }}"
"""

MESSAGE = {"name": "Ada Lovelace", "email": "ada@example.com", "message": "Do you ship to Lisbon?"}


def _next(results: queue.Queue[Reloaded]) -> Reloaded:
    return results.get(timeout=60)  # a guard against a hang, not a measured time


def test_edits_are_picked_up_and_a_broken_edit_keeps_the_running_pack(tmp_path: Path) -> None:
    pack = tmp_path / "helpdesk"
    scaffold(pack)
    results: queue.Queue[Reloaded] = queue.Queue()
    with PackHarness(pack, tmp_path / "run") as harness:
        reloader = PackReloader(harness.app, results.put)
        assert reloader.folders == [pack.resolve()]
        reloader.start()
        try:
            code = pack / "pack.py"
            code.write_text(code.read_text() + CLASSIFY)
            assert _next(results).ok
            assert (StepKind.SKILL, "classify") in harness.app.registry.handlers

            sequence = pack / "sequences" / "contact_request.yaml"
            good = sequence.read_text().replace("steps:\n", "steps:\n" + STEP, 1)
            sequence.write_text(good)
            reloaded = _next(results)
            assert reloaded.ok and sequence.resolve() in reloaded.changed
            job_id = harness.emit("contact_request", MESSAGE)
            harness.run()
            assert harness.outputs(job_id)["classify"] == {"topic": "shipping"}

            sequence.write_text(good.replace("active_hours: ignore", "active_hours: sometimes"))
            broken = _next(results)
            assert not broken.ok
            [problem] = broken.problems
            assert problem == f"{sequence}:4: active_hours: expected one of defer, ignore, got 'sometimes'"
            steps = [s.name for s in harness.app.registry.sequences["contact_request"].steps]
            assert steps == ["classify", "draft-reply", "send-reply"]
            again = harness.emit("contact_request", {**MESSAGE, "message": "Hello"})
            harness.run()
            assert harness.outputs(again)["classify"] == {"topic": "other"}
        finally:
            reloader.stop()
