"""Real calls through the real MeetingBaaS webhook and the real worker, on SQLite and PostgreSQL:
a prospect the CRM has never seen, a call with a calendar invite and a colleague, and a call with
a known contact and an open deal. Each ends with the right follow-ups waiting for the rep, and no
failed job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.core.records import Decision, JobStatus
from overture.ids import new_id
from overture.packs.sales import testing as t
from overture.packs.sales.crm.people import People
from overture.packs.sales.crm.queries import Crm
from overture.storage.tables import crm as crm_tables
from tests.integration.test_http_api import in_process
from tests.integration.test_webhooks_accounts import connect

API_KEY = "mb-real-calls-key"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t.local(t.STORY_DAY, 15, 0))


@pytest.fixture
def app(db_url: str, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv("OVERTURE_MEETINGBAAS_API_KEY", API_KEY)
    application = t.sales_app(db_url, clock, tmp_path / "outbox")
    t.load_seed(application)
    connect(application, "meetingbaas", "maya-recorder", user=t.MAYA, org=t.ORG)
    yield application
    application.close()


def complete(turns: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    """A v1 ``complete`` webhook for these turns, words spread over a few seconds each."""
    transcript, at = [], 0.0
    for speaker, text in turns:
        words = []
        for word in text.split():
            words.append({"start": round(at, 2), "end": round(at + 0.35, 2), "word": word})
            at += 0.4
        transcript.append({"speaker": speaker, "words": words})
        at += 1.0
    speakers = list(dict.fromkeys(s for s, _ in turns))
    data = {
        "bot_id": new_id(),
        "speakers": speakers,
        "transcript": transcript,
        "extra": {"overture_account": "maya-recorder", **extra},
    }
    return {"event": "complete", "data": data}


def deliver(app: App, body: dict[str, Any]) -> None:
    with in_process(app) as client:
        response = client.post(
            "/webhooks/meetingbaas",
            content=json.dumps(body).encode(),
            headers={"x-meeting-baas-api-key": API_KEY, "content-type": "application/json"},
        )
    assert response.status_code in (200, 202), response.text
    app.run_until_idle()


def meeting_job(app: App) -> Any:
    (job,) = [j for j in t.jobs(app, "meeting_ended") if j.event_source == "webhook:meetingbaas"]
    return job


def children(app: App, job_id: str) -> dict[str, Any]:
    return {j.event_type: j for j in t.jobs(app) if j.parent_job_id == job_id}


def failed(app: App) -> list[tuple[str, str | None]]:
    return [(j.event_type, j.status_reason) for j in t.jobs(app) if j.status == JobStatus.FAILED]


NEW_PROSPECT = [
    ("Maya Chen", "Thanks for making the time, Lena. How are things at Calder Freight?"),
    (
        "Lena Fischer",
        "Busy. We run twelve cross-dock sites and we only hear about late lanes when customers call.",
    ),
    ("Maya Chen", "That is exactly what Ops Cloud fixes: live on-time rates by lane and by site."),
    ("Lena Fischer", "Can it break out cost per mile by lane? Our CFO keeps asking for that."),
    ("Maya Chen", "It can, per lane and per carrier, in the lane view."),
    ("Lena Fischer", "Good. Could you send us something we can take to the CFO?"),
    (
        "Maya Chen",
        "I'll send you a proposal by Friday, with separate pricing for the Chicago and Dallas hubs.",
    ),
    ("Lena Fischer", "Perfect. And let's get our CFO on a call once we have read it."),
    ("Maya Chen", "Sounds good, I'll send a few options for next week."),
]


def test_a_prospect_the_crm_never_saw_gets_a_contact_and_the_right_follow_ups(app: App) -> None:
    """No calendar event, no contact: Lena becomes a contact of a new company named from the call,
    recorded as created by Overture; the proposal and scheduling jobs wait for Maya, none fails."""
    deliver(app, complete(NEW_PROSPECT, meeting_title="Northwind <> Calder Freight"))
    job = meeting_job(app)
    resolved = t.output(app, job.id, "resolve-participants")
    assert resolved["sides"] == {"Maya Chen": "rep", "Lena Fischer": "prospect"}
    created = People(Crm(app.store, t.ORG)).created(resolved["meeting_id"])
    assert [c["name"] for c in created] == ["Lena Fischer"]
    company = Crm(app.store, t.ORG).company(resolved["company_id"]) or {}
    assert company["name"] == "Calder Freight" and company["details"]["created_by"] == "overture"
    follow_ups = children(app, job.id)
    assert set(follow_ups) == {"proposal_generation", "calendar_find_times"}
    assert {j.status for j in follow_ups.values()} == {JobStatus.AWAITING_APPROVAL}
    assert failed(app) == []
    proposal = t.pending(app, follow_ups["proposal_generation"].id)
    assert proposal.draft["contact_id"] == resolved["contact_id"]
    assert "Calder Freight" in proposal.title


def test_a_call_with_an_invite_finds_emails_colleagues_and_silent_guests(app: App, clock: FakeClock) -> None:
    """The invite gives the prospects' emails; Priya (on the org's domain, not a user) is on Maya's
    side; Tom, invited but silent, is a prospect too; the company comes from the email domain."""
    turns = [
        ("Maya Chen", "Lena, thanks. Priya from our solutions team is with me."),
        ("Lena Fischer", "Great. We need to see how the site view handles our twelve cross-docks."),
        (
            "Priya Raman",
            "I'll write up the statement of work for the twelve sites, with the onboarding plan.",
        ),
        ("Lena Fischer", "Good. Should we regroup with Tom once we've read it?"),
        ("Maya Chen", "Yes, let's do that. I'll send some times."),
    ]
    start = clock.now() - timedelta(minutes=30)
    event_id = new_id()
    with app.store.write() as conn:
        conn.execute(
            sa.insert(crm_tables.calendar_events).values(
                id=event_id,
                org_id=t.ORG,
                user_id=t.MAYA,
                external_id=f"g-{event_id}",
                title="Northwind / Calder Freight",
                starts_at=start,
                ends_at=clock.now() + timedelta(minutes=5),
                all_day=False,
                location="https://meet.google.com/abc-defg-hij",
                attendees=[
                    {
                        "email": "maya@northwind.example",
                        "name": "Maya Chen",
                        "external": False,
                        "is_self": True,
                    },
                    {"email": "priya.raman@northwind.example", "external": False},
                    {"email": "lena.fischer@calderfreight.com", "external": True},
                    {"email": "tom.akers@calderfreight.com", "name": "Tom Akers", "external": True},
                ],
                status="confirmed",
                updated_at=start,
            )
        )
    deliver(app, complete(turns))
    job = meeting_job(app)
    resolved = t.output(app, job.id, "resolve-participants")
    assert resolved["sides"] == {"Maya Chen": "rep", "Lena Fischer": "prospect", "Priya Raman": "rep"}
    prospects = {p["name"]: p["email"] for p in resolved["prospects"]}
    assert prospects == {
        "Lena Fischer": "lena.fischer@calderfreight.com",
        "Tom Akers": "tom.akers@calderfreight.com",
    }
    company = Crm(app.store, t.ORG).company(resolved["company_id"]) or {}
    assert (company["name"], company["domain"]) == ("Calder Freight", "calderfreight.com")
    follow_ups = children(app, job.id)
    assert set(follow_ups) == {"proposal_generation", "calendar_find_times"}
    assert failed(app) == []
    draft = t.pending(app, job.id).draft
    assert draft["to"] == "lena.fischer@calderfreight.com"


def test_a_known_contact_with_an_open_deal_links_both(app: App) -> None:
    """Jordan Blake is a contact with an open deal: no contact is created, the deal is used."""
    seeded = Crm(app.store, t.ORG)
    jordan = next(c for c in seeded.contacts_by_email(["jordan.blake@brightline-freight.example"]))
    deal = seeded.open_deal_for(contact_id=jordan["id"])
    assert deal is not None
    turns = [
        ("Jordan Blake", "We're ready to look at numbers for the two Texas terminals."),
        ("Maya Chen", "Great — I'll send a revised quote for the two Texas terminals tomorrow."),
        ("Jordan Blake", "Thanks."),
    ]
    deliver(app, complete(turns))
    job = meeting_job(app)
    resolved = t.output(app, job.id, "resolve-participants")
    assert resolved["created"] == {"contacts": [], "companies": []}
    assert (resolved["contact_id"], resolved["deal_id"]) == (jordan["id"], deal["id"])
    proposal = children(app, job.id)["proposal_generation"]
    assert proposal.trigger_payload["deal_id"] == deal["id"]
    assert proposal.status == JobStatus.AWAITING_APPROVAL
    assert failed(app) == []


def test_a_created_contact_is_listed_and_can_be_undone(app: App, db_url: str) -> None:
    """`overture contacts created` names what Overture made from the call; `contacts undo`
    removes the contact and the company Overture made for it, and the meeting forgets them."""
    deliver(app, complete(NEW_PROSPECT, meeting_title="Northwind <> Calder Freight"))
    resolved = t.output(app, meeting_job(app).id, "resolve-participants")
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", db_url, "contacts", "created", "--org", t.ORG, "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert (row["id"], row["name"]) == (resolved["contact_id"], "Lena Fischer")
    undone = runner.invoke(cli, ["--db", db_url, "contacts", "undo", row["id"], "--org", t.ORG])
    assert undone.exit_code == 0, undone.output
    crm = Crm(app.store, t.ORG)
    assert crm.contact(row["id"]) is None and crm.company(resolved["company_id"]) is None
    assert (crm.meeting(resolved["meeting_id"]) or {})["contact_id"] is None
    again = runner.invoke(cli, ["--db", db_url, "contacts", "undo", row["id"], "--org", t.ORG])
    assert again.exit_code != 0 and "no contact" in again.output


def test_the_approval_card_shows_where_each_sentence_comes_from(app: App) -> None:
    """The follow-up's card lists every sentence with the speaker and time, or the record, it
    rests on, so Maya can check the draft against the call in seconds."""
    deliver(app, complete(NEW_PROSPECT, meeting_title="Northwind <> Calder Freight"))
    action = t.pending(app, meeting_job(app).id)
    assert all(s["sources"] for s in action.draft["grounding"])
    secret = app.sessions.open(t.ORG, t.MAYA, "token").secret
    with in_process(app) as client:
        page = client.get(f"/actions/{action.id}", headers={"cookie": f"overture_session={secret}"})
    assert page.status_code == 200
    html = page.text
    assert "Where each sentence comes from" in html
    assert "Maya Chen at 00:" in html and "Contact: Lena Fischer" in html
    assert html.count("<q>") == len(action.draft["grounding"])


def test_a_new_prospects_deal_is_proposed_never_created_silently(app: App) -> None:
    """No deal exists after the call until Maya confirms the one Overture proposes; then it is
    open at discovery, for the prospect's company, and the meeting points at it."""
    deliver(app, complete(NEW_PROSPECT, meeting_title="Northwind <> Calder Freight"))
    job = meeting_job(app)
    resolved = t.output(app, job.id, "resolve-participants")
    crm = Crm(app.store, t.ORG)
    assert crm.open_deal_for(company_id=resolved["company_id"]) is None
    follow_up = t.pending(app, job.id)
    app.approvals.decide(follow_up.id, Decision.EDIT, t.MAYA, "api", {"to": "lena@calderfreight.com"})
    app.run_until_idle()
    tasks = t.pending(app, job.id)
    assert tasks.pattern == "select"
    app.approvals.decide(tasks.id, Decision.SKIP, t.MAYA, "api", None)
    app.run_until_idle()
    proposed = t.pending(app, job.id)
    assert (proposed.pattern, proposed.step_name) == ("confirm", "propose-deal")
    assert proposed.title == "Open a deal with Calder Freight?"
    assert crm.open_deal_for(company_id=resolved["company_id"]) is None
    app.approvals.decide(proposed.id, Decision.APPROVE, t.MAYA, "api", None)
    app.run_until_idle()
    deal = crm.open_deal_for(company_id=resolved["company_id"])
    assert deal is not None and (deal["stage"], deal["contact_id"]) == ("discovery", resolved["contact_id"])
    assert (crm.meeting(resolved["meeting_id"]) or {})["deal_id"] == deal["id"]
    assert next(j for j in t.jobs(app) if j.id == job.id).status == JobStatus.COMPLETED
