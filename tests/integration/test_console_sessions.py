"""Console sessions and one-time sign-in links through the real app, on both backends.

A session is an opaque cookie the API does not take as a token; it ends on sign-out, when
revoked (from the console, the API or the CLI), after its idle lifetime and at its absolute
end. One-time links come from the CLI, the API, an email asked for on the sign-in page (a real
SMTP server on loopback) and the Slack slash command; each works once. A page asked for while
signed out survives sign-in as ``next``, which only ever leads to a path on this site.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from overture.app import App
from overture.cli.main import cli
from overture.clock import FakeClock
from overture.core.records import ActionStatus
from overture.engine.admin.console_sessions import LinkRefused
from overture.engine.admin.tokens import Tokens
from overture.engine.humans.removals import Removals
from overture.http.console.session import csrf_for
from overture.integrations.slack_signing import SlackVerifier
from overture.storage.queries import jobs as jobq
from overture.storage.tables.console import console_sessions, signin_links
from tests.approvals_app import SIGNING_SECRET, action_now, make, start
from tests.chaos import free_port
from tests.integration.test_http_api import Client, in_process, issue

CONSOLE = "https://overture.example.com"


@pytest.fixture
def hitl(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = make(db_url, clock, None, console_url=CONSOLE)
    yield app
    app.close()


@pytest.fixture
def http(hitl: App) -> Iterator[Client]:
    with in_process(hitl) as client:
        yield client


def nonce_of(page: httpx.Response) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def session_cookie(response: httpx.Response) -> str:
    """The session value a response sets."""
    for cookie in response.headers.get_list("set-cookie"):
        if cookie.startswith("overture_session=") and not cookie.startswith('overture_session=""'):
            return cookie.split(";", 1)[0].removeprefix("overture_session=")
    raise AssertionError(f"no session cookie in {response.headers.get_list('set-cookie')}")


def fresh(http: Client) -> Client:
    """The client as a new browser: no cookies kept from earlier answers (every request below
    that is signed in says so with its own Cookie header)."""
    http._client.cookies.clear()
    return http


def sign_in(http: Client, secret: str, next_path: str | None = None) -> httpx.Response:
    """Post the token form as a browser would: the page first, its nonce cookie, then the form."""
    fresh(http)
    page = http.get("/signin" + (f"?{urlencode({'next': next_path})}" if next_path else ""))
    nonce = nonce_of(page)
    data = {"token": secret, "nonce": nonce}
    shown_next = re.search(r'name="next" value="([^"]*)"', page.text)
    if next_path is not None:
        data["next"] = next_path
    elif shown_next:
        data["next"] = shown_next.group(1)
    return http.post("/signin", data=data, headers={"cookie": f"overture_signin={nonce}"})


def signed_in_as(hitl: App, http: Client, user: str) -> dict[str, str]:
    secret = Tokens(hitl.store, hitl.clock).create("acme", user).secret
    return {"cookie": f"overture_session={session_cookie(sign_in(http, secret))}"}


def value_of(headers: dict[str, str]) -> str:
    return headers["cookie"].removeprefix("overture_session=")


def audit(hitl: App, *actions: str) -> list[dict[str, Any]]:
    with hitl.store.read() as conn:
        return [a for a in jobq.audit_of(conn, org_id="acme") if a["action"] in actions]


def rows(hitl: App, table: Any) -> list[dict[str, Any]]:
    with hitl.store.read() as conn:
        return [dict(r) for r in conn.execute(table.select()).mappings()]


# -- sessions ---------------------------------------------------------------------------------


def test_the_session_cookie_is_opaque_stored_hashed_and_no_bearer_token(hitl: App, http: Client) -> None:
    """The cookie is a random value, not the token; the database keeps only its hash; the API
    refuses it as a bearer token and ignores it as a cookie."""
    secret = Tokens(hitl.store, hitl.clock).create("acme", "ana").secret
    signed = sign_in(http, secret)
    value = session_cookie(signed)
    assert value.startswith("ovs_") and value != secret and len(value) >= 40
    [row] = rows(hitl, console_sessions)
    assert row["user_id"] == "ana" and row["via"] == "token" and value not in str(row)
    as_bearer = http.get("/v1/jobs", headers={"Authorization": f"Bearer {value}"})
    assert as_bearer.status_code == 401 and as_bearer.headers["content-type"] == "application/problem+json"
    assert http.get("/v1/jobs", headers={"cookie": f"overture_session={value}"}).status_code == 401
    [signed_in] = audit(hitl, "console_signed_in")
    assert (signed_in["actor"], signed_in["reason"], signed_in["detail"]["session_id"]) == (
        "ana",
        "token",
        row["id"],
    )
    assert secret not in str(signed_in) and value not in str(signed_in)


def test_https_cookies_are_secure(hitl: App) -> None:
    """Over HTTPS the session cookie is also Secure."""
    with in_process(hitl) as plain:
        secret = Tokens(hitl.store, hitl.clock).create("acme", "ana").secret
        plain._client.base_url = httpx.URL("https://testserver")
        cookie = next(
            c
            for c in sign_in(plain, secret).headers.get_list("set-cookie")
            if c.startswith("overture_session=")
        )
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_sign_out_ends_the_session_on_the_server(hitl: App, http: Client) -> None:
    """After sign-out the old cookie is refused (a copy of it is worth nothing), and it is
    audited; a sign-out without the CSRF token, or with another session's, ends nothing."""
    ana = signed_in_as(hitl, http, "ana")
    other = signed_in_as(hitl, http, "boss")
    for csrf in ("", csrf_for(value_of(other))):
        refused = http.post("/signout", data={"csrf": csrf}, headers=ana)
        assert refused.status_code == 403 and "Expired form" in refused.text
        assert http.get("/", headers=ana).status_code == 200
    out = http.post("/signout", data={"csrf": csrf_for(value_of(ana))}, headers=ana)
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert http.get("/", headers=ana).headers["location"] == "/signin"
    assert http.get("/jobs", headers=ana).headers["location"] == "/signin?next=/jobs"
    ended = [r for r in rows(hitl, console_sessions) if r["user_id"] == "ana"]
    assert [(r["ended_reason"], r["ended_by"]) for r in ended] == [("signed_out", "ana")]
    [signed_out] = audit(hitl, "console_signed_out")
    assert (signed_out["actor"], signed_out["reason"]) == ("ana", "signed_out")
    assert http.get("/", headers=other).status_code == 200


def test_signing_in_again_replaces_the_browsers_session(hitl: App, http: Client) -> None:
    """A browser that signs in again gets a new session (never the one it had: no fixation);
    the old one ends."""
    ana = signed_in_as(hitl, http, "ana")
    secret = Tokens(hitl.store, hitl.clock).create("acme", "ana").secret
    page = http.get("/signin", headers=ana)
    assert page.status_code == 303  # already signed in: straight on
    nonce = "n" * 32
    again = http.post(
        "/signin",
        data={"token": secret, "nonce": nonce},
        headers={"cookie": f"{ana['cookie']}; overture_signin={nonce}"},
    )
    assert session_cookie(again) != value_of(ana)
    assert http.get("/", headers=ana).status_code == 303
    assert sorted(str(r["ended_reason"]) for r in rows(hitl, console_sessions)) == ["None", "replaced"]


def test_a_session_ends_after_its_idle_lifetime_and_at_its_absolute_end(
    db_url: str, clock: FakeClock
) -> None:
    """Used within the idle lifetime a session lives on, up to its absolute end; left unused
    longer than the idle lifetime it ends."""
    app = make(db_url, clock, None, console_session_idle_s=1800, console_session_max_s=3600)
    try:
        with in_process(app) as http:
            busy, idle = signed_in_as(app, http, "ana"), signed_in_as(app, http, "boss")
            for _ in range(2):
                clock.advance(timedelta(minutes=25))
                assert http.get("/", headers=busy).status_code == 200
            assert http.get("/", headers=idle).status_code == 303  # 50 minutes unused
            clock.advance(timedelta(minutes=9))
            assert http.get("/", headers=busy).status_code == 200  # 59 minutes old
            clock.advance(timedelta(minutes=2))
            assert http.get("/", headers=busy).headers["location"] == "/signin"  # past its hour
            assert app.sessions.of_person("acme", "ana") == []
            assert [s for _r, s in app.sessions.of_person("acme", "ana", include_ended=True)] == ["expired"]
    finally:
        app.close()


def test_my_sessions_page_lists_and_revokes_them(hitl: App, http: Client) -> None:
    """Ana sees both her browsers, this one marked; revoking the other signs it out at once; a
    revoke without the CSRF token, or of Boss's session, changes nothing."""
    phone, laptop = signed_in_as(hitl, http, "ana"), signed_in_as(hitl, http, "ana")
    boss = signed_in_as(hitl, http, "boss")
    page = http.get("/sessions", headers=laptop)
    assert page.status_code == 200 and page.text.count('action="/sessions/') == 2
    assert "this browser" in page.text and "Sign out here" in page.text
    ids = {r["user_id"] + str(i): r["id"] for i, r in enumerate(rows(hitl, console_sessions))}
    phone_id, _laptop_id, boss_id = ids["ana0"], ids["ana1"], ids["boss2"]
    csrf = csrf_for(value_of(laptop))
    assert http.post(f"/sessions/{phone_id}/revoke", data={"csrf": ""}, headers=laptop).status_code == 403
    assert http.post(f"/sessions/{boss_id}/revoke", data={"csrf": csrf}, headers=laptop).status_code == 404
    assert http.get("/", headers=phone).status_code == 200 and http.get("/", headers=boss).status_code == 200
    done = http.post(f"/sessions/{phone_id}/revoke", data={"csrf": csrf}, headers=laptop)
    assert done.status_code == 303 and done.headers["location"] == "/sessions"
    assert (
        http.get("/", headers=phone).status_code == 303 and http.get("/", headers=laptop).status_code == 200
    )
    [revoked] = audit(hitl, "console_session_revoked")
    assert (revoked["actor"], revoked["detail"]["session_id"], revoked["detail"]["user_id"]) == (
        "ana",
        phone_id,
        "ana",
    )


def test_the_api_lists_and_revokes_a_persons_sessions(hitl: App, http: Client) -> None:
    """The person's own token and an org admin's see and revoke them; another member's token
    is 403, an org-wide token 403, another org's person 404; the revoked browser is signed out."""
    ana = signed_in_as(hitl, http, "ana")
    url = "/v1/orgs/acme/users/ana/sessions"
    mine = http.get(url, headers=issue(hitl, "acme", "ana"))
    assert mine.status_code == 200
    [item] = mine.json()["items"]
    assert item["state"] == "active" and item["via"] == "token" and "secret" not in str(item)
    assert http.get(url, headers=issue(hitl, "acme", "eve")).status_code == 403
    assert http.get(url, headers=issue(hitl, "acme")).status_code == 403
    hitl.admin.add_org("globex", "Globex")
    assert http.get(url, headers=issue(hitl, "globex")).status_code == 404
    revoked = http.post(f"{url}/{item['id']}/revoke", headers=issue(hitl, "acme", "boss"))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert revoked.json()["ended_by"] == "boss"
    assert http.get("/", headers=ana).status_code == 303
    assert http.get(url, headers=issue(hitl, None, admin=True)).json()["items"] == []
    everything = http.get(url + "?include_ended=true", headers=issue(hitl, "acme", "ana")).json()["items"]
    assert [i["state"] for i in everything] == ["revoked"]
    assert http.post(f"{url}/nope/revoke", headers=issue(hitl, "acme", "ana")).status_code == 404


def test_the_cli_lists_and_revokes_sessions(hitl: App, http: Client, db_url: str, clock: FakeClock) -> None:
    """`overture console sessions --user ana` lists her browser; `revoke` signs it out."""
    clock.advance(datetime.now(UTC) - clock.now())  # the CLI runs on the real clock
    ana = signed_in_as(hitl, http, "ana")
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", db_url, "console", "sessions", "--user", "ana", "--json"])
    assert listed.exit_code == 0, listed.output
    [session] = json.loads(listed.output)
    assert session["state"] == "active" and value_of(ana) not in listed.output
    done = runner.invoke(cli, ["--db", db_url, "console", "revoke", session["id"]])
    assert done.exit_code == 0 and "ended (revoked)" in done.output
    assert http.get("/", headers=ana).status_code == 303
    empty = runner.invoke(cli, ["--db", db_url, "console", "sessions", "--user", "ana"])
    assert "ana has no active console sessions." in empty.output
    nobody = runner.invoke(cli, ["--db", db_url, "console", "sessions", "--user", "zed"])
    assert nobody.exit_code == 2 and "no user 'zed'" in nobody.output


# -- deep links -------------------------------------------------------------------------------


def test_a_deep_link_survives_signing_in(hitl: App, http: Client) -> None:
    """An approval opened signed out goes to sign-in remembering it; signing in lands on it."""
    action = start(hitl, "mail")
    asked = http.get(f"/actions/{action.id}?said=applied")
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/signin?next=/actions/{action.id}%3Fsaid%3Dapplied"
    page = http.get(asked.headers["location"])
    assert f'name="next" value="/actions/{action.id}?said=applied"' in page.text
    secret = Tokens(hitl.store, hitl.clock).create("acme", "ana").secret
    landed = sign_in(http, secret, f"/actions/{action.id}?said=applied")
    assert landed.status_code == 303 and landed.headers["location"] == f"/actions/{action.id}?said=applied"
    shown = http.get(
        landed.headers["location"], headers={"cookie": f"overture_session={session_cookie(landed)}"}
    )
    assert shown.status_code == 200 and "Follow-up to Dana" in shown.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/signin?next=//evil.example",
        "",
    ],
)
def test_next_never_leads_off_the_site(hitl: App, http: Client, target: str) -> None:
    """Open-redirect attempts land on the inbox instead, and are not echoed into the form."""
    secret = Tokens(hitl.store, hitl.clock).create("acme", "ana").secret
    page = http.get("/signin?" + urlencode({"next": target}))
    assert 'name="next" value=""' in page.text
    landed = sign_in(http, secret, target)
    assert landed.status_code == 303 and landed.headers["location"] == "/"


# -- one-time links ---------------------------------------------------------------------------


def use(http: Client, url: str) -> httpx.Response:
    """Open a link (which spends nothing), then press its button."""
    fresh(http)
    parts = urlsplit(url)
    page = http.get(f"{parts.path}?{parts.query}")
    if page.status_code != 200:
        return page
    query = parse_qs(parts.query)
    nonce = nonce_of(page)
    data = {"code": query["code"][0], "nonce": nonce, "next": query.get("next", [""])[0]}
    return http.post("/signin/link", data=data, headers={"cookie": f"overture_signin={nonce}"})


def test_a_link_from_the_cli_signs_in_once(hitl: App, http: Client, db_url: str) -> None:
    """`overture console link --user ana --next ...` prints a link on console_url; opening it
    shows whose it is; it signs in once, landing on the page; a second use is refused, said
    clearly, and opens nothing."""
    action = start(hitl, "mail")
    made = CliRunner().invoke(
        cli,
        [
            "--db",
            db_url,
            "console",
            "link",
            "--user",
            "ana",
            "--org",
            "acme",
            "--next",
            f"/actions/{action.id}",
        ],
        env={"OVERTURE_CONSOLE_URL": CONSOLE},
    )
    assert made.exit_code == 0, made.output
    url = made.stdout.strip()
    assert url.startswith(f"{CONSOLE}/signin/link?code=ovl_") and f"next=/actions/{action.id}" in url
    code = parse_qs(urlsplit(url).query)["code"][0]
    [stored] = rows(hitl, signin_links)
    assert code not in str(stored) and stored["issued_via"] == "cli"
    opened = http.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert opened.status_code == 200 and "Sign in as Ana" in opened.text
    assert rows(hitl, signin_links)[0]["used_at"] is None  # looking spends nothing
    first = use(http, url)
    assert first.status_code == 303 and first.headers["location"] == f"/actions/{action.id}"
    assert http.get("/", headers={"cookie": f"overture_session={session_cookie(first)}"}).status_code == 200
    again = use(http, url)
    assert again.status_code == 410 and "already used" in again.text
    nonce = "n" * 32
    replayed = http.post(
        "/signin/link", data={"code": code, "nonce": nonce}, headers={"cookie": f"overture_signin={nonce}"}
    )
    assert replayed.status_code == 410 and "overture_session" not in replayed.headers.get("set-cookie", "")
    assert len(rows(hitl, console_sessions)) == 1
    issued, used = audit(hitl, "signin_link_issued"), audit(hitl, "signin_link_used")
    assert [(a["actor"], a["reason"]) for a in issued] == [("cli", "cli")]
    assert [(a["actor"], a["reason"]) for a in used] == [("ana", "cli")]
    assert code not in str(issued + used)


def test_a_link_expires_within_minutes_and_an_unknown_one_is_refused(
    hitl: App, http: Client, clock: FakeClock
) -> None:
    """Past signin_link_ttl_s the link is refused as expired; a made-up code is not valid."""
    issued = hitl.sessions.issue_link("ana", "acme", via="cli", by="cli")
    clock.advance(timedelta(seconds=hitl.settings.signin_link_ttl_s + 1))
    expired = use(http, f"{CONSOLE}/signin/link?code={issued.code}")
    assert expired.status_code == 410 and "expired" in expired.text
    unknown = use(http, f"{CONSOLE}/signin/link?code=ovl_{'x' * 43}")
    assert unknown.status_code == 404 and "not valid" in unknown.text
    assert rows(hitl, console_sessions) == []


def test_a_link_of_a_removed_person_signs_no_one_in(hitl: App, http: Client) -> None:
    issued = hitl.sessions.issue_link("eve", "acme", via="cli", by="cli")
    Removals(hitl.store, hitl.clock).remove_user("acme", "eve", by="boss")
    assert use(http, f"{CONSOLE}/signin/link?code={issued.code}").status_code == 410
    assert rows(hitl, console_sessions) == []


def test_admins_issue_links_over_the_api(hitl: App, http: Client) -> None:
    """An admin token gets a link (with its URL on console_url) that works once; others 403."""
    url = "/v1/orgs/acme/users/ana/signin-links"
    assert http.post(url, headers=issue(hitl, "acme", "boss")).status_code == 403
    made = http.post(url, headers=issue(hitl, None, admin=True))
    assert made.status_code == 201
    body = made.json()
    assert body["url"].startswith(f"{CONSOLE}/signin/link?code=ovl_") and body["user_id"] == "ana"
    assert use(http, body["url"]).status_code == 303 and use(http, body["url"]).status_code == 410
    assert (
        http.post("/v1/orgs/acme/users/zed/signin-links", headers=issue(hitl, None, admin=True)).status_code
        == 404
    )


# -- email ------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd on loopback keeping every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def received(self, count: int) -> list[Message]:
        """The messages, once ``count`` arrived (aiosmtpd answers on its own thread)."""
        for _ in range(100):
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        return list(self.messages)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    smtp = Inbox()
    smtp._controller.start()
    yield smtp
    smtp._controller.stop()


@pytest.fixture
def mailing(db_url: str, clock: FakeClock, inbox: Inbox) -> Iterator[tuple[App, Client]]:
    app = make(
        db_url,
        clock,
        None,
        console_url=CONSOLE,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        smtp_starttls=False,
        signin_link_requests="3/hour",
    )
    with in_process(app) as client:
        yield app, client
    app.close()


def ask(http: Client, email: str, next_path: str = "") -> httpx.Response:
    fresh(http)
    page = http.get("/signin")
    assert "Email me a link" in page.text
    nonce = nonce_of(page)
    return http.post(
        "/signin/email",
        data={"email": email, "nonce": nonce, "next": next_path},
        headers={"cookie": f"overture_signin={nonce}"},
    )


def test_email_me_a_link_sends_one_that_signs_in_once(mailing: tuple[App, Client], inbox: Inbox) -> None:
    """Ana asks from the sign-in page of an approval: the email has a link on console_url that
    lands her on it once; the page says the same for an address nobody has, and sends nothing."""
    app, http = mailing
    action = start(app, "mail")
    answered = ask(http, "ANA@acme.test", f"/actions/{action.id}")
    assert answered.status_code == 200
    [mail] = inbox.received(1)
    assert mail["To"] == "Ana <ana@acme.test>" and mail["Subject"] == "Your Overture sign-in link"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    [url] = re.findall(r"https://\S+", body)
    assert url.startswith(f"{CONSOLE}/signin/link?code=ovl_") and "15 minutes" in body
    landed = use(http, url)
    assert landed.status_code == 303 and landed.headers["location"] == f"/actions/{action.id}"
    assert use(http, url).status_code == 410
    nobody = ask(http, "nobody@acme.test")
    strip = lambda r: re.sub(r"\S+@acme\.test|value=\"[^\"]*\"", "", r.text)  # noqa: E731
    assert nobody.status_code == 200 and strip(nobody) == strip(answered)
    assert len(inbox.received(2)) == 1
    [issued] = audit(app, "signin_link_issued")
    assert issued["reason"] == "email" and "acme.test" not in str(issued)


def test_email_requests_are_throttled_and_checked(mailing: tuple[App, Client], inbox: Inbox) -> None:
    """A fourth request within the hour (signin_link_requests=3/hour) is 429 and sends nothing;
    a malformed address is 422; a form without its nonce is 400."""
    _app, http = mailing
    assert ask(http, "not an address").status_code == 422
    for _ in range(3):
        assert ask(http, "ana@acme.test").status_code == 200
    throttled = ask(http, "ana@acme.test")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert len(inbox.received(4)) == 3
    assert http.post("/signin/email", data={"email": "ana@acme.test", "nonce": "x"}).status_code == 400


def test_without_smtp_the_page_offers_no_email(hitl: App, http: Client) -> None:
    page = http.get("/signin")
    assert "Email me a link" not in page.text and "/overture signin" in page.text
    nonce = nonce_of(page)
    sent = http.post(
        "/signin/email",
        data={"email": "ana@acme.test", "nonce": nonce},
        headers={"cookie": f"overture_signin={nonce}"},
    )
    assert sent.status_code == 404 and rows(hitl, signin_links) == []


# -- Slack --------------------------------------------------------------------------------------


def command(http: Client, app: App, user: str, text: str = "signin", sign: bool = True) -> httpx.Response:
    body = urlencode({"team_id": "T111", "user_id": user, "command": "/overture", "text": text}).encode()
    stamp = str(int(app.clock.now().timestamp()))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp}
    if sign:
        headers["X-Slack-Signature"] = SlackVerifier(SIGNING_SECRET).signature(stamp, body)
    return http.post("/slack/commands", content=body, headers=headers)


def test_the_slack_command_answers_a_link_only_the_person_sees(hitl: App, http: Client) -> None:
    """`/overture signin` from Ana's Slack account answers her an ephemeral link that works
    once; an unsigned command is 401 and issues nothing; a stranger is told they are not linked."""
    assert command(http, hitl, "U_ANA", sign=False).status_code == 401
    assert rows(hitl, signin_links) == []
    said = command(http, hitl, "U_ANA")
    assert said.status_code == 200 and said.json()["response_type"] == "ephemeral"
    [url] = re.findall(r"<(https://[^|>]+)\|Sign in to Overture>", said.json()["text"])
    assert use(http, url).status_code == 303 and use(http, url).status_code == 410
    assert "not linked" in command(http, hitl, "U_STRANGER").json()["text"]
    assert "/overture signin" in command(http, hitl, "U_ANA", text="help").json()["text"]
    [issued] = audit(hitl, "signin_link_issued")
    assert (issued["actor"], issued["reason"]) == ("ana", "slack")


def test_a_decision_after_a_link_sign_in_is_the_persons(hitl: App, http: Client) -> None:
    """Signed in by link, Ana approves with her forms' CSRF token: recorded as hers, via web."""
    action = start(hitl, "mail")
    issued = hitl.sessions.issue_link("ana", "acme", via="cli", by="cli")
    landed = use(http, f"{CONSOLE}/signin/link?code={issued.code}")
    value = session_cookie(landed)
    posted = http.post(
        f"/actions/{action.id}/decide",
        data={"csrf": csrf_for(value), "decision": "approve"},
        headers={"cookie": f"overture_session={value}"},
    )
    assert posted.status_code == 303
    decided = action_now(hitl, action.id)
    assert (decided.status, decided.decided_by, decided.decided_via) == (ActionStatus.APPROVED, "ana", "web")


def test_one_link_pressed_four_times_at_once_opens_one_session(hitl: App) -> None:
    """Simultaneous uses of one link (double taps, two tabs): exactly one opens a session."""
    issued = hitl.sessions.issue_link("ana", "acme", via="cli", by="cli")
    start_together = threading.Barrier(4)
    outcomes: list[str] = []

    def press() -> None:
        start_together.wait()
        try:
            outcomes.append(hitl.sessions.redeem(issued.code).session.id)
        except LinkRefused as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=press) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    [session] = rows(hitl, console_sessions)
    assert sorted(outcomes) == sorted([session["id"], "used", "used", "used"])
    assert len(audit(hitl, "signin_link_used")) == 1 and len(audit(hitl, "console_signed_in")) == 1
