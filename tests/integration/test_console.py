"""The web inbox and console at `/`, in process on both backends: sign-in with a personal token
opening a server-side session, CSRF on every form, the same decisions as Slack with inline
validation, jobs with steps, outputs and chains, and another org's ids answered 404."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.core.records import ActionStatus
from overture.engine.admin.tokens import Tokens
from overture.http.console.session import csrf_for
from overture.storage.queries import jobs as jobq
from tests.approvals_app import action_now, job_status, make, start
from tests.integration.test_http_api import Client, in_process


@pytest.fixture
def hitl(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = make(db_url, clock, None)
    yield app
    app.close()


@pytest.fixture
def http(hitl: App) -> Iterator[Client]:
    with in_process(hitl) as client:
        yield client


class Session:
    """A signed-in person: the cookie to send and the CSRF token their forms carry."""

    def __init__(self, app: App, http: Client, user: str, org: str = "acme") -> None:
        self.secret = app.sessions.open(org, user, "token").secret
        self.http = http
        self.headers = {"cookie": f"overture_session={self.secret}"}
        self.csrf = csrf_for(self.secret)

    def get(self, url: str) -> httpx.Response:
        return self.http.get(url, headers=self.headers)

    def post(self, url: str, **data: str | list[str]) -> httpx.Response:
        return self.http.post(url, data={"csrf": self.csrf, **data}, headers=self.headers)


def visible(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_signing_in_opens_a_session_kept_in_a_lax_httponly_cookie(hitl: App, http: Client) -> None:
    """The sign-in form carries a nonce matching its cookie; signing in sets an opaque session
    cookie (not the token), HttpOnly and SameSite=Lax; signing out ends it on the server."""
    assert http.get("/").headers["location"] == "/signin"
    page = http.get("/signin")
    assert page.status_code == 200 and "Sign in" in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert f"overture_signin={nonce}" in page.headers["set-cookie"]
    secret = Tokens(hitl.store, hitl.clock).create("acme", "ana").secret
    signed = http.post(
        "/signin", data={"token": secret, "nonce": nonce}, headers={"cookie": f"overture_signin={nonce}"}
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers.get_list("set-cookie")[0]
    value = cookie.split(";", 1)[0].removeprefix("overture_session=")
    assert value.startswith("ovs_") and secret not in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    session = {"cookie": f"overture_session={value}"}
    assert "Waiting for you" in http.get("/", headers=session).text
    out = http.post("/signout", data={"csrf": csrf_for(value)}, headers=session)
    assert out.status_code == 303 and 'overture_session=""' in out.headers["set-cookie"]
    assert http.get("/", headers=session).headers["location"] == "/signin"


def test_a_token_that_cannot_sign_in_is_told_why(hitl: App, http: Client) -> None:
    """Unknown, revoked, org-wide and admin tokens are refused with the reason; no session."""
    tokens = Tokens(hitl.store, hitl.clock)
    revoked = tokens.create("acme", "ana")
    tokens.revoke(revoked.token.id)
    cases = {
        "ov_" + "x" * 43: "unknown token",
        revoked.secret: "was revoked",
        tokens.create("acme").secret: "not a person",
        tokens.create(None, admin=True).secret: "not a person",
        "hunter2": "malformed token",
    }
    for secret, why in cases.items():
        nonce = "n" * 32
        page = http.post(
            "/signin", data={"token": secret, "nonce": nonce}, headers={"cookie": f"overture_signin={nonce}"}
        )
        assert page.status_code == 401 and why in page.text, why
        assert "overture_session" not in page.headers.get("set-cookie", "")


def test_the_signin_form_only_works_with_its_own_nonce(hitl: App, http: Client) -> None:
    """A sign-in posted from elsewhere (no nonce cookie, or another value) is refused."""
    secret = Tokens(hitl.store, hitl.clock).create("acme", "ana").secret
    for headers in ({}, {"cookie": "overture_signin=other"}):
        page = http.post("/signin", data={"token": secret, "nonce": "mine"}, headers=headers)
        assert page.status_code == 400 and "overture_session" not in page.headers.get("set-cookie", "")


def test_pages_need_a_session(hitl: App, http: Client) -> None:
    """Without a session every page sends to sign-in and no form changes anything."""
    action = start(hitl, "mail")
    for url in ("/jobs", f"/jobs/{action.job_id}", f"/actions/{action.id}"):
        assert http.get(url).status_code == 303
    posted = http.post(f"/actions/{action.id}/decide", data={"decision": "approve"})
    assert posted.status_code == 303 and action_now(hitl, action.id).status == ActionStatus.PENDING


def test_the_inbox_shows_my_pending_drafts_with_their_fields(hitl: App, http: Client) -> None:
    """Ana sees her draft (recipient, subject, body) with Approve & send, Edit, Skip and Cancel;
    Eve sees nothing to decide; Boss, an admin, sees it among the org's others."""
    action = start(hitl, "mail")
    page = Session(hitl, http, "ana").get("/")
    text = visible(page.text)
    assert "Follow-up to Dana" in text and "dana@example.com" in text and "Our call" in text
    assert "Hi Dana, thanks for the call." in text
    for label in ("Approve &amp; send", "Skip", "Cancel", f'href="/actions/{action.id}#edit">Edit'):
        assert label in page.text
    assert "Nothing is waiting for your decision." in Session(hitl, http, "eve").get("/").text
    boss = visible(Session(hitl, http, "boss").get("/").text)
    assert "Waiting for others in your org 1" in boss and "For Ana" in boss


def test_an_edit_is_validated_inline_then_resumes_the_job_with_the_edited_draft(
    hitl: App, http: Client
) -> None:
    """A bad address: 422, the error under the field, what was typed kept, nothing decided. Then
    a good edit is recorded as Ana's via web and the job sends the edited body."""
    action = start(hitl, "mail")
    ana = Session(hitl, http, "ana")
    bad = ana.post(f"/actions/{action.id}/edit", to="dana@", subject="Our call", body="Edited body")
    assert bad.status_code == 422
    assert '<p class="error" id="e-to">Enter one valid email address, like dana@example.com.</p>' in bad.text
    assert 'aria-invalid="true"' in bad.text and ">Edited body</textarea>" in bad.text
    assert action_now(hitl, action.id).status == ActionStatus.PENDING
    good = ana.post(
        f"/actions/{action.id}/edit", to="dana@example.com", subject="Our call", body="Edited body"
    )
    assert good.status_code == 303 and good.headers["location"] == f"/actions/{action.id}?said=applied"
    decided = action_now(hitl, action.id)
    assert (decided.status, decided.decided_by, decided.decided_via) == (ActionStatus.EDITED, "ana", "web")
    assert decided.modifications == {"body": "Edited body"}
    assert "Edited and approved by Ana via web" in visible(ana.get(good.headers["location"]).text)
    hitl.run_until_idle()
    with hitl.store.read() as conn:
        sent = [s.output for s in jobq.steps_of(conn, action.job_id) if s.step_name == "send"][-1]
    assert sent["sent"]["body"] == "Edited body" and job_status(hitl, action.job_id) == "completed"


def test_an_unchanged_edit_is_an_approval(hitl: App, http: Client) -> None:
    """Saving the form as it was approves the draft as drafted."""
    action = start(hitl, "mail")
    Session(hitl, http, "ana").post(
        f"/actions/{action.id}/edit",
        to="dana@example.com",
        subject="Our call",
        body="Hi Dana, thanks for the call.",
    )
    assert action_now(hitl, action.id).status == ActionStatus.APPROVED


def test_forms_without_the_right_csrf_token_change_nothing(hitl: App, http: Client) -> None:
    """A missing or foreign CSRF token: 403, nothing decided."""
    action = start(hitl, "mail")
    ana = Session(hitl, http, "ana")
    other = Session(hitl, http, "boss")
    for csrf in ("", other.csrf):
        for url, data in (
            (f"/actions/{action.id}/decide", {"decision": "approve"}),
            (f"/actions/{action.id}/edit", {"body": "x"}),
        ):
            page = http.post(url, data={"csrf": csrf, **data}, headers=ana.headers)
            assert page.status_code == 403 and "Expired form" in page.text
    assert action_now(hitl, action.id).status == ActionStatus.PENDING


def test_cancel_is_confirmed_before_it_happens(hitl: App, http: Client) -> None:
    """Cancel without confirmation shows a confirmation page; confirmed, the job is cancelled."""
    action = start(hitl, "mail")
    ana = Session(hitl, http, "ana")
    asked = ana.post(f"/actions/{action.id}/decide", decision="cancel")
    assert asked.status_code == 200 and "Cancel this job?" in asked.text
    assert action_now(hitl, action.id).status == ActionStatus.PENDING
    done = ana.post(f"/actions/{action.id}/decide", decision="cancel", confirmed="yes")
    assert done.status_code == 303 and action_now(hitl, action.id).status == ActionStatus.CANCELLED
    assert job_status(hitl, action.job_id) == "cancelled"


def test_only_the_owner_or_an_org_admin_decides(hitl: App, http: Client) -> None:
    """Eve sees Ana's action without buttons and a post from her is 403; Boss may skip it."""
    action = start(hitl, "mail")
    eve = Session(hitl, http, "eve")
    assert "Only Ana or an org admin can decide this." in eve.get(f"/actions/{action.id}").text
    refused = eve.post(f"/actions/{action.id}/decide", decision="approve")
    assert refused.status_code == 403 and action_now(hitl, action.id).status == ActionStatus.PENDING
    assert (
        Session(hitl, http, "boss").post(f"/actions/{action.id}/decide", decision="skip").status_code == 303
    )
    assert action_now(hitl, action.id).decided_by == "boss"


def test_a_second_decision_is_told_who_was_first(hitl: App, http: Client) -> None:
    """After Boss skipped it, Ana's approve changes nothing and the page says who decided."""
    action = start(hitl, "mail")
    Session(hitl, http, "boss").post(f"/actions/{action.id}/decide", decision="skip")
    late = Session(hitl, http, "ana").post(f"/actions/{action.id}/decide", decision="approve")
    assert late.headers["location"].endswith("?said=already")
    page = visible(Session(hitl, http, "ana").get(late.headers["location"]).text)
    assert "Someone decided this first" in page and "Skipped by Boss via web" in page


def test_selection_and_confirmation_from_the_web(hitl: App, http: Client) -> None:
    """Create selected with only t3 ticked edits the selection; Confirm approves the stage change."""
    tasks, stage = start(hitl, "tasks"), start(hitl, "stage")
    ana = Session(hitl, http, "ana")
    page = ana.get(f"/actions/{tasks.id}").text
    assert 'value="t1" checked' in page and 'value="t3" >' in page and "due 2026-11-23" in page
    ana.post(f"/actions/{tasks.id}/edit", choosing="1", selected=["t3"])
    assert action_now(hitl, tasks.id).modifications == {"selected": ["t3"]}
    assert "qualified → proposal" in visible(ana.get(f"/actions/{stage.id}").text)
    ana.post(f"/actions/{stage.id}/decide", decision="approve")
    assert action_now(hitl, stage.id).status == ActionStatus.APPROVED


def test_another_orgs_ids_are_not_found(hitl: App, http: Client) -> None:
    """Gus of Globex gets 404 for Acme's action and job, and cannot decide it."""
    hitl.admin.add_org("globex", "Globex")
    hitl.admin.add_user("globex", "gus", "Gus", active_hours=None)
    action = start(hitl, "mail")
    gus = Session(hitl, http, "gus", org="globex")
    for url in (f"/actions/{action.id}", f"/jobs/{action.job_id}"):
        assert gus.get(url).status_code == 404
    assert gus.post(f"/actions/{action.id}/decide", decision="approve").status_code == 404
    assert gus.post(f"/actions/{action.id}/edit", body="x").status_code == 404
    assert action_now(hitl, action.id).status == ActionStatus.PENDING
    assert action.job_id not in gus.get("/jobs").text


def test_jobs_show_their_steps_outputs_and_chains(hitl: App, http: Client) -> None:
    """The jobs list links parent and child; a job page shows each step's output and the chain
    mail → tell, and the child's page shows its parent."""
    action = start(hitl, "mail")
    ana = Session(hitl, http, "ana")
    ana.post(f"/actions/{action.id}/decide", decision="approve")
    hitl.run_until_idle()
    with hitl.store.read() as conn:
        [child] = jobq.list_jobs(conn, org_id="acme", parent_job_id=action.job_id)
    listing = ana.get("/jobs").text
    assert f'follow-up of <a href="/jobs/{action.job_id}">' in listing
    page = ana.get(f"/jobs/{action.job_id}").text
    text = visible(page)
    assert "mail completed" in text and "&#34;body&#34;: &#34;Hi Dana, thanks for the call.&#34;" in page
    assert f'<a href="/jobs/{child.id}">tell</a>' in page and f'<a href="/actions/{action.id}">' in page
    assert f'<a href="/jobs/{action.job_id}">mail</a>' in ana.get(f"/jobs/{child.id}").text
    assert "data-refresh" not in page


def test_pages_escape_what_they_show_and_forbid_inline_script(hitl: App, http: Client) -> None:
    """A draft carrying markup is shown as text; pages send a strict CSP and are not cached."""
    action = start(hitl, "mail", body="<script>alert('x')</script>")
    page = Session(hitl, http, "ana").get(f"/actions/{action.id}")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and page.headers["x-content-type-options"] == "nosniff"
    css = http.get("/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@media" in css.text and http.get("/static/../app.py").status_code == 404
