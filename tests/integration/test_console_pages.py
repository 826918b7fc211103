"""The console's pages as a person reads them, in process on both backends: the jobs list's
filters and pages, the job timeline, the events page linking failed and cancelled jobs, approval
cards that say when, why and from what, Markdown drafts rendered without markup getting through,
a select list shown once, and Swagger UI served from Overture itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.step_context import StepContext
from overture.engine.run.cancel import cancel_job
from overture.sequences import load_sequence_text
from overture.storage.queries import jobs as jobq
from tests.approvals_app import make, start
from tests.integration.test_console import Session, visible
from tests.integration.test_http_api import Client, in_process

BROKEN = """event_type: broken
active_hours: ignore
steps:
  - name: fetch
    uses: skill:compose
    with: {note: "{{ event.payload.get('note', '') }}"}
  - name: explode
    uses: skill:explode
    on_failure: stop
  - name: after
    uses: skill:compose
    with: {done: true}
"""


PARENT = """event_type: parent
active_hours: ignore
steps:
  - name: hand-over
    uses: followup
    with: {type: broken, payload: {note: from a parent}}
"""


def add_broken(app: App) -> None:
    """A sequence whose second step fails while ``app.explode`` is set, for failed jobs."""
    app.explode = True  # type: ignore[attr-defined]

    @app.registry.skill("explode")
    def explode(ctx: StepContext, inputs: dict[str, object]) -> dict[str, object]:
        """Fail while told to."""
        if app.explode:  # type: ignore[attr-defined]
            raise RuntimeError("the CRM answered 500")
        return {"ok": True}

    app.registry.add_sequence(load_sequence_text(BROKEN, "broken.yaml"))


@pytest.fixture
def hitl(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = make(db_url, clock, None)
    yield app
    app.close()


@pytest.fixture
def http(hitl: App) -> Iterator[Client]:
    with in_process(hitl) as client:
        yield client


def job_ids(html: str) -> list[str]:
    return re.findall(r'<li>\s*<a href="/jobs/([0-9a-f]{32})"><strong>', html)


def seed(app: App, clock: FakeClock, count: int, event_type: str = "tell", user: str = "ana") -> list[str]:
    """``count`` jobs a minute apart, oldest first, each with its number in the payload."""
    made = []
    for n in range(count):
        clock.advance(timedelta(minutes=1))
        text = f"note number {n:03d}"
        made.append(
            app.emit({"type": event_type, "org_id": "acme", "user_id": user, "payload": {"text": text}})
        )
    return [m.job_id for m in made if m.job_id]


def test_the_jobs_list_pages_past_a_hundred_without_losing_its_filters(
    hitl: App, clock: FakeClock, http: Client
) -> None:
    """120 jobs: three pages of 50, 50 and 20, newest first, none twice; Newer goes back; the
    links keep the filter."""
    made = seed(hitl, clock, 120)
    ana = Session(hitl, http, "ana")
    seen: list[str] = []
    page = ana.get("/jobs?type=tell")
    pages = []
    while True:
        assert page.status_code == 200
        pages.append(job_ids(page.text))
        seen += pages[-1]
        older = re.search(r'<a class="button" href="([^"]+)" rel="next">', page.text)
        if older is None:
            break
        link = older.group(1).replace("&amp;", "&")
        assert "type=tell" in link
        page = ana.get(link)
    assert [len(p) for p in pages] == [50, 50, 20]
    assert seen == list(reversed(made))
    newer = re.search(r'<a class="button" href="([^"]+)" rel="prev">', page.text)
    assert newer is not None
    assert job_ids(ana.get(newer.group(1).replace("&amp;", "&")).text) == pages[1]


def test_the_jobs_list_filters_by_type_status_user_days_and_text(
    hitl: App, clock: FakeClock, http: Client
) -> None:
    """Each filter narrows the list to what it names, and they combine."""
    clock.set(clock.now().replace(hour=12))
    tells = seed(hitl, clock, 3)
    clock.advance(timedelta(days=2))
    mails = [start(hitl, "mail", user="eve").job_id, start(hitl, "mail", user="ana").job_id]
    ana = Session(hitl, http, "ana")
    day = clock.now().date().isoformat()
    assert set(job_ids(ana.get("/jobs?type=mail").text)) == set(mails)
    assert job_ids(ana.get("/jobs?user=eve").text) == [mails[0]]
    assert set(job_ids(ana.get("/jobs?status=awaiting_approval").text)) == set(mails)
    assert job_ids(ana.get("/jobs?q=NUMBER+001").text) == [tells[1]]
    assert job_ids(ana.get("/jobs?q=number&user=ana&type=tell").text) == list(reversed(tells))
    assert set(job_ids(ana.get(f"/jobs?since={day}&until={day}").text)) == set(mails)
    before = (clock.now() - timedelta(days=1)).date().isoformat()
    assert set(job_ids(ana.get(f"/jobs?until={before}").text)) == set(tells)
    empty = ana.get("/jobs?q=nobody+wrote+this")
    assert job_ids(empty.text) == [] and "No job matches these filters." in empty.text
    assert job_ids(ana.get("/jobs?q=%25").text) == []  # a % is a character, not a wildcard


def test_the_jobs_list_finds_names_with_accents_in_any_case_however_the_payload_was_written(
    hitl: App, clock: FakeClock, http: Client
) -> None:
    """A prospect called Müller is found by "müller", "MÜLLER" or "Müller", and "café" by
    "CAFÉ", on both backends; so is a job whose payload a different JSON encoder wrote (compact,
    unescaped), since the search reads the JSON, not the text it was stored as."""
    emitted = [
        hitl.emit({"type": "tell", "org_id": "acme", "user_id": "ana", "payload": {"text": text}})
        for text in ("call with Müller GmbH", "lunch at the café", "call with Muller Ltd")
    ]
    muller, cafe, plain = (e.job_id for e in emitted)
    clock.advance(timedelta(minutes=1))
    other = hitl.emit(
        {"type": "tell", "org_id": "acme", "user_id": "ana", "payload": {"text": "placeholder"}}
    )
    compact = json.dumps({"text": "Zoë Šimić, Ærø"}, ensure_ascii=False, separators=(",", ":"))
    mark = "?" if hitl.store.is_sqlite else "%s"
    value = mark if hitl.store.is_sqlite else "CAST(%s AS jsonb)"
    with hitl.store.write() as conn:  # as another encoder would have written it
        conn.exec_driver_sql(
            f"UPDATE sequence_jobs SET trigger_payload = {value} WHERE id = {mark}", (compact, other.job_id)
        )
    ana = Session(hitl, http, "ana")
    for query in ("müller", "MÜLLER", "Müller+GmbH"):
        assert job_ids(ana.get(f"/jobs?q={query}").text) == [muller], query
    assert job_ids(ana.get("/jobs?q=CAF%C3%89").text) == [cafe]
    assert job_ids(ana.get("/jobs?q=muller").text) == [plain]  # "u" is not "ü"
    for query in ("zoë", "ŠIMIĆ", "ærø"):
        assert job_ids(ana.get(f"/jobs?q={query}").text) == [other.job_id], query
    # Terms across the JSON's own punctuation match as PostgreSQL writes it (", " and ": "),
    # whatever the encoder left out.
    seats = hitl.emit({"type": "tell", "org_id": "acme", "user_id": "ana", "payload": {"seats": [12, 40]}})
    for query in ("12%2C+40", "%3A+%5B12"):
        assert job_ids(ana.get(f"/jobs?q={query}").text) == [seats.job_id], query


def test_a_filter_that_makes_no_sense_is_said_and_lists_nothing(
    hitl: App, clock: FakeClock, http: Client
) -> None:
    """An unknown status names the valid ones; a day that is not a date or a range that ends
    before it starts is said by its field; a cursor naming no job asks to start again. 400."""
    seed(hitl, clock, 2)
    ana = Session(hitl, http, "ana")
    cases = {
        "/jobs?status=bogus": "Unknown status &#39;bogus&#39;; choose one of: pending, in_progress",
        "/jobs?since=30/11/2026": "is not a day; use YYYY-MM-DD",
        "/jobs?since=2026-11-30&until=2026-11-01": "The last day is before the first one.",
        "/jobs?before=" + "0" * 32: "That page no longer exists",
    }
    for url, said in cases.items():
        page = ana.get(url)
        assert page.status_code == 400 and said in page.text, url
        assert job_ids(page.text) == []


def test_another_orgs_jobs_never_show(hitl: App, clock: FakeClock, http: Client) -> None:
    """Gus of Globex sees none of Acme's jobs, with or without filters, nor pages from their ids."""
    hitl.admin.add_org("globex", "Globex")
    hitl.admin.add_user("globex", "gus", "Gus", active_hours=None)
    made = seed(hitl, clock, 3)
    gus = Session(hitl, http, "gus", org="globex")
    assert job_ids(gus.get("/jobs").text) == [] and job_ids(gus.get("/jobs?q=note").text) == []
    assert gus.get(f"/jobs?before={made[-1]}").status_code == 400


def test_a_job_reads_as_a_timeline_with_its_failure_and_a_retry(
    hitl: App, clock: FakeClock, http: Client
) -> None:
    """A failed job: each step with its status, duration and a one-line output, the raw JSON
    folded away, the error, the step that did not run, and Retry; retried and fixed, it completes."""
    add_broken(hitl)
    job_id = hitl.emit(
        {"type": "broken", "org_id": "acme", "user_id": "ana", "payload": {"note": "hi"}}
    ).job_id
    hitl.run_until_idle()
    ana = Session(hitl, http, "ana")
    page = ana.get(f"/jobs/{job_id}").text
    steps = visible(page.split('id="timeline"')[1].split("</ol>")[0])
    assert re.search(r"fetch completed \d+ ms", steps) and "note: hi" in steps
    assert "explode failed" in steps and "the CRM answered 500" in steps
    assert "after not run" in steps
    assert '<details class="raw"><summary>Raw output</summary>' in page and "<details open" not in page
    assert "Retry job" in page and "Cancel job" not in page and "data-refresh" not in page
    hitl.explode = False  # type: ignore[attr-defined]
    done = ana.post(f"/jobs/{job_id}/retry")
    assert done.status_code == 303 and done.headers["location"] == f"/jobs/{job_id}?said=retried"
    hitl.run_until_idle()
    again = visible(ana.get(f"/jobs/{job_id}?said=retried").text)
    assert "broken completed" in again and "Queued again at the step it stopped on." in again
    assert "after completed" in again and "Retry job" not in again


def test_failed_and_cancelled_jobs_are_linked_from_their_events_and_their_parent(
    hitl: App, clock: FakeClock, http: Client
) -> None:
    """The events page links each event to its job and says which failed or were cancelled (the
    filter keeps only those); a parent job lists its failed follow-up with the reason."""
    add_broken(hitl)
    failed = hitl.emit({"type": "broken", "org_id": "acme", "user_id": "ana", "payload": {}}).job_id
    hitl.run_until_idle()
    waiting = start(hitl, "mail")
    cancel_job(hitl.store, hitl.clock, waiting.job_id, "boss", "wrong customer", "cli", "acme")
    fine = seed(hitl, clock, 1)[0]
    ana = Session(hitl, http, "ana")
    events = ana.get("/events").text
    for job_id in (failed, waiting.job_id, fine):
        assert f'<a href="/jobs/{job_id}">job</a>' in events
    assert "the CRM answered 500" in events
    trouble = ana.get("/events?trouble=1").text
    assert (
        f"/jobs/{failed}" in trouble
        and f"/jobs/{waiting.job_id}" in trouble
        and f"/jobs/{fine}" not in trouble
    )

    hitl.registry.add_sequence(load_sequence_text(PARENT, "parent.yaml"))
    parent = hitl.emit({"type": "parent", "org_id": "acme", "user_id": "ana", "payload": {}}).job_id
    hitl.run_until_idle()
    with hitl.store.read() as conn:
        [child] = jobq.list_jobs(conn, org_id="acme", parent_job_id=parent)
    page = ana.get(f"/jobs/{parent}").text
    followups = visible(page.split('id="job-followups"')[1].split("</section>")[0])
    assert "broken failed" in followups and "the CRM answered 500" in followups
    assert f'<a href="/jobs/{child.id}">broken</a>' in page


def test_an_approval_card_says_when_why_and_from_what(hitl: App, clock: FakeClock, http: Client) -> None:
    """Asked N min ago, from which event (linked to its job), and why it waits."""
    action = start(hitl, "mail", body="Hello")
    clock.advance(timedelta(minutes=5))
    card = Session(hitl, http, "ana").get("/").text
    text = visible(card)
    assert "Asked 5 min ago" in text and "From a mail event (api)" in text
    assert "Step send waits for Ana&#39;s decision: nothing is sent until then." in text
    assert f'<a href="/jobs/{action.job_id}">mail</a>' in card


def test_a_markdown_draft_is_rendered_without_letting_markup_through(hitl: App, http: Client) -> None:
    """Headings, lists and emphasis render; raw HTML is shown as text and a javascript: link is
    not a link; the draft is folded (opened by the script on wide screens)."""
    body = "\n\n".join(
        [
            "# Proposal",
            "- **Pilot**: 3 months\n- Support",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
        ]
    )
    action = start(hitl, "mail", body=body)
    page = Session(hitl, http, "ana").get(f"/actions/{action.id}").text
    shown = page.split('class="body md"')[1].split("</div>")[0]
    assert "<h1>Proposal</h1>" in shown and "<li><strong>Pilot</strong>: 3 months</li>" in shown
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert 'href="javascript' not in shown and "[x](javascript:alert(1))" in shown
    assert '<details class="fold" data-fold>' in page


def test_a_selection_lists_its_options_once(hitl: App, http: Client) -> None:
    """On its page, a select approval shows each task once: as a box to tick."""
    tasks = start(hitl, "tasks")
    page = Session(hitl, http, "ana").get(f"/actions/{tasks.id}").text
    assert page.count("Send the pricing sheet") == 1 and 'type="checkbox"' in page


def test_a_late_decision_says_who_decided_and_changes_nothing(hitl: App, http: Client) -> None:
    """A stale tab's Approve after Boss skipped: the page says Boss skipped it via web, and
    that this answer changed nothing."""
    action = start(hitl, "mail")
    Session(hitl, http, "boss").post(f"/actions/{action.id}/decide", decision="skip")
    ana = Session(hitl, http, "ana")
    late = ana.post(f"/actions/{action.id}/decide", decision="approve")
    text = visible(ana.get(late.headers["location"]).text)
    assert "Someone decided this first: skipped by Boss via web. Your answer changed nothing." in text
    assert "Approve &amp; send" not in text


def test_swagger_ui_is_served_by_overture(hitl: App, http: Client) -> None:
    """/docs names only its own assets, which are served here with a strict CSP on the page."""
    page = http.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for asset in assets:
        assert http.get(asset).status_code == 200, asset
    assert "SwaggerUIBundle" in http.get("/docs/assets/swagger-ui-bundle.js").text
    assert http.get("/docs/assets/index.html").status_code == 404
    assert http.get("/docs/assets/..%2f__init__.py").status_code == 404
