"""Integration accounts on both backends: `overture integrations add|list` maps senders to orgs and
users and keeps only a hash of each secret. Also home to what the webhook tests share: an App
with trivial `meeting_ended`, `calendar_event_created`, `email_received` and `gated` sequences,
accounts, receipts and jobs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from overture.app import App
from overture.cli import integrations as integrations_cli
from overture.cli.common import CliState
from overture.clock import FakeClock
from overture.core.records import Decision, Job
from overture.core.step_context import StepContext
from overture.core.webhooks import (
    Provider,
    calendar_id_from_uri,
    decision_for,
    pending_action_ref,
    receipt_key,
    secret_hash,
    secret_matches,
)
from overture.engine.registry import Registry
from overture.ids import new_id
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import integrations as store
from overture.storage.queries import jobs as jobq
from overture.storage.queries.integrations import Account, Receipt
from overture.storage.tables.integrations import integration_accounts, webhook_receipts
from overture.storage.tables.orchestrator import events, sequence_jobs

SEQUENCES = {
    "meeting_ended": "  - name: read\n    uses: skill:note\n"
    "    with: {transcript_id: '{{ event.payload.transcript_id }}'}\n",
    "calendar_event_created": "  - name: upsert\n    uses: skill:note\n"
    "    with: {event_id: '{{ event.payload.id }}'}\n",
    "email_received": "  - name: classify\n    uses: skill:note\n"
    "    with: {subject: '{{ event.payload.subject }}'}\n",
    "gated": "  - name: draft\n    uses: skill:note\n    with: {to: dana@example.com, body: Hello}\n"
    "  - name: send\n    uses: skill:note\n"
    "    approval: {pattern: draft, title: Send to dana}\n"
    "    with: {to: dana@example.com, body: Hello}\n",
}


def hooks_registry() -> Registry:
    """Trivial sequences for the event types the webhooks produce, and one approval gate."""
    registry = Registry()

    @registry.skill("note")
    def note(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return what the step was given."""
        return {"seen": inputs}

    for event_type, steps in SEQUENCES.items():
        text = f"event_type: {event_type}\nactive_hours: ignore\nsteps:\n{steps}"
        registry.add_sequence(load_sequence_text(text, f"{event_type}.yaml"))
    return registry


def hooks_app(db_url: str, clock: FakeClock | None = None) -> App:
    """An App on ``db_url`` with org ``acme`` (domain acme.test) and users ``ana``, ``boss``
    (an admin) and ``eve``, each linked to a Slack user ``U_ANA``, ``U_BOSS``, ``U_EVE``."""
    app = App(Settings(database_url=db_url, packs=[]), clock=clock, registry=hooks_registry())
    app.migrate()
    app.admin.add_org("acme", "Acme", {"domains": ["acme.test"]})
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
    return app


@pytest.fixture
def hooks(db_url: str, clock: FakeClock) -> Iterator[App]:
    app = hooks_app(db_url, clock)
    yield app
    app.close()


def connect(
    app: App,
    provider: str,
    external_id: str,
    *,
    user: str | None = "ana",
    secret: str | None = None,
    base_url: str | None = None,
    state: dict[str, Any] | None = None,
    org: str = "acme",
) -> Account:
    """Store an integration account as `overture integrations add` would."""
    now = app.clock.now()
    account = Account(
        id=new_id(),
        provider=provider,
        external_id=external_id,
        org_id=org,
        user_id=user,
        secret_hash=secret_hash(secret) if secret else None,
        state=state or {},
        base_url=base_url,
        token_ref=None,
        created_at=now,
        updated_at=now,
    )
    with app.store.write() as conn:
        store.insert_account(conn, account)
    return account


def receipts(app: App, provider: str | None = None) -> list[Receipt]:
    with app.store.read() as conn:
        return store.list_receipts(conn, provider, limit=1000)


def account_state(app: App, account: Account) -> dict[str, Any]:
    with app.store.read() as conn:
        fresh = store.get_account(conn, account.id)
    assert fresh is not None
    return fresh.state


def jobs_of(app: App, event_type: str) -> list[Job]:
    with app.store.read() as conn:
        ids = conn.execute(
            sa.select(sequence_jobs.c.id)
            .where(sequence_jobs.c.event_type == event_type)
            .order_by(sequence_jobs.c.created_at, sequence_jobs.c.id)
        ).scalars()
        found = [jobq.get_job(conn, i) for i in ids]
    return [j for j in found if j is not None]


def rows(app: App, table: sa.Table) -> int:
    with app.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def snapshot(app: App) -> dict[str, int]:
    """Row counts of everything a webhook may write: equal before and after means no change."""
    tables = (events, sequence_jobs, webhook_receipts, integration_accounts)
    return {t.name: rows(app, t) for t in tables}


def at(app: App) -> datetime:
    return app.clock.now()


# -- tests ----------------------------------------------------------------------------------


@click.group()
@click.option("--db", "database_url", required=True)
@click.pass_context
def cli(ctx: click.Context, database_url: str) -> None:
    """The `overture` group as main.py builds it, with only the integrations commands."""
    ctx.obj = CliState(overrides={"database_url": database_url})
    ctx.call_on_close(ctx.obj.close)


integrations_cli.register(cli)


def run_cli(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db_url, *args])


def test_add_and_list_keep_only_a_hash_of_the_secret(hooks: App, db_url: str) -> None:
    """`integrations add` stores the channel token as its SHA-256; `list` never shows it."""
    added = run_cli(
        db_url,
        "integrations",
        "add",
        "google_calendar",
        "--org",
        "acme",
        "--user",
        "ana",
        "--external-id",
        "chan-1",
        "--secret",
        "tok-s3cret",
        "--base-url",
        "http://127.0.0.1:9/calendar/v3/",
        "--json",
    )
    assert added.exit_code == 0, added.output
    shown = json.loads(added.output)
    assert (shown["provider"], shown["external_id"], shown["has_secret"]) == (
        "google_calendar",
        "chan-1",
        True,
    )
    assert shown["base_url"] == "http://127.0.0.1:9/calendar/v3"
    with hooks.store.read() as conn:
        stored = store.find_account(conn, "google_calendar", "chan-1")
    assert stored is not None and stored.secret_hash == hashlib.sha256(b"tok-s3cret").hexdigest()
    listed = run_cli(db_url, "integrations", "list")
    assert listed.exit_code == 0 and "chan-1" in listed.output
    assert "tok-s3cret" not in listed.output + added.output
    assert stored.secret_hash not in listed.output + added.output


def test_gmail_addresses_are_stored_lower_case(hooks: App, db_url: str) -> None:
    """A mailbox is found whatever the case Pub/Sub writes it in."""
    added = run_cli(
        db_url,
        "integrations",
        "add",
        "gmail",
        "--org",
        "acme",
        "--user",
        "ana",
        "--external-id",
        "Ana@Acme.TEST",
    )
    assert added.exit_code == 0, added.output
    with hooks.store.read() as conn:
        assert store.find_account(conn, "gmail", "ana@acme.test") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["slack", "--external-id", "T1", "--org", "nope"], "no org 'nope'"),
        (
            ["gmail", "--external-id", "a@acme.test", "--org", "acme"],
            "user: a gmail account belongs to one user",
        ),
        (
            ["graph", "--external-id", "sub-1", "--org", "acme", "--user", "ana"],
            "secret: a graph account needs",
        ),
        (["gmail", "--external-id", "a@acme.test", "--org", "acme", "--user", "zed"], "no user 'zed'"),
        (
            ["gmail", "--external-id", "a@acme.test", "--org", "acme", "--user", "ana", "--token-ref", "x"],
            "--token-ref: use env:NAME or file:PATH",
        ),
    ],
)
def test_invalid_accounts_are_refused(hooks: App, db_url: str, args: list[str], message: str) -> None:
    """Each mistake is named; nothing is stored."""
    result = run_cli(db_url, "integrations", "add", *args)
    assert result.exit_code != 0 and message in result.output
    assert rows(hooks, integration_accounts) == 0


def test_the_same_external_id_cannot_be_added_twice(hooks: App, db_url: str) -> None:
    """One Slack team maps to one org."""
    first = run_cli(db_url, "integrations", "add", "slack", "--org", "acme", "--external-id", "T1")
    again = run_cli(db_url, "integrations", "add", "slack", "--org", "acme", "--external-id", "T1")
    assert first.exit_code == 0 and again.exit_code != 0 and "exists already" in again.output


def test_resume_reports_what_it_redid(hooks: App, db_url: str) -> None:
    """`integrations resume` with nothing unfinished does nothing and says so."""
    result = run_cli(db_url, "integrations", "resume", "--older-than", "0", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"resumed": 0}


def test_what_a_button_and_a_channel_name() -> None:
    """Buttons name a decision and a pending action; Google's resource URI names the calendar."""
    assert [decision_for(a) for a in ("approve", "overture_skip", "cancel:2", "edit", "open", None)] == [
        Decision.APPROVE,
        Decision.SKIP,
        Decision.CANCEL,
        Decision.EDIT,
        None,
        None,
    ]
    refs = ["pa_1", '{"action_id": "pa_2"}', '{"pending_action_id": "pa_3"}', "{oops", "", None]
    assert [pending_action_ref(r) for r in refs] == ["pa_1", "pa_2", "pa_3", None, None, None]
    uri = "https://www.googleapis.com/calendar/v3/calendars/team%40acme.test/events?alt=json"
    assert calendar_id_from_uri(uri) == "team@acme.test" and calendar_id_from_uri("https://x/y") is None


def test_keys_and_secrets() -> None:
    """Receipt keys stay within 255 characters; a secret matches only its own hash."""
    assert receipt_key(Provider.GMAIL, "gmail-push:1") == "gmail:gmail-push:1"
    long = receipt_key(Provider.GRAPH, "x" * 400)
    assert len(long) <= 255 and long.startswith("graph:sha256:")
    assert secret_matches("s3cret", secret_hash("s3cret"))
    assert not secret_matches("guess", secret_hash("s3cret")) and not secret_matches(None, secret_hash("x"))
