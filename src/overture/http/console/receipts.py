"""The console's receipts page: meetings MeetingBaaS sent before their account existed.

Such a webhook is kept ``unrouted`` with its transcript. Once the account it names is added, an
org admin sees it here and replays it into its one ``meeting_ended``, exactly as
``overture integrations replay`` and ``POST /v1/webhook-receipts/{id}/replay`` do. Only receipts
that now route to one of the admin's own org's accounts are listed or replayable.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from overture.app import App
from overture.errors import Conflict, NotFound
from overture.http.console.pages import render
from overture.http.console.session import Viewer, same, signed_in, viewer_of
from overture.http.webhooks.replay import Replays

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])

_ADMINS_ONLY = "Only an admin of your organisation can see and replay webhook receipts."


def _app(request: Request) -> App:
    app: App = request.app.state.overture
    return app


def _refused(request: Request, viewer: Viewer | None, csrf: str | None = None) -> Response | None:
    """Why this person may not use the page (signed out, not an admin, a stale form), or None."""
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    if not viewer.is_admin:
        return render(request, "error.html", 403, viewer=viewer, title="Admins only", message=_ADMINS_ONLY)
    if csrf is not None and not same(csrf, viewer.csrf):
        message = "This form is out of date. Go back, reload and retry."
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=message)
    return None


@router.get("/receipts")
def receipts_page(request: Request) -> Response:
    """The org's replayable meetings, newest first, each with a Replay button."""
    viewer = viewer_of(request)
    refused = _refused(request, viewer)
    if refused is not None:
        return refused
    assert viewer is not None
    waiting = Replays(_app(request)).replayable(viewer.org_id)
    return render(request, "receipts.html", viewer=viewer, waiting=waiting)


@router.post("/receipts/{receipt_id}/replay")
def replay(request: Request, receipt_id: str, csrf: Annotated[str | None, Form()] = "") -> Response:
    """Replay one receipt; the person is taken to the job it became (or told who replayed it)."""
    viewer = viewer_of(request)
    refused = _refused(request, viewer, csrf or "")
    if refused is not None:
        return refused
    assert viewer is not None
    try:
        done = Replays(_app(request)).replay(receipt_id, f"{viewer.user_id} via web", org_id=viewer.org_id)
    except NotFound:
        message = "There is no such receipt waiting for your organisation."
        return render(request, "error.html", 404, viewer=viewer, title="Not found", message=message)
    except Conflict as exc:
        return render(request, "error.html", 409, viewer=viewer, title="Not replayable", message=str(exc))
    if done.job_id is None:
        return render(request, "error.html", 409, viewer=viewer, title="Nothing to run", message=done.message)
    return RedirectResponse(f"/jobs/{done.job_id}", status_code=303)
