"""The sales demo's story (issue 5, part 6), told on a fresh SQLite file with the offline model.

A discovery call ends -> action items, intents and next actions -> a follow-up email draft
waits for approval -> approved -> the email is in the outbox -> tasks are offered for selection
-> the rep's "I'll send you the proposal" chains ``proposal_generation`` -> the proposal draft
waits for approval; then the next working morning's brief, in the seed's format.

The clock is a fake one set to the story's moments, so the story reads the same on every run.
``overture demo`` calls :func:`run`; it prints through ``say`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import Decision
from overture.packs.sales import testing as t
from overture.settings import Settings

Say = Callable[[str], None]


def _show_job(app: App, say: Say, job_id: str) -> None:
    for name, status in t.step_statuses(app, job_id):
        say(f"    {name:<24} {status}")


def _meeting(app: App, say: Say, meeting_id: str) -> str:
    result = app.emit(t.event("meeting_ended", {"meeting_id": meeting_id}, source="webhook:meetingbaas"))
    say(f"1. MeetingBaaS says the discovery call with Brightline Freight ended (event {result.status}).")
    app.run_until_idle()
    job = result.job_id or ""
    _show_job(app, say, job)
    items = t.output(app, job, "extract-action-items")["action_items"]
    say(f"\n   {len(items)} action items, each with an owner and a due date from the meeting day:")
    for item in items:
        say(f"    - {item['owner']}: {item['action']} (due {item['due_date'] or 'unspecified'})")
    intents = t.output(app, job, "detect-intents")
    say("\n   Commitments detected (speaker side, intent, confidence):")
    for c in intents["commitments"]:
        say(f'    - {c["side"]:<8} {c["intent"]:<17} {c["confidence"]:.2f}  "{c["phrase"]}"')
    say(f"   Next meeting agreed: {intents['next_meeting']['agreed']}.")
    return job


def _approve_follow_up(app: App, say: Say, job: str, outbox: Path) -> None:
    action = t.pending(app, job)
    say(f"\n2. The follow-up waits for Maya's approval ({action.pattern}): {action.title}")
    say("   " + "\n   ".join(str(action.draft["body"]).splitlines()))
    app.approvals.decide(action.id, Decision.APPROVE, t.MAYA, "cli")
    app.run_until_idle()
    files = sorted(p.name for p in outbox.glob("*.eml"))
    say(f"\n3. Approved. The email left through the outbox: {', '.join(files)}")


def _select_tasks(app: App, say: Say, job: str) -> None:
    action = t.pending(app, job)
    options: list[dict[str, Any]] = action.draft["options"]
    say(f"\n4. Tasks offered for selection ({action.pattern}): {action.title}")
    for option in options:
        mark = "x" if option["id"] in action.draft["selected"] else " "
        say(f"    [{mark}] {option['title']}")
    keep = [o["id"] for o in options if o["priority"] == "high"]
    app.approvals.decide(action.id, Decision.EDIT, t.MAYA, "cli", {"selected": keep})
    app.run_until_idle()
    created = t.output(app, job, "create-tasks")["created"]
    say(f"   Maya kept the {len(keep)} high-priority ones; {len(created)} CRM tasks created.")


def _chain(app: App, say: Say, job: str) -> None:
    children = [j for j in t.jobs(app) if j.parent_job_id == job]
    say("\n5. The call chained follow-up jobs:")
    for child in children:
        say(f"    {child.event_type} -> {child.status.value}")
    proposal = next(j for j in children if j.event_type == "proposal_generation")
    action = t.pending(app, proposal.id)
    say(f'   Because Maya said "{proposal.trigger_payload["trigger_phrase"]}",')
    say(f"   a proposal was written and waits for approval: {action.title}")
    say("   " + "\n   ".join(str(action.draft["body"]).splitlines()[:12]) + "\n   ...")


def run(workdir: Path, say: Say) -> None:
    """Tell the whole story in ``workdir`` (a new SQLite database and outbox folder)."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "overture-sales-demo.db"
    for suffix in ("", "-wal", "-shm", "-turn"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    clock = FakeClock(t.local(t.STORY_DAY, 10, 50))
    outbox = workdir / "outbox"
    app = App(Settings(database_url=f"sqlite:///{db}", packs=["sales"], outbox_dir=outbox), clock=clock)
    try:
        app.migrate()
        summary = t.load_seed(app)
        counts = summary.counts
        say(
            f"Seeded {counts['crm_companies']} companies, {counts['crm_contacts']} contacts, "
            f"{counts['crm_deals']} deals and {counts['crm_meetings']} meetings for Northwind Analytics.\n"
        )
        job = _meeting(app, say, summary.meetings["story"])
        _approve_follow_up(app, say, job, outbox)
        _select_tasks(app, say, job)
        _chain(app, say, job)
        monday = t.STORY_DAY + timedelta(
            days=(7 - t.STORY_DAY.weekday()) if t.STORY_DAY.weekday() >= 4 else 1
        )
        clock.set(t.local(monday, 8, 0))
        app.emit(t.event("morning_brief", {}, source="cron:morning"))
        app.run_until_idle()
        brief = next(j for j in t.jobs(app, "morning_brief"))
        say(f"\n6. The next working morning ({monday:%A}), 08:00 in New York, Maya's brief:\n")
        say(t.output(app, brief.id, "compose")["text"])
    finally:
        app.close()
