"""Cancelling a job from its page: a confirm page asks why (a page of its own, so the job
page's refresh cannot wipe what is typed), and the cancel is the same operation as
``overture jobs cancel`` and ``POST /v1/jobs/{id}/cancel``, audited with who and why and ``web``
as the channel. Only the job's owner or an org admin may; another org's job is not found.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from overture.engine.run.cancel import cancel_job
from overture.errors import Conflict, NotFound, ValidationFailed
from overture.http.console.pages import render
from overture.http.console.retries import _app, _back, _refused, confirm_page
from overture.http.console.session import signed_in, viewer_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])


@router.get("/jobs/{job_id}/cancel")
def confirm(request: Request, job_id: str) -> Response:
    """Ask why before cancelling a job not yet ended."""
    return confirm_page(request, job_id, "job_cancel.html", ended=False)


@router.post("/jobs/{job_id}/cancel")
def cancel(
    request: Request,
    job_id: str,
    csrf: Annotated[str | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Cancel the job: it never runs again, a running step's outcome is dropped, its pending
    approvals are closed."""
    viewer = viewer_of(request)
    refused = _refused(request, viewer, job_id, csrf)
    if refused is not None:
        return refused
    assert viewer is not None
    app = _app(request)
    try:
        cancel_job(app.store, app.clock, job_id, viewer.user_id, reason, "web", viewer.org_id)
    except ValidationFailed as exc:
        return render(request, "error.html", 422, viewer=viewer, title="Not cancelled", message=str(exc))
    except (Conflict, NotFound) as exc:
        return render(request, "error.html", 409, viewer=viewer, title="Not cancelled", message=str(exc))
    return _back(job_id, "cancelled")
