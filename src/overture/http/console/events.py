"""The events page: what the org received, newest first, each with its outcome (accepted,
duplicate, deferred, refused and why) and a link to the job it started with that job's status
now, so a failed or cancelled job is found from the event that triggered it. "Only trouble"
keeps the events whose job failed, was cancelled, halted or expired.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from overture.app import App
from overture.http.console.pages import render
from overture.http.console.session import signed_in, viewer_of
from overture.storage.queries import event_log, tenancy

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])

PAGE_SIZE = 50


@router.get("/events")
def events_page(request: Request, trouble: str = "", before: str | None = None) -> Response:
    """The org's received events, a page at a time."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    app: App = request.app.state.overture
    only = trouble == "1"
    with app.store.read() as conn:
        rows = event_log.recent(conn, viewer.org_id, trouble=only, before=before, limit=PAGE_SIZE + 1)
        names = {u.id: u.name for u in tenancy.list_users(conn, viewer.org_id)}
    shown = rows[:PAGE_SIZE]
    older = None
    if len(rows) > PAGE_SIZE:
        older = f"/events?before={shown[-1].id}" + ("&trouble=1" if only else "")
    return render(
        request,
        "events.html",
        viewer=viewer,
        events=shown,
        names=names,
        only=only,
        older=older,
        trouble=event_log.TROUBLE,
    )
