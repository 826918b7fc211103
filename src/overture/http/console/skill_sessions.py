"""Skill sessions in the browser: the same session as ``overture skills chat``, for the
signed-in person, on a phone too.

``/skills`` lists the prose skills the packs registered; starting one assembles its context
exactly as the CLI does, in the person's own time zone, and holds the session on the server
(:class:`overture.skills.session.live.LiveConversation`). Its page shows the turns and the
question waiting; answers are plain form posts (Enter takes the offered answer), with End and
Cancel beside them. With the console's script, the turns stream in as they are produced
(server-sent events from ``/skills/sessions/{id}/events``) and answers post without reloading.

A session is its starter's alone: anyone else, in the org or not, gets a 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from overture.app import App
from overture.errors import ValidationFailed
from overture.http.console.pages import HEADERS, render
from overture.http.console.session import Viewer, same, signed_in, viewer_of
from overture.ids import new_id
from overture.skills.context.scope import resolve_for
from overture.skills.environment import SkillEnvironment
from overture.skills.session.live import Entry, LiveConversation
from overture.skills.session.model_session import DEFAULT_BUDGET_USD
from overture.skills.session.run import run_session
from overture.skills.skillfile import SkillFile
from overture.skills.step import SESSIONS

router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in)])
log = logging.getLogger("overture.http")
Field = Annotated[str | None, Form()]
KEEP_FINISHED = 5
_STALE = "This form is out of date. Go back, reload and try again."


@dataclass
class Held:
    """A session on the server: whose it is, which skill, its conversation and task."""

    id: str
    org_id: str
    user_id: str
    skill: str
    live: LiveConversation
    task: asyncio.Task[None]


def _app(request: Request) -> App:
    app: App = request.app.state.overture
    return app


def _registered(request: Request) -> dict[str, tuple[SkillFile, SkillEnvironment]]:
    found: dict[str, tuple[SkillFile, SkillEnvironment]] = _app(request).registry.extensions.get(SESSIONS, {})
    return found


def _held(request: Request) -> dict[str, Held]:
    state = request.app.state
    if not hasattr(state, "skill_sessions"):
        state.skill_sessions = {}
    sessions: dict[str, Held] = state.skill_sessions
    return sessions


def _mine(request: Request, viewer: Viewer, session_id: str) -> Held | None:
    held = _held(request).get(session_id)
    return (
        held if held is not None and (held.org_id, held.user_id) == (viewer.org_id, viewer.user_id) else None
    )


def _forget_old(sessions: dict[str, Held], viewer: Viewer) -> None:
    """Keep a person's open sessions and their last few finished ones; forget the rest."""
    finished = [
        k
        for k, h in sessions.items()
        if (h.org_id, h.user_id) == (viewer.org_id, viewer.user_id) and h.live.finished
    ]
    for key in finished[:-KEEP_FINISHED]:
        del sessions[key]


def _list(request: Request, viewer: Viewer, status: int = 200, error: str | None = None) -> Response:
    skills = [s for s, _ in _registered(request).values() if s.runs_orchestrated]
    skills_sorted = sorted(skills, key=lambda s: s.name)
    mine = [h for h in _held(request).values() if (h.org_id, h.user_id) == (viewer.org_id, viewer.user_id)]
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
    live: LiveConversation, skill: SkillFile, env: SkillEnvironment, app: App, date: str | None
) -> None:
    try:
        run = await run_session(skill, env, app.clock.now(), live, date, budget_usd=DEFAULT_BUDGET_USD)
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
        env = env.with_timezone(viewer.user.timezone)
        resolve_for(skill, expression, _app(request).clock.now(), env.timezone, env.workdays)
    except ValidationFailed as exc:
        return _list(request, viewer, 422, f"{name}: {exc}")
    live = LiveConversation()
    task = asyncio.create_task(_hold(live, skill, env, _app(request), expression))
    held = Held(new_id(), viewer.org_id, viewer.user_id, name, live, task)
    sessions = _held(request)
    sessions[held.id] = held
    _forget_old(sessions, viewer)
    return RedirectResponse(f"/skills/sessions/{held.id}", status_code=303)


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
def session_page(request: Request, session_id: str) -> Response:
    """The session so far, and the question waiting for an answer."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/", status_code=303)
    held = _mine(request, viewer, session_id)
    if held is None:
        return render(
            request, "error.html", 404, viewer=viewer, title="Not found", message="There is no such session."
        )
    live = held.live
    return render(
        request,
        "skill_session.html",
        viewer=viewer,
        held=held,
        turns=_turns(live.entries),
        seen=len(live.entries),
        question=live.question,
        finished=live.finished,
    )


async def _settle(live: LiveConversation, seen: int, wait_s: float = 10.0) -> None:
    """Wait (a little) until the session asks again or ends, so a page loaded next shows it."""
    try:
        async with asyncio.timeout(wait_s):
            while not live.finished and not any(e.kind == "ask" for e in await live.after(seen)):
                seen = len(live.entries)
    except TimeoutError:
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
    held = _mine(request, viewer, session_id)
    if held is None:
        return render(
            request, "error.html", 404, viewer=viewer, title="Not found", message="There is no such session."
        )
    live = held.live
    seen = len(live.entries)
    deed = {"end": live.end, "cancel": live.cancel}.get(action or "")
    if deed is not None:
        deed()
    else:
        live.answer(text or "")
    if request.headers.get("x-overture-fetch"):
        return Response(status_code=204, headers=HEADERS)
    await _settle(live, seen)
    return RedirectResponse(f"/skills/sessions/{session_id}", status_code=303)


@router.get("/skills/sessions/{session_id}/events")
async def events(request: Request, session_id: str, after: int = 0) -> Response:
    """The session's entries after ``after``, as server-sent events, until it is over."""
    viewer = viewer_of(request)
    held = _mine(request, viewer, session_id) if viewer is not None else None
    if held is None:
        return Response(status_code=404, headers=HEADERS)
    live = held.live

    async def stream() -> AsyncIterator[str]:
        seen = max(0, after)
        while True:
            fresh = await live.after(seen)
            for entry in fresh:
                yield f"id: {seen + 1}\ndata: {json.dumps(entry.as_dict(), ensure_ascii=False)}\n\n"
                seen += 1
            if live.finished and seen >= len(live.entries):
                yield "event: end\ndata: {}\n\n"
                return

    headers = {**HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
