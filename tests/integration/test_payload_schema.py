"""A sequence declares the payload fields its steps need; an event without one is refused at
ingest, naming the field, and nothing is recorded (before, it was accepted, failed at step 1 and
was retried for nothing). Tested through the API, the CLI and follow-ups, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.settings import Settings
from overture.storage.tables.orchestrator import events, sequence_jobs
from tests.conftest import MECHANICS, event
from tests.integration.test_http_api import count, in_process, is_problem, issue

CALL = {
    "call_id": "c-1",
    "notes": "We agreed on a pilot.",
    "contact_name": "Dana",
    "contact_email": "dana@globex.example",
    "topic": "the pilot",
    "account": "Globex",
}


@pytest.fixture
def demo(db_url: str, clock: FakeClock) -> Iterator[App]:
    """The built-in demo pack (whose call_ended declares its payload) beside the mechanics pack."""
    app = App(Settings(database_url=db_url, packs=[MECHANICS, "demo"]), clock=clock)
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    yield app
    app.close()


def test_an_event_missing_a_needed_field_is_refused_naming_it(demo: App) -> None:
    """422 problem+json whose detail and errors name payload.contact_email; no event, no job."""
    headers = issue(demo, "acme", "ana")
    payload = {k: v for k, v in CALL.items() if k != "contact_email"}
    with in_process(demo) as api:
        sent = api.post("/v1/events", json=event("call_ended", payload), headers=headers)
        body = is_problem(sent, 422)
        assert body["errors"] == [
            {
                "location": "payload.contact_email",
                "message": "missing; the call_ended sequence needs it (a string)",
            }
        ]
        assert "payload.contact_email" in body["detail"]
        assert (count(demo, events), count(demo, sequence_jobs)) == (0, 0)
        typed = api.post("/v1/events", json=event("call_ended", {**CALL, "notes": 5}), headers=headers)
        assert is_problem(typed, 422)["errors"][0] == {
            "location": "payload.notes",
            "message": "expected a string, got int",
        }
        ok = api.post("/v1/events", json=event("call_ended", CALL), headers=headers)
        assert ok.status_code == 202 and ok.json()["status"] == "accepted"
    assert (count(demo, events), count(demo, sequence_jobs)) == (1, 1)


def test_the_cli_refuses_it_too(demo: App) -> None:
    """`overture emit` exits 2 with the field named on stderr, and records nothing."""
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS, "demo"])}
    payload = json.dumps({**CALL, "topic": None})
    args = ["--db", demo.settings.database_url, "emit", "call_ended", "--org", "acme", "--user", "ana"]
    result = CliRunner().invoke(cli, [*args, "--payload", payload], env=env)
    assert result.exit_code == 2
    assert "payload.topic: null; the call_ended sequence needs it (a string)" in result.output
    assert count(demo, events) == 0


def test_optional_fields_are_typed_only_when_present(tmp_path: Path) -> None:
    """`required: false` lets a field be absent or null, but not of another type."""
    from overture.sequences import load_sequence_text
    from overture.sequences.payload import payload_problems

    seq = load_sequence_text(
        "event_type: x\npayload:\n  thread.id: string\n  n: {type: integer, required: false}\n"
        "steps:\n  - name: a\n    uses: notify\n    with: {text: hi}\n",
        "x.yaml",
    )
    assert seq.payload is not None
    assert payload_problems(seq.payload, {"thread": {"id": "t"}}) == []
    assert payload_problems(seq.payload, {"thread": {"id": "t"}, "n": None}) == []
    assert payload_problems(seq.payload, {"thread": {}, "n": True}) == [
        ("payload.thread.id", "missing; this sequence needs it (a string)"),
        ("payload.n", "expected an integer, got bool"),
    ]


def test_packs_validate_checks_the_payload_block(tmp_path: Path) -> None:
    """A wrong type or key in `payload:` is reported with file, line and field."""
    seqs = tmp_path / "pack" / "sequences"
    seqs.mkdir(parents=True)
    (seqs / "thing.yaml").write_text(
        "event_type: thing\npayload:\n  id: strng\n  when: {type: string, optional: true}\n"
        "steps:\n  - name: a\n    uses: notify\n    with: {text: hi}\n"
    )
    result = CliRunner().invoke(cli, ["packs", "validate", str(tmp_path / "pack")])
    assert result.exit_code == 2
    assert "thing.yaml:3: payload.id: expected a type" in result.output
    assert "did you mean 'string'" in result.output
    assert "thing.yaml:4: payload.when.optional: unknown key 'optional'" in result.output
    good = CliRunner().invoke(cli, ["packs", "validate", "demo"])
    assert good.exit_code == 0, good.output
