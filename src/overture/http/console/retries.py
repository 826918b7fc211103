"""Running again from a job's page: a failed job from the step it stopped on, or the effects
(emails, messages, CRM writes) that finally failed or are in doubt.

The same operations as ``overture jobs retry`` / ``jobs retry-effects`` and
``POST /v1/jobs/{id}/effects/retry``, audited with who asked and ``web`` as the channel. Only the
job's owner or an org admin may; another org's job is not found.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from overture.app import App
from overture.engine.run.retries import retry as retry_job
from overture.errors import Conflict, NotFound
from overture.http.console.pages import render
from overture.http.console.session import Viewer, same, signed_in, viewer_of
from overture.storage.queries import jobs as jobq

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])

Csrf = Annotated[str | None, Form()]


def _app(request: Request) -> App:
    app: App = request.app.state.overture
    return app


def _refused(request: Request, viewer: Viewer | None, job_id: str, csrf: str | None) -> Response | None:
    """Why this person may not retry this job (signed out, stale form, not theirs), or None."""
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    if not same(csrf, viewer.csrf):
        message = "This form is out of date. Go back, reload and retry."
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=message)
    with _app(request).store.read() as conn:
        job = jobq.get_job(conn, job_id, viewer.org_id)
    if job is None:
        message = "There is no such job in your organisation."
        return render(request, "error.html", 404, viewer=viewer, title="Not found", message=message)
    if not viewer.may_decide(job.user_id):
        message = "Only the job's owner or an admin of your organisation can run it again."
        return render(request, "error.html", 403, viewer=viewer, title="Not yours", message=message)
    return None


def confirm_page(request: Request, job_id: str, template: str, *, ended: bool) -> Response:
    """The page that asks why before an operation on a job (cancel, replay); ``ended`` says
    whether the operation is for a job that has ended (or, when False, for one that has not)."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    refused = _refused(request, viewer, job_id, viewer.csrf)
    if refused is not None:
        return refused
    with _app(request).store.read() as conn:
        job = jobq.get_job(conn, job_id, viewer.org_id)
    assert job is not None
    if not ended and job.status.final:
        return _back(job_id, "ended")
    return render(request, template, viewer=viewer, job=job)


def _back(job_id: str, said: str) -> RedirectResponse:
    return RedirectResponse(f"/jobs/{job_id}?said={said}", status_code=303)


@router.post("/jobs/{job_id}/retry")
def retry(request: Request, job_id: str, csrf: Csrf = None) -> Response:
    """Queue a failed or halted job again at the step it stopped on; ask an expired one's
    approval again."""
    viewer = viewer_of(request)
    refused = _refused(request, viewer, job_id, csrf)
    if refused is not None:
        return refused
    assert viewer is not None
    app = _app(request)
    try:
        retry_job(
            app.store,
            app.clock,
            app.registry,
            job_id,
            f"{viewer.user_id} via web",
            "web",
            org_id=viewer.org_id,
        )
    except (Conflict, NotFound) as exc:
        return render(request, "error.html", 409, viewer=viewer, title="Not retried", message=str(exc))
    return _back(job_id, "retried")


@router.post("/jobs/{job_id}/effects/retry")
def retry_effects(request: Request, job_id: str, csrf: Csrf = None) -> Response:
    """Queue every failed or in-doubt effect of the job again, with a fresh count of attempts."""
    viewer = viewer_of(request)
    refused = _refused(request, viewer, job_id, csrf)
    if refused is not None:
        return refused
    assert viewer is not None
    app = _app(request)
    try:
        app.effects.retry(job_id=job_id, org_id=viewer.org_id, by=f"{viewer.user_id} via web", via="web")
    except (Conflict, NotFound) as exc:
        return render(request, "error.html", 409, viewer=viewer, title="Not retried", message=str(exc))
    return _back(job_id, "effects_retried")
