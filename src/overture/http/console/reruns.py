"""Running a job's event again as a new job, from the job's page: a confirm page asks why, then
the same replay as ``overture events replay`` and ``POST /v1/events/{id}/replay`` (every gate
but dedupe, the new event naming the one it repeats), audited with who and why and ``web`` as
the channel. Only for a job that has ended, and only its owner or an org admin may.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from overture.engine.intake.replay import replay_event
from overture.errors import NotFound, ValidationFailed
from overture.http.console.pages import render
from overture.http.console.retries import _app, _back, _refused, confirm_page
from overture.http.console.session import signed_in, viewer_of
from overture.storage.queries import jobs as jobq

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])


@router.get("/jobs/{job_id}/replay")
def confirm(request: Request, job_id: str) -> Response:
    """Ask why before running an ended job's event again."""
    return confirm_page(request, job_id, "job_replay.html", ended=True)


@router.post("/jobs/{job_id}/replay")
def replay(
    request: Request,
    job_id: str,
    csrf: Annotated[str | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Replay the job's event; show the new job, or why the gates did not make one."""
    viewer = viewer_of(request)
    refused = _refused(request, viewer, job_id, csrf)
    if refused is not None:
        return refused
    assert viewer is not None
    app = _app(request)
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id, viewer.org_id)
    assert job is not None
    if not job.status.final:
        return _back(job_id, "not_ended")
    try:
        done = replay_event(
            app.store, app.ingestor, app.clock, job.event_id, viewer.user_id, reason, "web", viewer.org_id
        )
    except (ValidationFailed, NotFound) as exc:
        return render(request, "error.html", 422, viewer=viewer, title="Not run again", message=str(exc))
    result = done.result
    if result.job_id is None or result.status not in ("accepted", "deferred"):
        message = f"The event was {result.status}: {result.detail}"
        return render(request, "error.html", 409, viewer=viewer, title="Not run again", message=message)
    return RedirectResponse(f"/jobs/{result.job_id}?said=replayed", status_code=303)
