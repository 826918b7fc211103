"""An App for the humans-in-the-loop tests: one sequence per approval pattern, Slack set up
against a fake Web API, and org ``acme`` with ``ana``, ``boss`` (an admin) and ``eve``, each
linked to a Slack user (``U_ANA``, ``U_BOSS``, ``U_EVE``) of workspace ``T111``."""

from __future__ import annotations

import json
from typing import Any

from overture.app import App
from overture.clock import Clock
from overture.core.records import PendingAction
from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from tests.fake_slack import TOKEN
from tests.integration.test_webhooks_accounts import connect

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TASKS = [
    {"id": "t1", "title": "Send the pricing sheet", "due_date": "2026-11-23", "priority": "high"},
    {"id": "t2", "title": "Book a demo with their CTO", "due_date": "2026-11-25", "priority": "medium"},
    {"id": "t3", "title": "Add Dana to the newsletter", "due_date": None, "priority": "low"},
]
CHANGE = {
    "deal_id": "d1",
    "deal": "Acme renewal",
    "from_stage": "qualified",
    "to_stage": "proposal",
    "reason": "they asked for pricing",
}
SEQUENCES = {
    "mail": """
steps:
  - name: compose
    uses: skill:compose
    with:
      to: dana@example.com
      subject: "Our call"
      body: "{{ event.payload.get('body', 'Hi Dana, thanks for the call.') }}"
  - name: send
    uses: skill:send-mail
    approval: {pattern: draft, expires: 48h, title: "Follow-up to Dana"}
    with:
      to: "{{ outputs.compose.to }}"
      subject: "{{ outputs.compose.subject }}"
      body: "{{ outputs.compose.body }}"
  - name: tell
    uses: followup
    with: {type: tell, payload: {text: "Follow-up sent to Dana"}}
""",
    "stage": """
steps:
  - name: move
    uses: skill:move-stage
    approval: {pattern: confirm, expires: 48h, title: "Move Acme renewal to proposal"}
    with: {changes: CHANGES}
""",
    "tasks": """
steps:
  - name: create
    uses: skill:create-tasks
    approval: {pattern: select, expires: 48h, title: "Tasks from the Acme call"}
    with: {options: TASKS, selected: [t1, t2]}
""",
    "tell": """
steps:
  - name: say
    uses: notify
    with: {text: "{{ event.payload.text }}"}
""",
}


def registry() -> Registry:
    """Skills that return what they were given; the sending ones behind their policy gates."""
    reg = Registry()

    @reg.skill("compose")
    def compose(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The draft, as given."""
        return dict(inputs)

    @reg.skill("send-mail", gate="draft")
    def send_mail(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """'Send' the approved email: return exactly what would go out."""
        return {"sent": dict(inputs)}

    @reg.skill("move-stage", gate="confirm")
    def move_stage(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """'Apply' the confirmed stage changes."""
        return {"applied": inputs["changes"]}

    @reg.skill("create-tasks", gate="select")
    def create_tasks(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """'Create' the selected tasks."""
        return {"created": list(inputs["selected"])}

    for event_type, steps in SEQUENCES.items():
        body = steps.replace("CHANGES", json.dumps([CHANGE])).replace("TASKS", json.dumps(TASKS))
        text = f"event_type: {event_type}\nactive_hours: ignore\n{body}"
        reg.add_sequence(load_sequence_text(text, f"{event_type}.yaml"))
    return reg


def make(db_url: str, clock: Clock, slack_base_url: str | None, **settings: Any) -> App:
    """The App; Slack delivery on when ``slack_base_url`` is given."""
    if slack_base_url is not None:
        settings = {"slack_bot_token": TOKEN, "slack_api_base_url": slack_base_url, **settings}
    app = App(
        Settings(database_url=db_url, packs=[], slack_signing_secret=SIGNING_SECRET, **settings),
        clock=clock,
        registry=registry(),
    )
    app.migrate()
    app.admin.add_org("acme", "Acme")
    for user, role in (("ana", "member"), ("boss", "admin"), ("eve", "member")):
        app.admin.add_user(
            "acme",
            user,
            user.title(),
            active_hours=None,
            email=f"{user}@acme.test",
            slack_user_id=f"U_{user.upper()}",
            role=role,
        )
    connect(app, "slack", "T111", user=None)
    return app


def start(app: App, event_type: str, user: str = "ana", **payload: Any) -> PendingAction:
    """Emit an event, run until its job waits at the gate, deliver; return the pending action."""
    result = app.emit({"type": event_type, "org_id": "acme", "user_id": user, "payload": payload})
    app.run_until_idle()
    with app.store.read() as conn:
        [action] = [a for a in actionq.list_actions(conn, "acme") if a.job_id == result.job_id]
    return action


def action_now(app: App, action_id: str) -> PendingAction:
    with app.store.read() as conn:
        action = actionq.get_action(conn, action_id)
    assert action is not None
    return action


def job_status(app: App, job_id: str) -> str:
    with app.store.read() as conn:
        job = jobq.get_job(conn, job_id)
    assert job is not None
    return job.status.value


def notes(app: App, user: str = "ana") -> list[dict[str, Any]]:
    with app.store.read() as conn:
        return noteq.for_user(conn, user)


# -- reading Block Kit -------------------------------------------------------------------------


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every interactive element of a message's actions blocks."""
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def text_of(blocks: list[dict[str, Any]]) -> str:
    """All the text a message shows (sections, their fields, context lines), one string."""
    parts: list[str] = []
    for block in blocks:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts.extend(f["text"] for f in block.get("fields", []))
        parts.extend(e["text"] for e in block.get("elements", []) if block["type"] == "context")
    return "\n".join(parts)
