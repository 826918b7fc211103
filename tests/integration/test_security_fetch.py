"""Finding 1 (SSRF): a v2 webhook's transcript link is fetched only through the one guarded client:
https, an allowed storage host, and addresses that are public after resolution, each redirect
checked the same way, within size and time limits. A refusal is a 422 (MeetingBaaS does not
retry a 4xx) and changes nothing; the fake on loopback is never reached."""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest

from overture.app import App
from overture.clock import FakeClock
from overture.integrations.meetingbaas import transcript_policy
from overture.integrations.safe_fetch import FetchPolicy, FetchRefused, SafeFetch, why_not_public
from overture.storage.tables.crm import transcripts
from tests.fake_storage import STORAGE, receiver, resolver, tls_storage, trusting_fetcher
from tests.integration.test_http_api import Client, is_problem
from tests.integration.test_webhooks_accounts import connect, hooks_app, jobs_of, rows, snapshot
from tests.unit.test_integrations_apis import Reply
from tests.unit.test_integrations_meetingbaas import ARTIFACT, V2_COMPLETED

CALLBACK_SECRET = "cb-secret-456"
URL = "/webhooks/meetingbaas"


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    connect(app, "meetingbaas", "ana-recorder", secret=CALLBACK_SECRET)
    yield app
    app.close()


def completed(link: str) -> bytes:
    doc = copy.deepcopy(V2_COMPLETED)
    doc["data"]["transcription"] = link
    return json.dumps(doc).encode()


def send(client: Client, link: str) -> Any:
    return client.post(URL, content=completed(link), headers={"x-mb-secret": CALLBACK_SECRET})


def artifact(_request: Any) -> Reply:
    return Reply(body=ARTIFACT)


def test_links_to_loopback_and_other_schemes_are_422_and_never_fetched(hooks: App) -> None:
    """With the production policy, a link to the loopback fake (by address or by name), to the
    metadata address, or in another scheme is refused with 422; the fake sees no request and
    nothing is recorded. Tally: tries, accepted, 5xx."""
    tally = {"tries": 0, "accepted": 0, "5xx": 0}
    with tls_storage(artifact) as storage, receiver(hooks) as client:
        port = storage.url.rsplit(":", 1)[1]
        links = [
            f"https://127.0.0.1:{port}/t.json",
            f"https://localhost:{port}/t.json",
            f"https://[::1]:{port}/t.json",
            f"http://127.0.0.1:{port}/t.json",
            "https://169.254.169.254/latest/meta-data/",
            "http://s3.amazonaws.com/bucket/t.json",
            "file:///etc/passwd",
            "gopher://127.0.0.1:70/_x",
            "ftp://s3.amazonaws.com/t.json",
            "https://user:pw@s3.amazonaws.com/t.json",
            "https://evil.example/t.json",
            "not a url",
        ]
        before = snapshot(hooks)
        for link in links:
            response = send(client, link)
            tally["tries"] += 1
            tally["accepted"] += response.status_code < 300
            tally["5xx"] += response.status_code >= 500
            assert is_problem(response, 422)["detail"].startswith("data.transcription: "), link
        assert storage.seen == []
        assert snapshot(hooks) == before and rows(hooks, transcripts) == 0
    assert tally == {"tries": len(links), "accepted": 0, "5xx": 0}


def test_an_allowed_host_that_resolves_to_loopback_is_refused_after_resolution(hooks: App) -> None:
    """The name is on the allowlist, but it resolves to 127.0.0.1: refused by address, not name."""
    policy = transcript_policy(hooks.settings.meetingbaas_transcript_hosts)
    fetcher = SafeFetch(policy, resolver=resolver({"bucket.s3.amazonaws.com": "127.0.0.1"}))
    with tls_storage(artifact) as storage, receiver(hooks, fetcher) as client:
        port = storage.url.rsplit(":", 1)[1]
        response = send(client, f"https://bucket.s3.amazonaws.com:{port}/t.json")
        detail = is_problem(response, 422)["detail"]
        assert storage.seen == []
    assert "resolves to a loopback address" in detail
    assert rows(hooks, transcripts) == 0


@pytest.mark.parametrize(
    "location",
    [
        "https://127.0.0.2:{port}/t.json",
        "https://[::1]:{port}/t.json",
        "https://169.254.169.254/latest/meta-data/iam",
        "http://storage.test:{port}/t.json",
        "https://elsewhere.test/t.json",
    ],
)
def test_a_redirect_to_loopback_or_elsewhere_is_checked_like_the_first_hop(hooks: App, location: str) -> None:
    """The storage host answers 302 to loopback, to the metadata address, to http or to a host off
    the list: 422, the redirect is not followed, nothing is recorded."""
    with tls_storage(lambda _r: Reply(302, b"")) as storage:
        port = storage.url.rsplit(":", 1)[1]
        storage.handler = lambda _r: Reply(302, b"", headers={"Location": location.format(port=port)})
        with receiver(hooks, trusting_fetcher()) as client:
            response = send(client, f"{storage.url}/t.json")
            is_problem(response, 422)
        assert len(storage.seen) == 1
    assert rows(hooks, transcripts) == 0 and jobs_of(hooks, "meeting_ended") == []


def test_an_allowed_redirect_is_followed_and_the_transcript_stored(hooks: App) -> None:
    """A redirect within the allowed host is followed; the transcript is stored once."""

    def storage_answer(request: Any) -> Reply:
        if request.path == "/old.json":
            return Reply(307, b"", headers={"Location": "/t.json"})
        return Reply(body=ARTIFACT)

    with tls_storage(storage_answer) as storage, receiver(hooks, trusting_fetcher()) as client:
        response = send(client, f"{storage.url}/old.json?X-Amz-Signature=x")
        assert response.status_code == 200, response.text
        assert [s.path for s in storage.seen] == ["/old.json", "/t.json"]
        assert {s.headers["host"] for s in storage.seen} == {storage.url.removeprefix("https://")}
    assert rows(hooks, transcripts) == 1 and len(jobs_of(hooks, "meeting_ended")) == 1


def test_an_answer_over_the_size_limit_is_422(hooks: App) -> None:
    """More than the policy's bytes, declared or streamed: refused, nothing stored."""
    with tls_storage(artifact) as storage, receiver(hooks, trusting_fetcher(max_bytes=100)) as client:
        detail = is_problem(send(client, f"{storage.url}/t.json"), 422)["detail"]
    assert "at most 100 are read" in detail and rows(hooks, transcripts) == 0


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """The name is resolved once per hop and the request goes to that address, the host name
    kept for the Host header and TLS: a second answer from DNS is never asked for."""
    calls: list[str] = []
    fetcher = trusting_fetcher()
    fetcher.resolver = resolver({STORAGE: "127.0.0.1"}, calls)
    with tls_storage(artifact) as storage:
        assert fetcher.get_json(f"{storage.url}/t.json") == ARTIFACT
        [seen] = storage.seen
    assert calls == [STORAGE] and seen.headers["host"] == storage.url.removeprefix("https://")


def test_too_many_redirects_are_refused() -> None:
    with tls_storage(lambda r: Reply(302, b"", headers={"Location": r.path + "x"})) as storage:
        with pytest.raises(FetchRefused, match="more than 3 redirects"):
            trusting_fetcher().get(f"{storage.url}/a")
        assert len(storage.seen) == 4


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fd00:ec2::254",
        "100.64.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_non_public_addresses_are_named(address: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "52.216.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) is None


def test_a_bad_allowed_network_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="allowed networks"):
        FetchPolicy("x", ("a.test",), ("not-a-network",))
