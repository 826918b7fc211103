"""Skill sessions in the browser: the same session as ``overture skills chat``, for the
signed-in person, on a phone too.

``/skills`` lists the prose skills the packs registered; starting one assembles its context
exactly as the CLI does, in the person's own time zone, and holds the session on the server
(:class:`overture.skills.session.hosted.SessionHost`): the process that started it holds the
conversation, and what it said and what the person sent go through the database, so any server
process can show the page, take an answer or stream the turns. The vault is the person's own when
the deployment gives each user one (``OVERTURE_VAULT=/srv/vaults/{user}``), and the model calls
are billed to the person's org and stop at its AI budget
(:class:`overture.skills.session.billing.OrgMeter`). Its page shows the turns and the
question waiting; answers are plain form posts (Enter takes the offered answer), with End and
Cancel beside them. With the console's script, the turns stream in as they are produced
(server-sent events from ``/skills/sessions/{id}/events``) and answers post without reloading.

A session is its starter's alone: anyone else, in the org or not, gets a 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from overture.app import App
from overture.errors import ValidationFailed
from overture.http.console.pages import HEADERS, render
from overture.http.console.session import Viewer, same, signed_in, viewer_of
from overture.skills.context.scope import resolve_for
from overture.skills.environment import SkillEnvironment
from overture.skills.session.billing import OrgMeter
from overture.skills.session.hosted import SessionHost, SessionView
from overture.skills.session.live import Entry, LiveConversation
from overture.skills.session.model_session import DEFAULT_BUDGET_USD
from overture.skills.session.run import run_session
from overture.skills.skillfile import SkillFile
from overture.skills.step import SESSIONS

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])
log = logging.getLogger("overture.http")
Field = Annotated[str | None, Form()]
NO_VAULT = "You have no vault here yet: ask an admin to create your vault folder."
_STALE = "This form is out of date. Go back, reload and try again."
_LOST = "The session was lost: the server process holding it stopped. Start it again."


def _app(request: Request) -> App:
    app: App = request.app.state.overture
    return app


def _registered(request: Request) -> dict[str, tuple[SkillFile, SkillEnvironment]]:
    found: dict[str, tuple[SkillFile, SkillEnvironment]] = _app(request).registry.extensions.get(SESSIONS, {})
    return found


def _host(request: Request) -> SessionHost:
    """This process's session host, made on first use."""
    state = request.app.state
    if not hasattr(state, "skill_sessions"):
        app = _app(request)
        state.skill_sessions = SessionHost(app.store, app.clock)
    host: SessionHost = state.skill_sessions
    return host


async def _mine(request: Request, viewer: Viewer, session_id: str) -> SessionView | None:
    return await asyncio.to_thread(_host(request).view, session_id, viewer.org_id, viewer.user_id)


def _not_found(request: Request, viewer: Viewer) -> Response:
    return render(
        request, "error.html", 404, viewer=viewer, title="Not found", message="There is no such session."
    )


def _list(request: Request, viewer: Viewer, status: int = 200, error: str | None = None) -> Response:
    skills = [s for s, _ in _registered(request).values() if s.runs_orchestrated]
    skills_sorted = sorted(skills, key=lambda s: s.name)
    mine = _host(request).sessions(viewer.org_id, viewer.user_id)
    return render(
        request, "skills.html", status, viewer=viewer, skills=skills_sorted, sessions=mine, error=error
    )


@router.get("/skills")
def skills_page(request: Request) -> Response:
    """The skills one can hold a session of, and one's own sessions."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    return _list(request, viewer)


async def _hold(
    live: LiveConversation, skill: SkillFile, env: SkillEnvironment, app: App, date: str | None, org_id: str
) -> None:
    meter = OrgMeter(app.store, org_id, app.clock)
    try:
        run = await run_session(
            skill, env, app.clock.now(), live, date, budget_usd=DEFAULT_BUDGET_USD, meter=meter
        )
        live.close(f"Session over: {run.summary.status.value}")
    except Exception as exc:  # the page must say it ended; the reason is ours, never the notes
        log.warning("skill session %s failed: %s", skill.name, type(exc).__name__)
        live.close(f"The session failed: {exc}")


@router.post("/skills/{name}/start")
async def start(request: Request, name: str, csrf: Field = None, date: Field = None) -> Response:
    """Start a session of ``name`` for the signed-in person, in their time zone."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    if not same(csrf, viewer.csrf):
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=_STALE)
    found = _registered(request).get(name)
    if found is None:
        return render(
            request, "error.html", 404, viewer=viewer, title="Not found", message="There is no such skill."
        )
    skill, env = found
    expression = (date or "").strip() or None
    try:
        env = env.for_user(viewer.user_id).with_timezone(viewer.user.timezone)
        resolve_for(skill, expression, _app(request).clock.now(), env.timezone, env.workdays)
    except ValidationFailed as exc:
        return _list(request, viewer, 422, f"{name}: {exc}")
    if not env.vault.root.is_dir():
        log.info("skill session refused: no vault folder for user %s", viewer.user_id)
        return _list(request, viewer, 409, NO_VAULT)
    app = _app(request)
    session_id = await _host(request).start(
        viewer.org_id,
        viewer.user_id,
        name,
        lambda live: _hold(live, skill, env, app, expression, viewer.org_id),
    )
    return RedirectResponse(f"/skills/sessions/{session_id}", status_code=303)


def _turns(entries: list[Entry]) -> list[Entry]:
    """Entries as the page shows them: a model's streamed pieces joined into one turn."""
    shown: list[Entry] = []
    for entry in entries:
        if entry.kind == "stream" and shown and shown[-1].kind == "stream":
            shown[-1] = Entry("stream", shown[-1].text + entry.text)
        else:
            shown.append(entry)
    return [e for e in shown if e.kind != "stream" or e.text.strip()]


@router.get("/skills/sessions/{session_id}")
async def session_page(request: Request, session_id: str) -> Response:
    """The session so far, and the question waiting for an answer."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    view = await _mine(request, viewer, session_id)
    if view is None:
        return _not_found(request, viewer)
    turns = _turns(view.entries)
    if view.lost:
        turns.append(Entry("done", _LOST))
    return render(
        request,
        "skill_session.html",
        viewer=viewer,
        held=view.row,
        turns=turns,
        seen=len(view.entries),
        question=view.question,
        finished=view.finished,
    )


async def _settle(host: SessionHost, session_id: str, seen: int, wait_s: float = 10.0) -> None:
    """Wait (a little) until the session asks again or ends, so a page loaded next shows it."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait_s):
            async for _, entry in host.follow(session_id, seen):
                if entry.kind in ("ask", "done"):
                    return


@router.post("/skills/sessions/{session_id}/answer")
async def answer(
    request: Request, session_id: str, csrf: Field = None, text: Field = None, action: Field = None
) -> Response:
    """Send an answer (empty: the offered one), or end or cancel the session."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    if not same(csrf, viewer.csrf):
        return render(request, "error.html", 403, viewer=viewer, title="Expired form", message=_STALE)
    view = await _mine(request, viewer, session_id)
    if view is None:
        return _not_found(request, viewer)
    if not view.finished:
        host = _host(request)
        deed = action if action in ("end", "cancel") else "answer"
        await host.send(session_id, deed, text or "")
        if request.headers.get("x-overture-fetch"):
            return Response(status_code=204, headers=HEADERS)
        await _settle(host, session_id, len(view.entries))
    elif request.headers.get("x-overture-fetch"):
        return Response(status_code=409, headers=HEADERS)
    return RedirectResponse(f"/skills/sessions/{session_id}", status_code=303)


@router.get("/skills/sessions/{session_id}/events")
async def events(request: Request, session_id: str, after: int = 0) -> Response:
    """The session's entries after ``after``, as server-sent events, until it is over."""
    viewer = viewer_of(request)
    view = await _mine(request, viewer, session_id) if viewer is not None else None
    if view is None:
        return Response(status_code=404, headers=HEADERS)
    host = _host(request)

    async def stream() -> AsyncIterator[str]:
        async for seq, entry in host.follow(session_id, max(0, after)):
            yield f"id: {seq}\ndata: {json.dumps(entry.as_dict(), ensure_ascii=False)}\n\n"
        yield "event: end\ndata: {}\n\n"

    headers = {**HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
