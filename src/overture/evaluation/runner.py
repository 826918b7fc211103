"""Running labelled calls through the real ``meeting_ended`` path and reading what it queued.

The point of ``overture eval`` is to score what the product does, not what a detector function
returns in isolation: so each call arrives as the MeetingBaaS ``complete`` webhook, posted to
the real HTTP service (in process) with the API key the receiver checks, and the real worker
runs until idle, with the configured model provider. The database is a throwaway SQLite file,
so nothing of a real org is touched. A call's prediction is read from the database afterwards:
the follow-up jobs its ``meeting_ended`` job queued (children by ``parent_job_id``), whether or
not they then succeed. A job that stopped before queueing (at an approval gate, on a failure)
predicts nothing, and its status is reported so the reader can see why.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.testclient import TestClient

from overture.app import App
from overture.errors import OvertureError, ValidationFailed
from overture.evaluation.calls import LABELS, LabelledCall
from overture.evaluation.staging import StagedCall, complete_webhook, stage
from overture.http import create_app
from overture.settings import Settings
from overture.storage.queries import jobs as jobq

log = logging.getLogger("overture.evaluation")

#: The follow-up job type that stands for each label.
FOLLOWUPS: Mapping[str, str] = {"proposal": "proposal_generation", "schedule": "calendar_find_times"}
WEBHOOK = "/webhooks/meetingbaas"
EVENT = "meeting_ended"
assert set(FOLLOWUPS) == set(LABELS)


class EvaluationError(OvertureError):
    """A call could not be put through the real path."""


@dataclass(frozen=True)
class CallResult:
    """What the real path did with one call: its ``meeting_ended`` job, that job's status at the
    end of the run, and the follow-ups it queued (as labels in ``predicted``)."""

    call_id: str
    title: str
    expected: Mapping[str, bool]
    predicted: Mapping[str, bool]
    org_id: str
    job_id: str
    status: str
    followups: tuple[str, ...]


@dataclass(frozen=True)
class EvalRun:
    """Every call's result, in file order, and how the run was made."""

    results: list[CallResult]
    database_url: str
    provider: str
    model: str | None
    elapsed_s: float


def eval_settings(base: Settings, database: Path) -> tuple[Settings, str]:
    """``base`` (the operator's settings: provider, model, packs) on the throwaway database, with
    the MeetingBaaS API key the receiver will check: the configured one if any (the receiver
    reads the same setting), else a fresh random one for this run."""
    configured = base.meetingbaas_api_key.get_secret_value() if base.meetingbaas_api_key else ""
    key = configured or secrets.token_urlsafe(24)
    settings = base.with_overrides(
        database_url=f"sqlite:///{database}",
        outbox_dir=database.with_suffix(".outbox"),
        # A throwaway file need not survive a power cut: skip the fsync per commit.
        sqlite_synchronous="NORMAL",
        meetingbaas_api_key=key,
    )
    return settings, key


def _deliver(client: TestClient, staged: StagedCall, api_key: str) -> str:
    """Post the call's webhook; the ``meeting_ended`` job it started, or ``EvaluationError``."""
    body = json.dumps(complete_webhook(staged)).encode()
    headers = {"x-meeting-baas-api-key": api_key, "content-type": "application/json"}
    response = client.post(WEBHOOK, content=body, headers=headers)
    where = f"call {staged.call.id} (line {staged.call.line})"
    if response.status_code != 200:
        detail = response.json().get("detail") if response.content else None
        raise EvaluationError(f"{where}: the webhook was refused ({response.status_code}: {detail})")
    ack = response.json()
    started = [e for e in ack.get("events") or [] if e.get("type") == EVENT and e.get("job_id")]
    if ack.get("status") != "processed" or not started:
        raise EvaluationError(
            f"{where}: the webhook started no {EVENT} job ({ack.get('status')}: {ack.get('reason')})"
        )
    return str(started[0]["job_id"])


def _drain(app: App, concurrency: int) -> None:
    """Run the real worker until nothing is runnable now (a retry later is left waiting)."""
    worker = app.worker(concurrency=concurrency)
    worker.idle_horizon_s = 0.0
    worker.run(until_idle=True)


def _result(app: App, staged: StagedCall, job_id: str) -> CallResult:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id, staged.org_id)
        children = jobq.list_jobs(conn, org_id=staged.org_id, parent_job_id=job_id, limit=1000)
    if job is None:
        raise EvaluationError(f"call {staged.call.id}: its {EVENT} job {job_id} is gone")
    kinds = tuple(sorted(c.event_type for c in children))
    call = staged.call
    return CallResult(
        call_id=call.id,
        title=call.title,
        expected=dict(call.expected),
        predicted={label: FOLLOWUPS[label] in kinds for label in LABELS},
        org_id=staged.org_id,
        job_id=job_id,
        status=job.status.value,
        followups=kinds,
    )


def run_calls(
    calls: Sequence[LabelledCall],
    base: Settings,
    database: Path,
    *,
    concurrency: int = 1,
    advance: Callable[[int], None] | None = None,
) -> EvalRun:
    """Put ``calls`` through the real path on a new SQLite database at ``database`` (which must
    not exist), ``concurrency`` calls at a time (one worker lane each); ``advance(n)`` is told
    as each batch finishes."""
    if database.exists():
        raise EvaluationError(f"{database} exists already; the evaluation needs a new database")
    if concurrency < 1:
        raise EvaluationError("concurrency: must be 1 or more")
    started_at = time.monotonic()
    settings, api_key = eval_settings(base, database)
    try:
        app = App(settings)
    except ValidationFailed as exc:  # the settings, not the file: exit 1, not 2
        raise EvaluationError(f"the settings cannot run the evaluation: {exc}") from None
    try:
        app.migrate()
        if EVENT not in app.registry.sequences:
            raise EvaluationError(f"no loaded pack handles {EVENT}: add 'sales' to the packs setting")
        event_types = sorted(app.registry.sequences)
        done: list[tuple[StagedCall, str]] = []
        with TestClient(create_app(app), base_url="http://overture.eval") as client:
            for first in range(0, len(calls), concurrency):
                batch = calls[first : first + concurrency]
                for offset, call in enumerate(batch, start=first + 1):
                    staged = stage(app, call, offset, event_types)
                    done.append((staged, _deliver(client, staged, api_key)))
                _drain(app, concurrency)
                log.info("evaluated %d of %d calls", len(done), len(calls))
                if advance is not None:
                    advance(len(batch))
        results = [_result(app, staged, job_id) for staged, job_id in done]
    finally:
        app.close()
    model = None if settings.llm_provider == "offline" else settings.llm_model or None
    return EvalRun(
        results, settings.database_url, settings.llm_provider, model, time.monotonic() - started_at
    )
