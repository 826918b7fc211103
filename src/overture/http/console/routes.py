"""The web console at ``/``: the approval inbox, and the org's jobs with their steps and chains.

Plain server-rendered HTML forms that work without JavaScript; the one script adds a
confirmation dialog before Cancel (without it, Cancel asks on a page of its own), folds drafts
on a phone, and keeps the inbox, an approval and a job page current: they listen to
``live.py``'s events and redraw the parts that changed, in place.

Decisions go through ``app.approvals.decide(..., via="web")``, the same path as Slack, the CLI
and the API: the same rules (only the owner or an org admin; a second decision changes nothing
and says who was first), and the Slack message is then updated like after any decision. Edits
are validated field by field and shown next to the field.

Everything is scoped to the signed-in person's org: another org's job or action is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from overture.app import App
from overture.core.drafts import changed, check_edits
from overture.core.records import Decision
from overture.engine.admin.views import job_detail
from overture.errors import Forbidden, NotFound, ValidationFailed
from overture.http.console.live import fingerprint
from overture.http.console.pages import STATIC, card, job_links, render, timeline
from overture.http.console.session import Viewer, same, signed_in, viewer_of
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import tenancy

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])

Field = Annotated[str | None, Form()]
_ASSETS = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
_DECISIONS = {"approve": Decision.APPROVE, "skip": Decision.SKIP, "cancel": Decision.CANCEL}


def _app(request: Request) -> App:
    app: App = request.app.state.overture
    return app


def _home() -> RedirectResponse:
    return RedirectResponse("/", status_code=303)


def _missing(request: Request, viewer: Viewer, what: str) -> Response:
    return render(
        request, "error.html", 404, viewer=viewer, title="Not found", message=f"There is no {what}."
    )


# -- the inbox and one action -----------------------------------------------------------------


@router.get("/")
def inbox(request: Request) -> Response:
    """The signed-in person's pending actions (an admin also sees the rest of the org's)."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/signin", status_code=303)
    app = _app(request)
    with app.store.read() as conn:
        pending = actionq.list_actions(conn, org_id=viewer.org_id, status="pending", limit=200)
        mine = [card(conn, viewer, a) for a in pending if a.user_id == viewer.user_id]
        others = [card(conn, viewer, a) for a in pending if a.user_id != viewer.user_id and viewer.is_admin]
        live = "/live/inbox?seen=" + fingerprint(conn, "inbox", viewer.org_id)
    return render(request, "inbox.html", viewer=viewer, mine=mine, others=others, live=live)


def _action_page(
    request: Request,
    viewer: Viewer,
    action_id: str,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    selected: list[str] | None = None,
    said: str | None = None,
) -> Response:
    app = _app(request)
    with app.store.read() as conn:
        action = actionq.get_action(conn, action_id, viewer.org_id)
        if action is None:
            return _missing(request, viewer, "such approval in your organisation")
        shown = card(conn, viewer, action, values, selected)
        live = f"/live/actions/{action.id}?seen=" + fingerprint(conn, "action", viewer.org_id, action.id)
    return render(
        request,
        "action.html",
        status,
        viewer=viewer,
        card=shown,
        errors=errors or {},
        said=said,
        live=live,
        page=f"/actions/{action.id}" + (f"?said={said}" if said else ""),
    )


@router.get("/actions/{action_id}")
def action_page(request: Request, action_id: str, said: str | None = None) -> Response:
    """One action: its draft, its decision forms (or who decided what, and when)."""
    viewer = viewer_of(request)
    if viewer is None:
        return _home()
    return _action_page(request, viewer, action_id, said=said if said in ("applied", "already") else None)


def _decide(
    request: Request, viewer: Viewer, action_id: str, decision: Decision, mods: dict[str, object] | None
) -> Response:
    try:
        result = _app(request).approvals.decide(
            action_id, decision, viewer.user_id, "web", mods, org_id=viewer.org_id
        )
    except NotFound:
        return _missing(request, viewer, "such approval in your organisation")
    except Forbidden as exc:
        return render(
            request, "error.html", 403, viewer=viewer, title="Not yours to decide", message=str(exc)
        )
    said = "applied" if result.applied else "already"
    return RedirectResponse(f"/actions/{action_id}?said={said}", status_code=303)


@router.post("/actions/{action_id}/decide")
def decide(
    request: Request, action_id: str, csrf: Field = None, decision: Field = None, confirmed: Field = None
) -> Response:
    """Approve, skip or cancel; Cancel is confirmed first (by the script, or a page of its own)."""
    viewer = viewer_of(request)
    if viewer is None:
        return _home()
    if not same(csrf, viewer.csrf):
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=_STALE)
    chosen = _DECISIONS.get(decision or "")
    if chosen is None:
        return render(request, "error.html", 400, viewer=viewer, title="Unknown decision", message=_UNKNOWN)
    if chosen == Decision.CANCEL and confirmed != "yes":
        with _app(request).store.read() as conn:
            action = actionq.get_action(conn, action_id, viewer.org_id)
        if action is None:
            return _missing(request, viewer, "such approval in your organisation")
        return render(request, "cancel.html", viewer=viewer, action=action)
    return _decide(request, viewer, action_id, chosen, None)


@router.post("/actions/{action_id}/edit")
def edit(
    request: Request,
    action_id: str,
    csrf: Field = None,
    to: Field = None,
    subject: Field = None,
    body: Field = None,
    selected: Annotated[list[str] | None, Form()] = None,
    choosing: Field = None,
) -> Response:
    """Apply the edited fields (or the ticked options) and approve; mistakes shown inline (422)."""
    viewer = viewer_of(request)
    if viewer is None:
        return _home()
    if not same(csrf, viewer.csrf):
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=_STALE)
    with _app(request).store.read() as conn:
        action = actionq.get_action(conn, action_id, viewer.org_id)
    if action is None:
        return _missing(request, viewer, "such approval in your organisation")
    if choosing:
        ticked = list(selected or [])
        known = {str(o.get("id")) for o in action.draft.get("options") or [] if isinstance(o, dict)}
        if set(ticked) - known:
            errors = {"selected": "Choose among the options shown."}
            return _action_page(request, viewer, action_id, 422, errors=errors, selected=ticked)
        same_choice = sorted(ticked) == sorted(str(s) for s in action.draft.get("selected") or [])
        mods: dict[str, object] | None = None if same_choice else {"selected": ticked}
        return _decide(request, viewer, action_id, Decision.APPROVE if same_choice else Decision.EDIT, mods)
    given = {k: v for k, v in {"to": to, "subject": subject, "body": body}.items() if v is not None}
    given = {k: v.replace("\r\n", "\n") for k, v in given.items() if k in action.draft}
    errors = check_edits(action.draft, given)
    if errors:
        return _action_page(request, viewer, action_id, 422, errors=errors, values=given)
    edits = changed(action.draft, given)
    try:
        return _decide(
            request, viewer, action_id, Decision.EDIT if edits else Decision.APPROVE, edits or None
        )
    except ValidationFailed as exc:
        return _action_page(request, viewer, action_id, 422, errors={"form": str(exc)}, values=given)


_STALE = "This form is out of date (signed out, or signed in again since). Go back, reload and retry."
_UNKNOWN = "Choose Approve, Skip or Cancel."


# -- jobs -------------------------------------------------------------------------------------


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str, said: str | None = None) -> Response:
    """One job as a timeline of its steps, with its origin, follow-ups, approvals and effects."""
    viewer = viewer_of(request)
    if viewer is None:
        return _home()
    app = _app(request)
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id, viewer.org_id)
        if job is None:
            return _missing(request, viewer, "such job in your organisation")
        detail = job_detail(conn, job)
        names = {u.id: u.name for u in tenancy.list_users(conn, viewer.org_id)}
        event = jobq.get_event(conn, job.event_id)
        gated: dict[int, str] = {}
        for step in detail["steps"]:
            found = actionq.action_for_step(conn, job.id, step["index"])
            if found is not None:
                gated[step["index"]] = found.id
        live = f"/live/jobs/{job.id}?seen=" + fingerprint(conn, "job", viewer.org_id, job.id)
    sequence = app.registry.sequences.get(job.event_type)
    planned = [s.name for s in sequence.steps] if sequence is not None else []
    return render(
        request,
        "job.html",
        viewer=viewer,
        job=detail,
        event=event,
        names=names,
        actions=job_links(detail),
        steps=timeline(detail, planned, gated, job.status.final),
        running=not job.status.final,
        may_retry=viewer.may_decide(job.user_id),
        said=said,
        live=live,
    )


@router.get("/static/{name}")
def asset(name: str) -> Response:
    """The console's stylesheet and script (nothing else is served from here)."""
    if name not in _ASSETS:
        return Response(status_code=404)
    return FileResponse(
        STATIC / name, media_type=_ASSETS[name], headers={"Cache-Control": "public, max-age=300"}
    )
