"""The jobs list: the org's jobs, newest first, found by type, status, person, day range and
text in the event that started them, a page of 50 at a time with Newer and Older links.

The filters are a GET form, so a filtered list is a link one can bookmark or send; a filter
that makes no sense (an unknown status, a day that is not a date, a range that ends before
it starts) is said next to the form, with a 400, and lists nothing rather than everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from overture.app import App
from overture.core.records import JobStatus
from overture.engine.admin.views import job_summary
from overture.http.console.pages import render
from overture.http.console.session import signed_in, viewer_of
from overture.storage.queries import tenancy
from overture.storage.queries.job_search import JobFilter, JobPage, UnknownCursor, search

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])

PAGE_SIZE = 50
STATUSES = [s.value for s in JobStatus]


@dataclass(frozen=True)
class Asked:
    """The filters as typed (to show them back in the form and carry them in page links)."""

    type: str = ""
    status: str = ""
    user: str = ""
    since: str = ""
    until: str = ""
    q: str = ""

    def query(self, **cursor: str) -> str:
        fields = {k: v for k, v in vars(self).items() if v}
        return urlencode({**fields, **cursor})


def _day(text: str, zone: ZoneInfo, name: str, errors: dict[str, str]) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = f"{text!r} is not a day; use YYYY-MM-DD, like 2026-11-30."
        return None
    return datetime.combine(day, time.min, zone)


def parse(asked: Asked, org_id: str, zone: ZoneInfo) -> tuple[JobFilter | None, dict[str, str]]:
    """The filter the form asks for, or the error of each field that makes no sense.

    Days are the viewer's own: "until 2026-11-30" includes all of that day where they are."""
    errors: dict[str, str] = {}
    if asked.status and asked.status not in STATUSES:
        errors["status"] = f"Unknown status {asked.status!r}; choose one of: {', '.join(STATUSES)}."
    since = _day(asked.since, zone, "since", errors)
    until = _day(asked.until, zone, "until", errors)
    if until is not None:
        until += timedelta(days=1)
    if since is not None and until is not None and until <= since:
        errors["until"] = "The last day is before the first one."
    if len(asked.q) > 200:
        errors["q"] = "Search for at most 200 characters."
    if errors:
        return None, errors
    found = JobFilter(
        org_id=org_id,
        event_type=asked.type or None,
        status=asked.status or None,
        user_id=asked.user or None,
        since=since,
        until=until,
        text=asked.q or None,
    )
    return found, errors


@router.get("/jobs")
def jobs(
    request: Request,
    type: str = "",
    status: str = "",
    user: str = "",
    since: str = "",
    until: str = "",
    q: str = "",
    before: str | None = None,
    after: str | None = None,
) -> Response:
    """The org's jobs matching the filters, a page at a time."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    app: App = request.app.state.overture
    asked = Asked(type.strip(), status.strip(), user.strip(), since.strip(), until.strip(), q.strip())
    found, errors = parse(asked, viewer.org_id, ZoneInfo(viewer.user.timezone))
    result = JobPage([], None, None)
    with app.store.read() as conn:
        users = tenancy.list_users(conn, viewer.org_id)
        if found is not None:
            try:
                result = search(conn, found, limit=PAGE_SIZE, before=before, after=after)
            except UnknownCursor:
                errors["page"] = "That page no longer exists; start again from the newest jobs."
    types = sorted(set(app.registry.sequences) | ({asked.type} if asked.type else set()))
    return render(
        request,
        "jobs.html",
        400 if errors else 200,
        viewer=viewer,
        jobs=[job_summary(j) for j in result.jobs],
        names={u.id: u.name for u in users},
        users=users,
        types=types,
        statuses=STATUSES,
        asked=asked,
        errors=errors,
        filtered=asked != Asked(),
        older=f"/jobs?{asked.query(before=result.older)}" if result.older else None,
        newer=f"/jobs?{asked.query(after=result.newer)}" if result.newer else None,
    )
