"""What the console's pages show, and how they are rendered: Jinja2, autoescaped, strict.

Templates live in ``templates/``, the stylesheet and the one small script in ``static/``.
Every page is sent with a Content-Security-Policy that allows only our own stylesheet, script
and forms (no inline script or style anywhere), and is never cached: it shows a person's drafts.
A draft's body is Markdown (a proposal has headings and lists): it is rendered with raw HTML
off, so whatever a model or a sender wrote cannot add markup, scripts or styles to the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

from overture import __version__
from overture.core.drafts import editable_fields, label
from overture.core.records import ActionStatus, Job, PendingAction
from overture.http.console.session import Viewer
from overture.storage.queries import approval_messages as messageq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import tenancy

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
VERBS = {
    ActionStatus.APPROVED: "Approved",
    ActionStatus.EDITED: "Edited and approved",
    ActionStatus.SKIPPED: "Skipped",
    ActionStatus.CANCELLED: "Cancelled",
    ActionStatus.EXPIRED: "Expired unanswered",
}


def _when(moment: datetime | str | None, zone: str = "UTC") -> str:
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone)


def _pretty(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= 20_000 else text[:20_000] + "\n…"


def _ago(moment: datetime | str | None, now: datetime) -> str:
    """How long ago, in the largest whole unit: "just now", "5 min ago", "3 h ago", "2 days ago"."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3_600:
        return f"{seconds // 60} min ago"
    if seconds < 86_400:
        return f"{seconds // 3_600} h ago"
    days = seconds // 86_400
    return f"{days} day{'s' if days > 1 else ''} ago"


#: CommonMark with raw HTML off (it is shown as text), and a line break kept as one: an email
#: body written as plain text reads as it was typed.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})


def markdown(text: str) -> Markup:
    """``text`` as HTML: Markdown rendered, raw HTML escaped, unsafe link schemes dropped."""
    return Markup(_MARKDOWN.render(text))


def _short(value: Any, width: int = 140) -> str:
    """A step's output on one line, for the timeline: text as is, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, dict) and len(value) == 1:
        [(key, inner)] = value.items()
        value = {key: inner} if not isinstance(inner, str) else f"{key}: {inner}"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _duration(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms < 1_000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{int(ms // 60_000)} min {int(ms % 60_000 // 1000)} s"


def _cost(usd: float | None) -> str:
    if not usd:
        return ""
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["pretty"] = _pretty
    env.filters["ago"] = _ago
    env.filters["markdown"] = markdown
    env.filters["short"] = _short
    env.filters["duration"] = _duration
    env.filters["cost"] = _cost
    env.globals["version"] = __version__
    return env


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page, rendered with the service's environment (made once per service)."""
    state = request.app.state
    env: Environment | None = getattr(state, "console_templates", None)
    if env is None:
        env = state.console_templates = environment()
    context.setdefault("now", state.overture.clock.now())
    context.setdefault("live", None)
    if context["live"] and "page" not in context:  # what a live page fetches to redraw itself
        query = request.url.query
        context["page"] = request.url.path + (f"?{query}" if query else "")
    html = env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


@dataclass
class Card:
    """One pending (or decided) action as the inbox and its page show it."""

    action: PendingAction
    owner: str
    decider: str | None
    may_decide: bool
    delivery: dict[str, Any] | None
    fields: list[dict[str, str]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    options: list[dict[str, Any]] = field(default_factory=list)
    grounding: list[dict[str, Any]] = field(default_factory=list)
    edited: bool = False
    job: Job | None = None
    trigger: str = ""

    @property
    def why(self) -> str:
        """Why it waits: what its step does once decided, and that nothing happens before."""
        held = _HELD.get(self.action.pattern, "nothing is done")
        return f"Step {self.action.step_name} waits for {self.owner}'s decision: {held} until then."

    @property
    def pending(self) -> bool:
        return self.action.status == ActionStatus.PENDING

    @property
    def verb(self) -> str:
        return VERBS.get(self.action.status, self.action.status.value)


_HELD = {
    "draft": "nothing is sent",
    "confirm": "nothing changes",
    "select": "nothing is created",
}


def trigger_summary(payload: dict[str, Any], fields: int = 3) -> str:
    """A few short plain fields of an event's payload, to recognise it by (not the transcript)."""
    shown = [
        f"{k}: {v}"
        for k, v in payload.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool) and 0 < len(str(v)) <= 60
    ]
    return " · ".join(shown[:fields])


def _delivery(conn: sa.Connection, action: PendingAction) -> dict[str, Any] | None:
    """How the request reached (or did not reach) the person, for the card."""
    row = messageq.notice(conn, messageq.REQUEST + action.id)
    if row is None:
        return None
    body = row["body"] or {}
    return {
        "status": row["status"],
        "channel": str(body.get("channel") or row["channel"]),  # a failure names the channel tried
        "send_after": row["send_after"],
        "error": body.get("error"),
    }


def card(
    conn: sa.Connection,
    viewer: Viewer,
    action: PendingAction,
    values: dict[str, Any] | None = None,
    selected: list[str] | None = None,
) -> Card:
    """The card for ``action``, with ``values`` (a submitted form) in place of the draft's."""
    names = {u.id: u.name for u in tenancy.list_users(conn, action.org_id)}
    draft = action.effective_draft()
    shown = {**draft, **(values or {})}
    out = Card(
        action=action,
        owner=names.get(action.user_id, action.user_id),
        decider=names.get(action.decided_by or "", action.decided_by),
        may_decide=viewer.may_decide(action.user_id),
        delivery=_delivery(conn, action),
        fields=[
            {"name": n, "label": label(n), "value": str(shown.get(n, ""))} for n in editable_fields(draft)
        ],
    )
    out.job = jobq.get_job(conn, action.job_id, action.org_id)
    if out.job is not None:
        out.trigger = trigger_summary(out.job.trigger_payload)
    raw_grounding = action.draft.get("grounding")
    if isinstance(raw_grounding, list):
        out.grounding = [g for g in raw_grounding if isinstance(g, dict) and g.get("text")]
        out.edited = draft.get("body") != action.draft.get("body")
    if action.pattern == "confirm":
        raw = draft.get("changes")
        out.changes = [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else [draft]
    if action.pattern == "select":
        chosen = set(selected if selected is not None else draft.get("selected") or [])
        out.options = [
            {**o, "id": str(o["id"]), "checked": str(o["id"]) in chosen}
            for o in draft.get("options") or []
            if isinstance(o, dict) and "id" in o
        ]
    return out


def job_links(detail: dict[str, Any]) -> list[str]:
    """The pending actions a job's steps wait (or waited) on, from their recorded outputs."""
    found = []
    for step in detail.get("steps", []):
        output = step.get("output")
        if isinstance(output, dict) and isinstance(output.get("pending_action_id"), str):
            found.append(output["pending_action_id"])
    return list(dict.fromkeys(found))


@dataclass
class Moment:
    """One entry of a job's timeline: a recorded attempt at a step, or a step still to come."""

    name: str
    status: str
    index: int
    attempt: int = 0
    started_at: str | None = None
    duration_ms: float | None = None
    cost_usd: float = 0.0
    output: Any = None
    error: str | None = None
    action_id: str | None = None
    upcoming: bool = False

    @property
    def key(self) -> str:
        """A stable id for the page, so a live redraw keeps what did not change."""
        return f"s{self.index}-{self.attempt}" if not self.upcoming else f"s{self.index}-next"


def timeline(
    detail: dict[str, Any], planned: list[str], actions: dict[int, str], ended: bool
) -> list[Moment]:
    """The job's recorded attempts in order, then the planned steps it has not reached: "next"
    while it runs, "not run" once it has ended. ``actions`` gives a gated step's approval."""
    done = [
        Moment(
            name=s["name"],
            status=s["status"],
            index=s["index"],
            attempt=s["attempt"],
            started_at=s["started_at"],
            duration_ms=s["duration_ms"],
            cost_usd=s["cost_usd"],
            output=s["output"],
            error=s["error"],
            action_id=actions.get(s["index"]),
        )
        for s in detail.get("steps", [])
    ]
    reached = max((m.index for m in done), default=-1)
    still = [
        Moment(name=name, status="not run" if ended else "next", index=i, upcoming=True)
        for i, name in enumerate(planned)
        if i > reached
    ]
    return done + still
