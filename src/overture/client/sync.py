"""``Client``: the HTTP API from blocking code (scripts, tests, notebooks)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar, overload

import httpx

from overture.client import calls
from overture.client.calls import Flow
from overture.client.transport import answer, request_options, settings
from overture.core.events import EventIn
from overture.core.records import Decision, JobStatus
from overture.core.wire import Approval, Chain, EventResult, JobDetail, JobOutcome, JobSummary
from overture.http.api.models import CancelOut, DecisionOut, JobList

T = TypeVar("T")


class Client:
    """A client of one Overture server, acting as one API token's holder.

    ``Client("http://host:8000", token="ov_...")``; both default to ``OVERTURE_URL`` and
    ``OVERTURE_TOKEN``. Use it as a context manager, or ``close()`` it.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url, headers = settings(base_url, token)
        self._timeout = httpx.Timeout(timeout)
        self._http = httpx.Client(base_url=url, headers=headers, timeout=self._timeout, transport=transport)
        self.jobs = Jobs(self)
        self.approvals = Approvals(self)

    def _run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                response = self._http.request(call.method, call.path, **request_options(call, self._timeout))
                call = flow.send(answer(response))
        except StopIteration as done:
            result: T = done.value
            return result

    @overload
    def emit(
        self,
        event: Mapping[str, Any] | EventIn,
        *,
        wait: Literal[True] = True,
        timeout: float = 60.0,
        idempotency_key: str | None = None,
    ) -> JobOutcome: ...

    @overload
    def emit(
        self,
        event: Mapping[str, Any] | EventIn,
        *,
        wait: Literal[False],
        timeout: float = 60.0,
        idempotency_key: str | None = None,
    ) -> EventResult: ...

    def emit(
        self,
        event: Mapping[str, Any] | EventIn,
        *,
        wait: bool = True,
        timeout: float = 60.0,
        idempotency_key: str | None = None,
    ) -> JobOutcome | EventResult:
        """Send an event. With ``wait`` (the default), wait up to ``timeout`` seconds for its job
        to end or pause for a person and return the ``JobOutcome``; without, return the receipt.

        A rejected event raises ``EventRejected``; a skipped one returns an outcome without a
        job; a deferred one returns at once with the job deferred (``outcome.deferred``); a
        duplicate waits for the original's job. ``WaitTimedOut`` when the wait runs out.
        """
        return self._run(calls.emit(event, wait, timeout, idempotency_key))

    def wait(self, job_id: str, timeout: float = 60.0) -> JobOutcome:
        """Wait for a job to end or pause for a person (after a decision, say)."""
        return self._run(calls.wait_for(job_id, timeout))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Jobs:
    """``client.jobs``: read, list, retry and cancel jobs."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, job_id: str) -> JobDetail:
        return self._client._run(calls.get_job(job_id))

    def chain(self, job_id: str) -> Chain:
        return self._client._run(calls.chain(job_id))

    def list(
        self,
        *,
        status: JobStatus | str | None = None,
        event_type: str | None = None,
        user_id: str | None = None,
        since: datetime | None = None,
        before: str | None = None,
        org_id: str | None = None,
        limit: int = 50,
    ) -> JobList:
        """One page, newest first; pass ``page.next_before`` as ``before`` for the next."""
        return self._client._run(
            calls.list_jobs(
                status=status,
                event_type=event_type,
                user_id=user_id,
                since=since,
                before=before,
                org_id=org_id,
                limit=limit,
            )
        )

    def iterate(self, *, page_size: int = 100, **filters: Any) -> Iterator[JobSummary]:
        """Every matching job, newest first, a page at a time (filters as ``list``)."""
        before = filters.pop("before", None)
        while True:
            page = self.list(before=before, limit=page_size, **filters)
            yield from page.items
            if page.next_before is None:
                return
            before = page.next_before

    def retry(self, job_id: str, *, from_step: str | None = None, by: str | None = None) -> JobSummary:
        """Run a failed, halted or expired job again from where it stopped (or ``from_step``)."""
        return self._client._run(calls.retry(job_id, from_step, by))

    def cancel(self, job_id: str, reason: str, *, by: str | None = None) -> CancelOut:
        """Cancel a job not yet ended; ``reason`` goes to the audit log."""
        return self._client._run(calls.cancel(job_id, reason, by))


class Approvals:
    """``client.approvals``: list the actions waiting for a person, and decide them."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        *,
        job_id: str | None = None,
        status: str = "pending",
        user_id: str | None = None,
        org_id: str | None = None,
        limit: int = 100,
    ) -> list[Approval]:
        """Oldest first; ``status`` is an action status or ``all``."""
        return self._client._run(
            calls.list_approvals(job_id=job_id, status=status, user_id=user_id, org_id=org_id, limit=limit)
        )

    def get(self, action_id: str) -> Approval:
        return self._client._run(calls.get_approval(action_id))

    def decide(
        self,
        action_id: str,
        action: Decision | str,
        *,
        modifications: dict[str, Any] | None = None,
        decided_by: str | None = None,
    ) -> DecisionOut:
        """Approve, edit (which also approves), skip or cancel; ``applied`` is false when
        someone had decided first."""
        return self._client._run(calls.decide(action_id, action, modifications, decided_by))
