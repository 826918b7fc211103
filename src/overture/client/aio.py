"""``AsyncClient``: the HTTP API from asyncio code; the same methods as ``Client``, awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
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


class AsyncClient:
    """A client of one Overture server for asyncio code (see ``Client``)."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        url, headers = settings(base_url, token)
        self._timeout = httpx.Timeout(timeout)
        self._http = httpx.AsyncClient(
            base_url=url, headers=headers, timeout=self._timeout, transport=transport
        )
        self.jobs = AsyncJobs(self)
        self.approvals = AsyncApprovals(self)

    async def _run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                response = await self._http.request(
                    call.method, call.path, **request_options(call, self._timeout)
                )
                call = flow.send(answer(response))
        except StopIteration as done:
            result: T = done.value
            return result

    @overload
    async def emit(
        self,
        event: Mapping[str, Any] | EventIn,
        *,
        wait: Literal[True] = True,
        timeout: float = 60.0,
        idempotency_key: str | None = None,
    ) -> JobOutcome: ...

    @overload
    async def emit(
        self,
        event: Mapping[str, Any] | EventIn,
        *,
        wait: Literal[False],
        timeout: float = 60.0,
        idempotency_key: str | None = None,
    ) -> EventResult: ...

    async def emit(
        self,
        event: Mapping[str, Any] | EventIn,
        *,
        wait: bool = True,
        timeout: float = 60.0,
        idempotency_key: str | None = None,
    ) -> JobOutcome | EventResult:
        """Send an event and, with ``wait``, wait for its job (see ``Client.emit``)."""
        return await self._run(calls.emit(event, wait, timeout, idempotency_key))

    async def wait(self, job_id: str, timeout: float = 60.0) -> JobOutcome:
        """Wait for a job to end or pause for a person."""
        return await self._run(calls.wait_for(job_id, timeout))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class AsyncJobs:
    """``client.jobs`` of an ``AsyncClient``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, job_id: str) -> JobDetail:
        return await self._client._run(calls.get_job(job_id))

    async def chain(self, job_id: str) -> Chain:
        return await self._client._run(calls.chain(job_id))

    async def list(
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
        return await self._client._run(
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

    async def iterate(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[JobSummary]:
        before = filters.pop("before", None)
        while True:
            page = await self.list(before=before, limit=page_size, **filters)
            for job in page.items:
                yield job
            if page.next_before is None:
                return
            before = page.next_before

    async def retry(self, job_id: str, *, from_step: str | None = None, by: str | None = None) -> JobSummary:
        return await self._client._run(calls.retry(job_id, from_step, by))

    async def cancel(self, job_id: str, reason: str, *, by: str | None = None) -> CancelOut:
        return await self._client._run(calls.cancel(job_id, reason, by))


class AsyncApprovals:
    """``client.approvals`` of an ``AsyncClient``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        *,
        job_id: str | None = None,
        status: str = "pending",
        user_id: str | None = None,
        org_id: str | None = None,
        limit: int = 100,
    ) -> list[Approval]:
        return await self._client._run(
            calls.list_approvals(job_id=job_id, status=status, user_id=user_id, org_id=org_id, limit=limit)
        )

    async def get(self, action_id: str) -> Approval:
        return await self._client._run(calls.get_approval(action_id))

    async def decide(
        self,
        action_id: str,
        action: Decision | str,
        *,
        modifications: dict[str, Any] | None = None,
        decided_by: str | None = None,
    ) -> DecisionOut:
        return await self._client._run(calls.decide(action_id, action, modifications, decided_by))
