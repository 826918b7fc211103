"""Long-polling a job: ``GET /v1/jobs/{id}?wait=S`` answers when the job ends or pauses for a
person, is deferred past the wait, or when ``S`` seconds have passed, rather than on every poll
of the client.

A worker in this process (``overture serve``) wakes the wait at once through ``App.signals``; a
worker in another process is noticed by re-reading only the job's status, first often and then
less (every 50 ms, doubling to 1 s), so a waiting client costs the database a few reads a second.
When the service stops, every wait answers at once rather than hold up the shutdown.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from fastapi.concurrency import run_in_threadpool

from overture.app import App
from overture.core.records import JobStatus
from overture.engine.run.signals import waited_enough
from overture.errors import NotFound
from overture.storage.queries import jobs as jobq

MAX_WAIT_S = 30
FIRST_POLL_S = 0.05
LAST_POLL_S = 1.0


def _state(app: App, job_id: str, org_id: str | None) -> tuple[JobStatus, datetime | None]:
    with app.store.read() as conn:
        state = jobq.job_state(conn, job_id, org_id)
    if state is None:
        raise NotFound(f"no job {job_id!r}")
    return state


async def until_settled(app: App, job_id: str, org_id: str | None, wait_s: float) -> None:
    """Return once the job (of ``org_id``, when given) has settled, is deferred past the wait,
    or ``wait_s`` has passed; ``NotFound`` at once if there is no such job."""
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def ran(_job_id: str, _status: JobStatus | None) -> None:
        loop.call_soon_threadsafe(woken.set)

    unwatch = app.signals.watch(job_id, ran)  # before the first read: no wake-up is missed
    try:
        deadline = loop.time() + wait_s
        pause = FIRST_POLL_S
        while True:
            woken.clear()
            status, run_after = await run_in_threadpool(_state, app, job_id, org_id)
            left = deadline - loop.time()
            if waited_enough(status, run_after, app.clock.now() + timedelta(seconds=max(left, 0))):
                return
            if app.signals.closed:  # the service is stopping: answer where the job stands now
                return
            if left <= 0:
                return
            try:
                await asyncio.wait_for(woken.wait(), min(pause, left))
            except TimeoutError:
                pause = min(pause * 2, LAST_POLL_S)
    finally:
        unwatch()
