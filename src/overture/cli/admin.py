"""Tenancy admin commands: migrate, orgs, users (adding and removing them), features, budgets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from overture.cli.common import emit_json, handle_errors, json_option, parse_json_option, state

if TYPE_CHECKING:
    from overture.engine.humans.removals import Removal


@click.command()
@handle_errors
def migrate() -> None:
    """Create or upgrade the database schema."""
    app = state().app(migrate=False)
    app.migrate()
    click.echo(f"schema is current ({app.store.engine.url.render_as_string(hide_password=True)})")


@click.group()
def orgs() -> None:
    """Organisations."""


@orgs.command("add")
@click.argument("org_id")
@click.option("--name", required=True, help="Display name.")
@click.option("--profile", help="Org profile as JSON (ICP, product...).")
@json_option
@handle_errors
def orgs_add(org_id: str, name: str, profile: str | None, as_json: bool) -> None:
    """Add an organisation."""
    row = state().app().admin.add_org(org_id, name, parse_json_option(profile, "--profile"))
    emit_json({"id": row.id, "name": row.name}) if as_json else click.echo(f"org {row.id} added")


@orgs.command("list")
@json_option
@handle_errors
def orgs_list(as_json: bool) -> None:
    """List organisations."""
    from overture.storage.queries import tenancy

    with state().app().store.read() as conn:
        rows = tenancy.list_orgs(conn)
    if as_json:
        emit_json([{"id": r.id, "name": r.name} for r in rows])
    for r in [] if as_json else rows:
        click.echo(f"{r.id}\t{r.name}")


@orgs.command("remove")
@click.argument("org_id")
@json_option
@handle_errors
def orgs_remove(org_id: str, as_json: bool) -> None:
    """Remove an organisation and its users (kept for history): every token and console session
    of theirs is revoked at once, pending actions expire and queued jobs are cancelled."""
    from overture.engine.humans.removals import Removals

    app = state().app()
    _removed(Removals(app.store, app.clock).remove_org(org_id), as_json)


def _removed(removal: Removal, as_json: bool) -> None:
    if as_json:
        emit_json(removal.as_dict())
        return
    who = f"user {removal.user_id}" if removal.user_id else f"org {removal.org_id}"
    click.echo(
        f"{who} removed: {removal.tokens_revoked} token(s) revoked, {removal.actions_expired} pending "
        f"action(s) expired, {removal.jobs_cancelled} queued job(s) cancelled, "
        f"{removal.sessions_ended} console session(s) ended"
    )


@click.group()
def users() -> None:
    """People in an organisation."""


@users.command("add")
@click.argument("user_id")
@click.option("--org", "org_id", required=True)
@click.option("--name", default="")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.option("--active-hours", default="08:00-18:00", show_default=True, help="HH:MM-HH:MM, or 'always'.")
@click.option("--workdays", default="mon-fri", show_default=True)
@click.option("--max-notifications-per-hour", type=click.IntRange(min=0), default=10, show_default=True)
@click.option("--email")
@click.option("--slack-user-id")
@click.option("--role", type=click.Choice(["member", "admin"]), default="member", show_default=True)
@json_option
@handle_errors
def users_add(
    user_id: str,
    org_id: str,
    name: str,
    timezone: str,
    active_hours: str,
    workdays: str,
    max_notifications_per_hour: int,
    email: str | None,
    slack_user_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Add a user with their time zone, active hours and notification limit."""
    row = (
        state()
        .app()
        .admin.add_user(
            org_id,
            user_id,
            name,
            timezone=timezone,
            active_hours=None if active_hours == "always" else active_hours,
            workdays=workdays,
            max_notifications_per_hour=max_notifications_per_hour,
            email=email,
            slack_user_id=slack_user_id,
            role=role,
        )
    )
    if as_json:
        emit_json(
            {
                "id": row.id,
                "org_id": row.org_id,
                "timezone": row.timezone,
                "active_hours": row.active_hours,
                "workdays": row.workdays,
                "role": row.role,
            }
        )
    else:
        click.echo(
            f"user {row.id} added to {row.org_id} ({row.timezone}, active {row.active_hours or 'always'})"
        )


@users.command("remove")
@click.argument("user_id")
@click.option("--org", "org_id", required=True)
@json_option
@handle_errors
def users_remove(user_id: str, org_id: str, as_json: bool) -> None:
    """Remove a user (kept for history): every token and console session of theirs is revoked at
    once, their pending actions expire and their queued jobs are cancelled."""
    from overture.engine.humans.removals import Removals

    app = state().app()
    _removed(Removals(app.store, app.clock).remove_user(org_id, user_id), as_json)


@click.group()
def features() -> None:
    """Which event types run for an org."""


@features.command("set")
@click.argument("event_type")
@click.option("--org", "org_id", required=True)
@click.option("--enabled/--disabled", default=True)
@handle_errors
def features_set(event_type: str, org_id: str, enabled: bool) -> None:
    """Enable or disable an event type for an org."""
    state().app().admin.set_feature(org_id, event_type, enabled)
    click.echo(f"{event_type} {'enabled' if enabled else 'disabled'} for {org_id}")


@click.group()
def budgets() -> None:
    """AI cost budgets."""


@budgets.command("set")
@click.option("--org", "org_id", required=True)
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--limit", "limit_usd", type=float, required=True, help="Dollars per period.")
@handle_errors
def budgets_set(org_id: str, period: str, limit_usd: float) -> None:
    """Set an org's AI budget for a period."""
    state().app().admin.set_budget(org_id, period, limit_usd)
    click.echo(f"budget for {org_id}: ${limit_usd:.2f} per {period}")


def register(cli: click.Group) -> None:
    for cmd in (migrate, orgs, users, features, budgets):
        cli.add_command(cmd)
