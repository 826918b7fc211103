"""What each client method asks of the API, written once for both clients.

A method is a generator that yields the ``Call`` it needs answered and receives the decoded JSON
body; ``Client`` drives it with httpx's blocking client, ``AsyncClient`` with its async one. An
error answer never reaches a generator: the driver raises it (``errors.error_for``). Requests are
checked first with the server's own models, so a bad argument fails before anything is sent.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from overture.core.events import EventIn
from overture.core.gates import Outcome
from overture.core.records import Decision, JobStatus
from overture.core.wire import (
    Approval,
    Chain,
    EventRejected,
    EventResult,
    JobDetail,
    JobOutcome,
    JobSummary,
    WaitTimedOut,
)
from overture.http.api.models import (
    ApprovalList,
    CancelOut,
    DecisionIn,
    DecisionOut,
    JobList,
    OperationIn,
    RetryIn,
)

#: The longest wait one request asks of the server (``GET /v1/jobs/{id}?wait=``, at most 30 s).
LONG_POLL_S = 30.0
#: How much longer than the wait it asked for a long poll may take to answer.
ANSWER_MARGIN_S = 10.0

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call:
    """One request: method, path, query, JSON body, headers, and a read timeout when the
    default one is too short (a long poll)."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None


Flow = Generator[Call, Any, T]


def fetch(call: Call, model: type[M]) -> Flow[M]:
    """One call whose answer is one model."""
    return model.model_validate((yield call))


def _seg(value: str) -> str:
    """An id as one path segment, whatever it holds."""
    return urllib.parse.quote(value, safe="")


def _query(**params: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        out[name] = value.isoformat() if isinstance(value, datetime) else str(value)
    return out


# -- events and waiting ------------------------------------------------------------------


def emit(
    event: Mapping[str, Any] | EventIn, wait: bool, timeout: float, idempotency_key: str | None
) -> Flow[EventResult | JobOutcome]:
    """Send the event; with ``wait``, wait for its job (see ``Client.emit``)."""
    body = event.model_dump(mode="json", exclude_none=True) if isinstance(event, EventIn) else dict(event)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
    receipt = EventResult.model_validate((yield Call("POST", "/v1/events", json=body, headers=headers)))
    if not wait:
        return receipt
    if receipt.status == Outcome.REJECTED:
        raise EventRejected(JobOutcome(event=receipt, job=None))
    if receipt.job_id is None:  # skipped: nothing will run
        return JobOutcome(event=receipt, job=None)
    if receipt.status == Outcome.DEFERRED:  # not before run_after: say so at once
        job = yield from get_job(receipt.job_id)
        return JobOutcome(event=receipt, job=job)
    return (yield from wait_for(receipt.job_id, timeout, receipt))


def wait_for(job_id: str, timeout: float, receipt: EventResult | None = None) -> Flow[JobOutcome]:
    """Long-poll the job until it ends, pauses for a person or is deferred past the wait (the
    server says, by its clock)."""
    deadline = time.monotonic() + timeout
    while True:
        left = max(0.0, deadline - time.monotonic())
        wait = round(min(left, LONG_POLL_S), 3)
        params = {"wait": wait} if wait > 0 else None
        call = Call("GET", f"/v1/jobs/{_seg(job_id)}", params=params, timeout=wait + ANSWER_MARGIN_S)
        asked = time.monotonic()
        job = JobDetail.model_validate((yield call))
        early = time.monotonic() - asked < wait  # the server saw no point in waiting longer
        if job.status.final or job.status == JobStatus.AWAITING_APPROVAL or left <= 0:
            break
        if job.status == JobStatus.DEFERRED and early:
            break
    approvals: list[Approval] = []
    if job.status == JobStatus.AWAITING_APPROVAL:
        approvals = yield from list_approvals(job_id=job_id, status="pending", user_id=None, limit=1000)
    outcome = JobOutcome(event=receipt, job=job, approvals=approvals)
    if not (outcome.settled or outcome.deferred):
        raise WaitTimedOut(outcome, timeout)
    return outcome


# -- jobs ----------------------------------------------------------------------------------


def get_job(job_id: str) -> Flow[JobDetail]:
    return (yield from fetch(Call("GET", f"/v1/jobs/{_seg(job_id)}"), JobDetail))


def chain(job_id: str) -> Flow[Chain]:
    return (yield from fetch(Call("GET", f"/v1/jobs/{_seg(job_id)}/chain"), Chain))


def list_jobs(**filters: Any) -> Flow[JobList]:
    return (yield from fetch(Call("GET", "/v1/jobs", params=_query(**filters)), JobList))


def retry(job_id: str, from_step: str | None, by: str | None) -> Flow[JobSummary]:
    body = RetryIn(from_step=from_step, by=by).model_dump(exclude_none=True)
    return (yield from fetch(Call("POST", f"/v1/jobs/{_seg(job_id)}/retry", json=body), JobSummary))


def cancel(job_id: str, reason: str, by: str | None) -> Flow[CancelOut]:
    body = OperationIn(reason=reason, by=by).model_dump(exclude_none=True)
    return (yield from fetch(Call("POST", f"/v1/jobs/{_seg(job_id)}/cancel", json=body), CancelOut))


# -- approvals -----------------------------------------------------------------------------


def list_approvals(**filters: Any) -> Flow[list[Approval]]:
    page = yield from fetch(Call("GET", "/v1/approvals", params=_query(**filters)), ApprovalList)
    return page.items


def get_approval(action_id: str) -> Flow[Approval]:
    return (yield from fetch(Call("GET", f"/v1/approvals/{_seg(action_id)}"), Approval))


def decide(
    action_id: str, action: Decision | str, modifications: dict[str, Any] | None, decided_by: str | None
) -> Flow[DecisionOut]:
    body = DecisionIn(action=Decision(action), modifications=modifications, decided_by=decided_by)
    call = Call(
        "POST",
        f"/v1/approvals/{_seg(action_id)}/decision",
        json=body.model_dump(mode="json", exclude_none=True),
    )
    return (yield from fetch(call, DecisionOut))
