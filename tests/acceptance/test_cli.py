"""The `overture` command as an operator uses it: admin, emit, jobs, approvals, packs, demo, bench."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from overture.cli.main import cli
from tests.conftest import MECHANICS

BROKEN = str(Path(__file__).parent.parent / "packs" / "broken")


@pytest.fixture
def run(db_url: str, effect_dir: Path) -> object:
    runner = CliRunner()
    env = {"OVERTURE_PACKS": json.dumps([MECHANICS])}

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--db", db_url, *args], env=env, catch_exceptions=False)

    return invoke


def setup_tenancy(run: object) -> None:
    for args in (
        ("orgs", "add", "acme", "--name", "Acme"),
        ("users", "add", "ana", "--org", "acme", "--timezone", "Europe/Paris", "--active-hours", "always"),
        ("users", "add", "boss", "--org", "acme", "--role", "admin", "--active-hours", "always"),
    ):
        result = run(*args)  # type: ignore[operator]
        assert result.exit_code == 0, result.output


def test_admin_commands_validate_and_report(run: object) -> None:
    """Tenancy commands add what they say, and refuse bad input with a clear message."""
    setup_tenancy(run)
    bad_tz = run("users", "add", "x", "--org", "acme", "--timezone", "Mars/Olympus")  # type: ignore[operator]
    assert bad_tz.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in bad_tz.output
    bad_hours = run("users", "add", "y", "--org", "acme", "--active-hours", "25:00-26:00")  # type: ignore[operator]
    assert bad_hours.exit_code == 2 and "active_hours" in bad_hours.output
    no_org = run("features", "set", "five_steps", "--org", "nope", "--disabled")  # type: ignore[operator]
    assert no_org.exit_code == 2 and "no org 'nope'" in no_org.output
    dup = run("orgs", "add", "acme", "--name", "Again")  # type: ignore[operator]
    assert dup.exit_code == 1 and "already exists" in dup.output
    assert run("budgets", "set", "--org", "acme", "--period", "week", "--limit", "12.5").exit_code == 0  # type: ignore[operator]
    listed = json.loads(run("orgs", "list", "--json").output)  # type: ignore[operator]
    assert listed == [{"id": "acme", "name": "Acme"}]


def test_emit_work_and_decide_from_the_cli(run: object) -> None:
    """emit prints the outcome as JSON; the worker runs to the gate; decide resumes the job."""
    setup_tenancy(run)
    out = run("emit", "gated", "--org", "acme", "--user", "ana", "--payload", '{"ref": "r9"}')  # type: ignore[operator]
    emitted = json.loads(out.output)
    assert set(emitted) >= {"event_id", "status", "job_id", "reason"} and emitted["status"] == "accepted"
    assert run("worker", "--until-idle").exit_code == 0  # type: ignore[operator]
    pending = json.loads(run("approvals", "list", "--json").output)  # type: ignore[operator]
    assert [p["job_id"] for p in pending] == [emitted["job_id"]]
    decided = run(  # type: ignore[operator]
        "approvals", "decide", pending[0]["id"], "edit", "--modifications", '{"body": "Edited"}', "--json"
    )
    assert json.loads(decided.output)["status"] == "edited"
    again = run("approvals", "decide", pending[0]["id"], "approve")  # type: ignore[operator]
    assert "already edited by ana via cli" in again.output
    run("worker", "--until-idle")  # type: ignore[operator]
    job = json.loads(run("jobs", "show", emitted["job_id"], "--json").output)  # type: ignore[operator]
    assert job["status"] == "completed"
    assert [s["status"] for s in job["steps"]] == ["completed", "awaiting_approval", "completed", "completed"]
    assert job["execution_metadata"]["approval_gates_hit"] == 1
    listed = json.loads(run("jobs", "list", "--json").output)  # type: ignore[operator]
    assert [j["id"] for j in listed] == [emitted["job_id"]]


def test_bad_cli_input_is_refused_and_nothing_is_written(run: object) -> None:
    """Malformed payload JSON, an unknown event type, and an unknown job id get precise errors."""
    setup_tenancy(run)
    bad_json = run("emit", "gated", "--org", "acme", "--user", "ana", "--payload", "{ref: 1}")  # type: ignore[operator]
    assert bad_json.exit_code == 2 and "--payload: not valid JSON" in bad_json.output
    unknown = run("emit", "nope", "--org", "acme", "--user", "ana")  # type: ignore[operator]
    assert unknown.exit_code == 2 and "unknown event type 'nope'" in unknown.output
    missing = run("jobs", "show", "does-not-exist")  # type: ignore[operator]
    assert missing.exit_code == 2 and "no job 'does-not-exist'" in missing.output
    assert json.loads(run("jobs", "list", "--json").output) == []  # type: ignore[operator]


def test_packs_validate_points_at_each_fault(tmp_path: Path) -> None:
    """A broken pack is refused with file:line: field messages; a good one is summarised."""
    runner = CliRunner()
    bad = runner.invoke(cli, ["packs", "validate", BROKEN])
    assert bad.exit_code == 2
    assert "meeting_done.yaml:5: steps[0].on_failure" in bad.output
    assert "meeting_done.yaml:8: steps[1]" in bad.output and "retry" in bad.output
    assert "other.yaml:5: steps[0].with.x" in bad.output
    good = runner.invoke(cli, ["packs", "validate", MECHANICS])
    assert good.exit_code == 0 and "15 sequence(s)" in good.output


def test_unregistered_skill_is_reported_with_its_line(tmp_path: Path) -> None:
    """A step that names a skill nobody registered is a validation error at its `uses` line."""
    seqs = tmp_path / "pack" / "sequences"
    seqs.mkdir(parents=True)
    (seqs / "thing.yaml").write_text("event_type: thing\nsteps:\n  - name: a\n    uses: skill:ghost\n")
    result = CliRunner().invoke(cli, ["packs", "validate", str(tmp_path / "pack")])
    assert result.exit_code == 2 and "thing.yaml:4: steps[0].uses: no skill named 'ghost'" in result.output


def test_demo_tells_the_story_on_a_fresh_database(tmp_path: Path) -> None:
    """`overture demo` runs end to end in a fresh process and says what happened."""
    proc = subprocess.run(
        [sys.executable, "-m", "overture.cli", "demo", "--engine", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "OVERTURE_DATABASE_URL": "sqlite:///ignored.db"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for fragment in (
        "-> accepted",
        "-> duplicate",
        "-> deferred",
        "-> rejected (user_not_found)",
        "stopped at an approval gate",
        "edited by ana via cli",
        "nothing changed",
        "Outbox: 1 email(s)",
        "proposal_requested [awaiting_approval] depth 2",
    ):
        assert fragment in out
    assert len(list((tmp_path / "demo" / "outbox").glob("*.eml"))) == 1
    assert not (tmp_path / "ignored.db").exists()


def test_demo_tells_the_sales_story(tmp_path: Path) -> None:
    """`overture demo` shows a call ending, the approved follow-up in the outbox, the chained
    proposal waiting, and the morning brief in the seed's format, with no warnings in the way."""
    proc = subprocess.run(
        [sys.executable, "-m", "overture.cli", "demo", "--dir", str(tmp_path / "story")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for fragment in (
        "MeetingBaaS says the discovery call",
        "send_proposal",
        "waits for Maya's approval",
        "proposal_generation -> awaiting_approval",
        "Good morning, Maya.",
        "MEETINGS TODAY",
        "NEEDS YOUR ATTENTION",
        "PIPELINE PULSE",
        "OVERNIGHT UPDATES",
    ):
        assert fragment in out
    assert "WARNING" not in proc.stderr
    assert len(list((tmp_path / "story" / "outbox").glob("*.eml"))) == 1


@pytest.mark.parametrize(
    ("url", "code", "fragment"),
    [
        ("nonsense", 2, "not a database URL we can use"),
        ("mysql://ana:s3cret-pw@db.example/x", 2, "not a database URL we can use"),
        ("postgresql://ana:s3cret-pw@127.0.0.1:1/x", 1, "the database cannot be reached"),
    ],
)
def test_a_bad_database_url_is_one_clear_line_without_the_password(
    url: str, code: int, fragment: str
) -> None:
    """An unusable or unreachable database is named in one line on stderr, never with its password."""
    result = CliRunner().invoke(cli, ["--db", url, "jobs", "list"])
    assert result.exit_code == code
    assert fragment in result.output
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output
