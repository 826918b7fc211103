"""``overture integrations add|list|resume|list-receipts|replay``: which external identity (a Slack
team, a Calendar channel, a mailbox, a Graph subscription, a MeetingBaaS account) belongs to which
org and user, redoing webhook work a crash or an outage left undone, finding receipts (the
``unrouted`` ones above all) and replaying those once their account exists."""

from __future__ import annotations

import getpass
from typing import Any

import click

from overture.cli.common import emit_json, handle_errors, json_option, parse_json_option, state
from overture.core.webhooks import (
    EXTERNAL_IDS,
    Outcome,
    Provider,
    check_account,
    normalise_external_id,
    secret_hash,
)
from overture.errors import Conflict, NotFound, ValidationFailed
from overture.ids import new_id
from overture.storage.queries import integrations as store
from overture.storage.queries import tenancy
from overture.storage.queries.integrations import Account, Receipt

_PROVIDERS = "\n".join(f"  {p.value}: external id = {EXTERNAL_IDS[p]}" for p in Provider)


def _view(account: Account) -> dict[str, Any]:
    """An account as shown: never its secret, only whether it has one."""
    return {
        "id": account.id,
        "provider": account.provider,
        "external_id": account.external_id,
        "org_id": account.org_id,
        "user_id": account.user_id,
        "has_secret": account.secret_hash is not None,
        "base_url": account.base_url,
        "token_ref": account.token_ref,
        "state": account.state,
    }


@click.group()
def integrations() -> None:
    """Accounts that route webhooks to an org and a user."""


@integrations.command("add", epilog=f"Providers:\n\n{_PROVIDERS}")
@click.argument("provider", type=click.Choice([p.value for p in Provider]))
@click.option("--org", "org_id", required=True)
@click.option("--user", "user_id", help="The user it belongs to (every provider but slack needs one).")
@click.option("--external-id", required=True, help="The sender's id for this account (see below).")
@click.option(
    "--secret",
    help="The channel token, Graph clientState or MeetingBaaS callback secret; only its hash is kept.",
)
@click.option("--base-url", help="The API's base URL (a local fake while testing).")
@click.option("--token-ref", help="Where the API token is: env:NAME or file:PATH (never the token).")
@click.option("--state", "state_json", help='Initial sync state as JSON, e.g. \'{"history_id": "1"}\'.')
@json_option
@handle_errors
def integrations_add(
    provider: str,
    org_id: str,
    user_id: str | None,
    external_id: str,
    secret: str | None,
    base_url: str | None,
    token_ref: str | None,
    state_json: str | None,
    as_json: bool,
) -> None:
    """Map an external identity to an org (and user)."""
    kind = check_account(provider, user_id, secret, external_id)
    initial = parse_json_option(state_json, "--state") or {}
    if not isinstance(initial, dict):
        raise ValidationFailed("--state: expected a JSON object")
    if token_ref is not None and token_ref.partition(":")[0] not in ("env", "file"):
        raise ValidationFailed("--token-ref: use env:NAME or file:PATH")
    app = state().app()
    now = app.clock.now()
    account = Account(
        id=new_id(),
        provider=kind.value,
        external_id=normalise_external_id(kind, external_id),
        org_id=org_id,
        user_id=user_id,
        secret_hash=secret_hash(secret) if secret else None,
        state=initial,
        base_url=base_url.rstrip("/") if base_url else None,
        token_ref=token_ref,
        created_at=now,
        updated_at=now,
    )
    with app.store.write() as conn:
        if tenancy.get_org(conn, org_id) is None:
            raise NotFound(f"no org {org_id!r}")
        if user_id is not None and tenancy.get_user(conn, user_id, org_id) is None:
            raise NotFound(f"no user {user_id!r} in org {org_id!r}")
        if store.find_account(conn, kind.value, account.external_id) is not None:
            raise Conflict(f"a {kind.value} account {account.external_id!r} exists already")
        store.insert_account(conn, account)
    if as_json:
        emit_json(_view(account))
    else:
        owner = f"{org_id}/{user_id}" if user_id else org_id
        click.echo(f"{kind.value} account {account.external_id} → {owner} ({account.id})")


@integrations.command("list")
@click.option("--org", "org_id", help="Only this org's accounts.")
@json_option
@handle_errors
def integrations_list(org_id: str | None, as_json: bool) -> None:
    """List integration accounts (secrets are never shown)."""
    with state().app().store.read() as conn:
        rows = store.list_accounts(conn, org_id)
    if as_json:
        emit_json([_view(a) for a in rows])
        return
    for a in rows:
        secret = "secret" if a.secret_hash else "-"
        click.echo(
            f"{a.provider}\t{a.external_id}\t{a.org_id}\t{a.user_id or '-'}\t{secret}\t{a.base_url or '-'}"
        )


@integrations.command("resume")
@click.option(
    "--older-than",
    "older_than_s",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Only receipts received at least this many seconds ago.",
)
@json_option
@handle_errors
def integrations_resume(older_than_s: float, as_json: bool) -> None:
    """Do again the after-answer work of webhook receipts left unfinished (a crash after the
    answer) or failed (the API was down): fetch, store, ingest."""
    from overture.http.webhooks.work import WebhookWork

    app = state().app()
    count = WebhookWork(app).resume(older_than_s=older_than_s)
    emit_json({"resumed": count}) if as_json else click.echo(f"{count} receipt(s) resumed")


def _receipt_view(receipt: Receipt) -> dict[str, Any]:
    """A receipt as listed: never what it keeps for later (an unrouted meeting's transcript)."""
    return {
        "id": receipt.id,
        "provider": receipt.provider,
        "outcome": receipt.outcome,
        "reason": receipt.reason,
        "detail": receipt.detail,
        "org_id": receipt.org_id,
        "user_id": receipt.user_id,
        "account_id": receipt.account_id,
        "duplicate_of": receipt.duplicate_of,
        "events": receipt.events,
        "received_at": receipt.received_at.isoformat(),
        "finished_at": receipt.finished_at.isoformat() if receipt.finished_at else None,
    }


@integrations.command("list-receipts")
@click.option("--provider", type=click.Choice([p.value for p in Provider]), help="Only this sender's.")
@click.option("--outcome", type=click.Choice([o.value for o in Outcome]), help="e.g. unrouted.")
@click.option("--org", "org_id", help="Only receipts routed to this org.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@json_option
@handle_errors
def integrations_list_receipts(
    provider: str | None, outcome: str | None, org_id: str | None, limit: int, as_json: bool
) -> None:
    """List webhook receipts, oldest first: what each became, and why."""
    with state().app().store.read() as conn:
        rows = store.list_receipts(conn, provider, org_id, limit, outcome)
    if as_json:
        emit_json([_receipt_view(r) for r in rows])
        return
    for r in rows:
        when = r.received_at.isoformat(timespec="seconds")
        click.echo(f"{r.id}\t{when}\t{r.provider}\t{r.outcome}\t{r.reason}\t{r.org_id or '-'}\t{r.detail}")


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@integrations.command("replay")
@click.argument("receipt_id")
@click.option(
    "--account",
    "account_ref",
    help="The MeetingBaaS account (external id) to route it to, when the bot's extra names none.",
)
@click.option("--by", "by", help="Who is replaying it, for the audit log (default: cli:<login>).")
@json_option
@handle_errors
def integrations_replay(receipt_id: str, account_ref: str | None, by: str | None, as_json: bool) -> None:
    """Replay an unrouted MeetingBaaS receipt into its one meeting_ended, once its account exists.
    A second replay creates nothing and says who replayed it first."""
    from overture.http.webhooks.replay import Replays

    result = Replays(state().app()).replay(receipt_id, by or _operator(), account_ref)
    emit_json(result.as_dict()) if as_json else click.echo(f"receipt {receipt_id}: {result.message}")


def register(cli: click.Group) -> None:
    cli.add_command(integrations)
