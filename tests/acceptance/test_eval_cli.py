"""`overture eval FILE` as a team uses it: labelled calls through the real webhook, HTTP service
and worker on a throwaway database, scored; a bad file refused before anything runs.

Two packs answer `meeting_ended`: a keyword stand-in (tests/packs/evalstub) whose follow-ups a
test knows in advance, so every cell of the confusion table is checked exactly; and the real
sales pack, whose detector is being rewritten, so its scores are checked against what its jobs
did in the database the run kept, plus the one outcome no detector may get wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from overture.cli.main import cli
from overture.evaluation.scoring import confusion
from overture.storage.tables.integrations import webhook_receipts
from overture.storage.tables.orchestrator import sequence_jobs, users
from tests.unit.test_integrations_apis import FakeApi, Reply, Seen
from tests.unit.test_llm_openai import chat_completion

STUB = str(Path(__file__).parents[1] / "packs" / "evalstub")
REP, COLLEAGUE, PROSPECT = "Dana Whitfield", "Omar Haddad", "Lena Fischer"
ROLES = {REP: "rep", COLLEAGUE: "colleague", PROSPECT: "prospect"}


def call(call_id: str, turns: list[tuple[str, str]], proposal: bool, schedule: bool) -> dict[str, Any]:
    """A labelled call in the file format: ``turns`` are (speaker, text), four seconds each."""
    return {
        "id": call_id,
        "title": f"Title of {call_id}",
        "rep": REP,
        "participants": [
            {"name": REP, "role": "rep"},
            {"name": COLLEAGUE, "role": "colleague"},
            {"name": PROSPECT, "role": "prospect", "company": "Fischer Freight"},
        ],
        "segments": [
            {"speaker": who, "role": ROLES[who], "start": 4.0 * i, "end": 4.0 * i + 3.5, "text": text}
            for i, (who, text) in enumerate(turns)
        ],
        "expected": {"proposal": proposal, "schedule": schedule},
    }


def write(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def run_eval(packs: list[str], *args: str) -> Result:
    env = {"OVERTURE_PACKS": json.dumps(packs), "OVERTURE_LLM_PROVIDER": "offline"}
    return CliRunner().invoke(cli, ["eval", *args], env=env, catch_exceptions=False)


@pytest.fixture
def db_rows(tmp_path: Path) -> Iterator[Any]:
    """Read a kept evaluation database: ``db_rows(path, query)``."""
    engines: list[sa.Engine] = []

    def read(path: Path, query: sa.Select[Any]) -> list[Any]:
        engine = sa.create_engine(f"sqlite:///{path}")
        engines.append(engine)
        with engine.connect() as conn:
            return list(conn.execute(query).mappings())

    yield read
    for engine in engines:
        engine.dispose()


# The stand-in queues proposal_generation for "proposal" and calendar_find_times for "meet again".
STUB_CALLS = [
    call("both", [(PROSPECT, "Send the proposal?"), (REP, "Yes. And let's meet again.")], True, True),
    call("proposal-only", [(COLLEAGUE, "The proposal goes out today.")], True, False),
    call("schedule-only", [(PROSPECT, "Can we meet again?"), (REP, "Sure.")], False, True),
    call("neither", [(PROSPECT, "Thanks for the demo."), (REP, "Bye.")], False, False),
    call("missed", [(REP, "I'll write up the costing for you.")], True, True),
    call("false-alarm", [(PROSPECT, "Our proposal was rejected; we won't meet again.")], False, False),
]


@pytest.mark.parametrize("lanes", ["1", "4"])
def test_the_stub_detector_is_scored_cell_by_cell(tmp_path: Path, db_rows: Any, lanes: str) -> None:
    """Every confusion cell of both labels, the metrics, the wrong calls with titles, and the
    predictions read from child jobs, queued whether or not they then succeed; the same with
    calls run four at a time."""
    source = write(tmp_path / "calls.jsonl", *STUB_CALLS)
    kept = tmp_path / "kept.db"
    result = run_eval([STUB], str(source), "--json", "--keep-db", str(kept), "--concurrency", lanes)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["calls"], report["provider"], report["statuses"]) == (6, "offline", {"completed": 6})
    for label, solo in (("proposal", "proposal-only"), ("schedule", "schedule-only")):
        scored = report["labels"][label]
        assert {k: scored[k] for k in ("tp", "fp", "fn", "tn")} == {"tp": 2, "fp": 1, "fn": 1, "tn": 2}
        assert scored["precision"] == scored["recall"] == scored["f1"] == pytest.approx(2 / 3)
        assert scored["false_negatives"] == [{"id": "missed", "title": "Title of missed"}]
        assert scored["false_positives"] == [{"id": "false-alarm", "title": "Title of false-alarm"}]
        assert solo in {r["id"] for r in report["results"] if r["predicted"][label]}
    both = report["results"][0]
    assert both["followups"] == ["calendar_find_times", "proposal_generation"]
    children = db_rows(kept, sa.select(sequence_jobs).where(sequence_jobs.c.parent_job_id == both["job_id"]))
    assert {c["event_type"]: c["status"] for c in children} == {
        "proposal_generation": "completed",
        "calendar_find_times": "failed",
    }
    assert "progress" not in result.stdout and "Evaluating calls" in result.stderr


def test_only_and_limit_choose_the_calls(tmp_path: Path) -> None:
    """--only (repeatable) picks calls in file order, --limit the first N of those."""
    source = write(tmp_path / "calls.jsonl", *STUB_CALLS)
    picked = run_eval([STUB], str(source), "--json", "--only", "neither", "--only", "both")
    assert [r["id"] for r in json.loads(picked.stdout)["results"]] == ["both", "neither"]
    limited = run_eval([STUB], str(source), "--json", "--limit", "1")
    assert [r["id"] for r in json.loads(limited.stdout)["results"]] == ["both"]
    unknown = run_eval([STUB], str(source), "--only", "nope")
    assert unknown.exit_code == 2 and "--only: no call 'nope'" in unknown.stderr


def test_identical_calls_are_never_merged(tmp_path: Path, db_rows: Any) -> None:
    """The same words under two ids: two webhooks, two jobs, two sets of follow-ups."""
    copy = {**STUB_CALLS[0], "id": "both-again"}
    source = write(tmp_path / "calls.jsonl", STUB_CALLS[0], copy)
    kept = tmp_path / "kept.db"
    report = json.loads(run_eval([STUB], str(source), "--json", "--keep-db", str(kept)).stdout)
    first, second = report["results"]
    assert first["job_id"] != second["job_id"] and first["followups"] == second["followups"] != []
    assert report["labels"]["proposal"]["tp"] == 2
    assert len(db_rows(kept, sa.select(webhook_receipts.c.id))) == 2


# The real sales pack, one call of each label combination.
SALES_CALLS = [
    call(
        "s-both",
        [
            (PROSPECT, "This looks right for our three depots."),
            (REP, "Great. I'll send you the proposal by Friday."),
            (PROSPECT, "Perfect. Let's find a time next week to go through it with my boss."),
            (REP, "Sounds good, I'll look for a slot next week."),
        ],
        True,
        True,
    ),
    call(
        "s-proposal",
        [(PROSPECT, "Can we see numbers?"), (REP, "I'll send you the proposal by Friday.")],
        True,
        False,
    ),
    call(
        "s-schedule",
        [
            (PROSPECT, "Let's meet again next week with our ops lead."),
            (COLLEAGUE, "Good, we'll find a time."),
        ],
        False,
        True,
    ),
    call("s-nothing", [(PROSPECT, "Thanks for the overview."), (REP, "Thank you, bye.")], False, False),
]


def test_the_sales_pack_is_scored_on_what_its_jobs_queued(tmp_path: Path, db_rows: Any) -> None:
    """Through the real MeetingBaaS route and the sales pack's meeting_ended: the reported
    counts are the confusion of the child jobs found in the kept database, each call had its own
    org with its colleague as a user, and a call with nothing in it queues nothing."""
    source = write(tmp_path / "calls.jsonl", *SALES_CALLS)
    kept = tmp_path / "kept.db"
    result = run_eval(["sales"], str(source), "--json", "--keep-db", str(kept))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    receipts = db_rows(kept, sa.select(webhook_receipts.c.provider, webhook_receipts.c.outcome))
    assert [(r["provider"], r["outcome"]) for r in receipts] == [("meetingbaas", "processed")] * 4
    roots = db_rows(kept, sa.select(sequence_jobs).where(sequence_jobs.c.event_type == "meeting_ended"))
    assert len(roots) == 4 and len({r["org_id"] for r in roots}) == 4
    by_org = {r["org_id"]: r for r in roots}
    queued: dict[str, set[str]] = {}
    for r in report["results"]:
        job = by_org[r["org_id"]]
        assert (job["id"], job["status"]) == (r["job_id"], r["status"])
        kids = db_rows(
            kept, sa.select(sequence_jobs.c.event_type).where(sequence_jobs.c.parent_job_id == job["id"])
        )
        queued[r["id"]] = {k["event_type"] for k in kids}
    expected = {c["id"]: c["expected"] for c in SALES_CALLS}
    for label, kind in (("proposal", "proposal_generation"), ("schedule", "calendar_find_times")):
        table = confusion((expected[i][label], kind in queued[i]) for i in expected)
        scored = report["labels"][label]
        assert (scored["tp"], scored["fp"], scored["fn"], scored["tn"]) == (
            table.tp,
            table.fp,
            table.fn,
            table.tn,
        )
    assert queued["s-nothing"] == set()
    assert report["results"][3]["predicted"] == {"proposal": False, "schedule": False}
    people = db_rows(kept, sa.select(users.c.name, users.c.email).where(users.c.org_id == roots[0]["org_id"]))
    domain = f"@{roots[0]['org_id']}.example"
    assert {p["name"] for p in people} == {REP, COLLEAGUE} and all(
        p["email"].endswith(domain) for p in people
    )


def test_the_text_report_shows_the_table_and_the_wrong_calls(tmp_path: Path) -> None:
    """Without --json: the header, a row per label, and each wrong call with its title."""
    source = write(tmp_path / "calls.jsonl", *STUB_CALLS)
    result = run_eval([STUB], str(source))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "6 call(s) through meeting_ended, provider offline" in out
    assert "meeting_ended jobs at the end: completed 6" in out
    assert "label        TP   FP   FN   TN  precision  recall     F1" in out
    assert "proposal      2    1    1    2      0.667   0.667  0.667" in out
    assert "proposal, expected but not queued (FN): 1\n  missed  Title of missed" in out
    assert "schedule, queued but not expected (FP): 1\n  false-alarm  Title of false-alarm" in out


BAD_FILES = [
    ("malformed JSON", '{"id": "x", ', "line 3: not valid JSON"),
    ("missing segments", {k: v for k, v in STUB_CALLS[0].items() if k != "segments"}, "line 3: segments:"),
    (
        "segment without text",
        {**STUB_CALLS[0], "segments": [{**STUB_CALLS[0]["segments"][0], "text": ""}]},
        "line 3: segments[0].text:",
    ),
    (
        "unknown role",
        {**STUB_CALLS[0], "participants": [*STUB_CALLS[0]["participants"], {"name": "X", "role": "buyer"}]},
        'line 3: participants[3].role: "buyer" is not one of rep, colleague, prospect',
    ),
    (
        "non-boolean label",
        {**STUB_CALLS[0], "expected": {"proposal": True, "schedule": "no"}},
        'line 3: expected.schedule: must be true or false (got "no")',
    ),
    ("duplicate id", STUB_CALLS[1], "line 3: id: 'proposal-only' is already used on line 2"),
]


@pytest.mark.parametrize(("kind", "line", "problem"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_exits_2_naming_the_line_and_runs_nothing(
    tmp_path: Path, kind: str, line: dict[str, Any] | str, problem: str
) -> None:
    """Two good calls then a bad one: exit 2, the line and field named, no database made."""
    source = write(tmp_path / "calls.jsonl", STUB_CALLS[0], STUB_CALLS[1], line)
    kept = tmp_path / "kept.db"
    result = run_eval([STUB], str(source), "--keep-db", str(kept))
    assert result.exit_code == 2, result.output
    assert problem in result.stderr and "nothing was run" in result.stderr
    assert result.stdout == "" and not kept.exists()


def keyword_model(seen: Seen) -> Reply:
    """An OpenAI-compatible "model" for the sales pack's skills: it promises a proposal when the
    call says "proposal" and agrees a next meeting on "meet again"; it suggests no tasks. It
    fills the optional fields the answer's schema (sent with the request) declares for a firm,
    commercial commitment and an unfixed meeting, so it follows the sales pack's schema as the
    detector's rewrite changes it."""
    body = json.loads(seen.body)
    form = body["response_format"]["json_schema"]
    given = json.loads(body["messages"][1]["content"])  # the skill's input; [0] is the system prompt
    said = " ".join(str(s["text"]) for s in given.get("segments") or []).lower()
    kinds = form["schema"].get("$defs", {})
    proposal: dict[str, Any] = {
        "speaker": REP,
        "side": "rep",
        "intent": "send_proposal",
        "phrase": "the proposal",
        "confidence": 0.95,
    }
    if "commercial" in kinds.get("CommitmentItem", {}).get("properties", {}):
        proposal["commercial"] = True
    meeting: dict[str, Any] = {"agreed": "meet again" in said}
    if "fixed" in kinds.get("NextMeeting", {}).get("properties", {}):
        meeting["fixed"] = False
    if "segments" in kinds.get("CommitmentItem", {}).get("properties", {}):  # cite where it was said
        segments = given.get("segments") or []
        proposal["segments"] = [s["id"] for s in segments if "proposal" in str(s["text"]).lower()]
        meeting["segments"] = [s["id"] for s in segments if "meet again" in str(s["text"]).lower()]
    answers: dict[str, Any] = {
        "extract-action-items": {"items": []},
        "suggest-next-actions": {"actions": []},
        "detect-intents": {
            "commitments": [proposal] if "proposal" in said else [],
            "questions": [],
            "objections": [],
            "next_meeting": meeting,
        },
    }
    answer = answers.get(form["name"], {"unexpected": form["name"]})
    return Reply(body=chat_completion(json.dumps(answer), model="gpt-4o-mini"))


def test_a_configured_model_is_scored_through_the_sales_pack(tmp_path: Path) -> None:
    """With llm_provider openai the sales pack's skills ask that model (a loopback fake here),
    and the follow-ups its answers lead to are what gets scored."""
    source = write(tmp_path / "calls.jsonl", *STUB_CALLS)
    with FakeApi(keyword_model) as model:
        env = {
            "OVERTURE_PACKS": '["sales"]',
            "OVERTURE_LLM_PROVIDER": "openai",
            "OVERTURE_LLM_MODEL": "gpt-4o-mini",
            "OVERTURE_LLM_API_KEY": "test-key",
            "OVERTURE_LLM_BASE_URL": f"{model.url}/v1",
        }
        result = CliRunner().invoke(cli, ["eval", str(source), "--json"], env=env, catch_exceptions=False)
        asked = {json.loads(s.body)["response_format"]["json_schema"]["name"] for s in model.seen}
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["provider"], report["model"]) == ("openai", "gpt-4o-mini")
    assert {"extract-action-items", "detect-intents", "suggest-next-actions"} <= asked
    for label in ("proposal", "schedule"):
        scored = report["labels"][label]
        assert {k: scored[k] for k in ("tp", "fp", "fn", "tn")} == {"tp": 2, "fp": 1, "fn": 1, "tn": 2}


def test_bench_reports_the_detectors_cost_per_call() -> None:
    """`overture bench --detector FILE` measures the rules alone on the file's calls."""
    calls = Path(__file__).resolve().parents[1] / "data" / "calls" / "tune.jsonl"
    result = CliRunner().invoke(cli, ["bench", "--detector", str(calls), "--json"])
    assert result.exit_code == 0, result.output
    cost = json.loads(result.output)
    assert cost["calls"] == 224 and cost["rounds"] == 3 and cost["cpu_ms_per_call"] > 0
