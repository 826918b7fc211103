"""What the console's pages show, and how they are rendered: Jinja2, autoescaped, strict.

Templates live in ``templates/``, the stylesheet and the one small script in ``static/``.
Every page is sent with a Content-Security-Policy that allows only our own stylesheet, script
and forms (no inline script or style anywhere), and is never cached: it shows a person's drafts.
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

from overture import __version__
from overture.core.drafts import editable_fields, label
from overture.core.records import ActionStatus, PendingAction
from overture.http.console.session import Viewer
from overture.storage.queries import approval_messages as messageq
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
    env.globals["version"] = __version__
    return env


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page, rendered with the service's environment (made once per service)."""
    state = request.app.state
    env: Environment | None = getattr(state, "console_templates", None)
    if env is None:
        env = state.console_templates = environment()
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

    @property
    def pending(self) -> bool:
        return self.action.status == ActionStatus.PENDING

    @property
    def verb(self) -> str:
        return VERBS.get(self.action.status, self.action.status.value)


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
