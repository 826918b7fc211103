"""``overture demo``: the engine end to end on a fresh SQLite file, told step by step."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

import click

from overture.app import App
from overture.cli.common import handle_errors
from overture.cli.jobs import render_job
from overture.core.records import Decision
from overture.engine.admin.views import job_detail
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq

NOTES = (
    "Thanks for walking us through the rollout. Globex wants the pilot live before March. "
    "I'll send you the proposal by Friday. I will book a follow-up with your CFO next week."
)


def say(text: str = "", *, bold: bool = False) -> None:
    click.secho(text, bold=bold)


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to put the demo database and outbox (default: a new temporary folder).",
)
@click.option(
    "--engine",
    is_flag=True,
    help="The engine's own story (gates, a durable run, a chain) instead of the sales copilot's.",
)
@handle_errors
def demo(workdir: Path | None, engine: bool) -> None:
    """A scripted story on a fresh SQLite file: a sales call ends and Overture takes it from there
    (with --engine: the engine's mechanics on a tiny pack)."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="overture-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if not engine:
        from overture.packs.sales.seed import story

        # Sources the demo leaves unconfigured are reported in the story, not as log warnings.
        logging.getLogger("overture").setLevel(max(logging.ERROR, logging.getLogger().level))
        story.run(workdir, say)
        return
    db = workdir / "overture-demo.db"
    for suffix in ("", "-wal", "-shm", "-turn"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db}", packs=["demo"], outbox_dir=workdir / "outbox")
    app = App(settings)
    try:
        _story(app, workdir)
    finally:
        app.close()


def _story(app: App, workdir: Path) -> None:
    say("Overture demo: a sales call ends, and the orchestrator takes it from there.", bold=True)
    say(f"Fresh SQLite database: {workdir / 'overture-demo.db'}\n")
    app.migrate()
    app.admin.add_org("acme", "Acme Robotics")
    app.admin.add_user("acme", "ana", "Ana Ruiz", timezone="UTC", active_hours=None, email="ana@acme.example")
    now_local = app.clock.now()
    start = (now_local + timedelta(hours=3)).strftime("%H:00")
    end = (now_local + timedelta(hours=5)).strftime("%H:00")
    app.admin.add_user(
        "acme",
        "ben",
        "Ben Okafor",
        timezone="UTC",
        active_hours=f"{start}-{end}",
        workdays="mon-sun",
    )
    app.admin.set_budget("acme", "month", 25.0)
    say(
        "1. Tenancy: org 'acme', reps Ana (always reachable) and Ben (active only "
        f"{start}-{end} UTC), an AI budget of $25/month."
    )

    payload = {
        "call_id": "call-042",
        "notes": NOTES,
        "contact_name": "Dana",
        "contact_email": "dana@globex.example",
        "account": "Globex",
        "topic": "the Globex pilot",
    }
    first = app.emit(
        {
            "type": "call_ended",
            "source": "webhook:demo",
            "org_id": "acme",
            "user_id": "ana",
            "payload": payload,
        }
    )
    say(f"\n2. A 'call_ended' event arrives for Ana -> {first.status} ({first.detail}); job {first.job_id}")
    again = app.emit(
        {
            "type": "call_ended",
            "source": "webhook:demo",
            "org_id": "acme",
            "user_id": "ana",
            "payload": payload,
        }
    )
    say(f"   The recorder retries the same webhook -> {again.status}: {again.detail}")
    late = app.emit(
        {
            "type": "call_ended",
            "source": "webhook:demo",
            "org_id": "acme",
            "user_id": "ben",
            "payload": {**payload, "call_id": "call-043"},
        }
    )
    say(f"   A call ends for Ben outside his hours -> {late.status}: {late.detail}")
    ghost = app.emit({"type": "call_ended", "org_id": "acme", "user_id": "nobody", "payload": payload})
    say(f"   An event for an unknown user -> {ghost.status} ({ghost.reason})")

    say("\n3. A worker claims Ana's job and runs its steps, recording each one durably.")
    app.run_until_idle()
    with app.store.read() as conn:
        action = actionq.list_actions(conn, org_id="acme", user_id="ana")[0]
    say(f"   It stopped at an approval gate: '{action.title}' ({action.pattern} pattern).")
    say("   The draft waiting for Ana:")
    for line in action.draft["body"].splitlines():
        say(f"     | {line}")

    say("\n4. Ana edits the greeting and approves (from the CLI; Slack and the web inbox use the same path).")
    body = action.draft["body"].replace("Hi Dana", "Hi Dana, great to meet you")
    result = app.approvals.decide(action.id, Decision.EDIT, "ana", "cli", {"body": body})
    say(f"   -> {result.message}")
    second = app.approvals.decide(action.id, Decision.CANCEL, "ana", "cli")
    say(f"   A second click on Cancel changes nothing: {second.message}")

    say("\n5. The worker resumes at the gated step: the email goes to the outbox, the promise of a")
    say("   proposal chains a 'proposal_requested' job, and Ana gets an inform-only summary.")
    app.run_until_idle()
    emails = sorted((workdir / "outbox").glob("*.eml"))
    say(f"   Outbox: {len(emails)} email(s): {', '.join(e.name for e in emails)}")

    with app.store.read() as conn:
        job = jobq.get_job(conn, first.job_id or "")
        assert job is not None
        detail = job_detail(conn, job)
        pending = actionq.list_actions(conn, org_id="acme")
    say("\n6. The job as `overture jobs show` tells it:\n")
    say(render_job(detail))
    say(f"\n7. Still waiting for a human: {len(pending)} action(s)")
    for a in pending:
        say(f"   - {a.title} (job {a.job_id}, expires {a.expires_at:%Y-%m-%d %H:%M} UTC)")
    db = workdir / "overture-demo.db"
    say(f"\nDone. Explore it yourself: scripts/overture --db sqlite:///{db} jobs list", bold=True)


def register(cli: click.Group) -> None:
    cli.add_command(demo)
