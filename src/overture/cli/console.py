"""``overture console``: one-time sign-in links, and people's console sessions.

``link`` prints a link that signs one person in to the web console, once, within minutes
(``signin_link_ttl_s``); give it to them by a channel you trust. ``sessions`` lists a person's
signed-in browsers and ``revoke`` signs one out at once. All of it is in the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from overture.cli.common import emit_json, handle_errors, json_option, state
from overture.errors import NotFound

if TYPE_CHECKING:
    from overture.app import App
    from overture.storage.queries.console_sessions import SessionRow

DEFAULT_BASE = "http://127.0.0.1:8000"


def _org_of(app: App, user_id: str, org_id: str | None) -> str:
    from overture.storage.queries import tenancy

    with app.store.read() as conn:
        user = tenancy.get_user(conn, user_id, org_id, include_removed=True)
    if user is None:
        raise NotFound(f"no user {user_id!r}" + (f" in org {org_id!r}" if org_id else ""))
    return user.org_id


def _session_json(row: SessionRow, status: str) -> dict[str, Any]:
    return {**row.__dict__, "state": status}


@click.group()
def console() -> None:
    """The web console: one-time sign-in links, and people's sessions."""


@console.command("link")
@click.option("--user", "user_id", required=True, help="The person the link signs in.")
@click.option("--org", "org_id", help="Their org (checked when given).")
@click.option("--next", "next_path", help="A console page to land on after signing in, e.g. /actions/ID.")
@click.option(
    "--base-url",
    help=f"The console's address (default: the console_url setting, else {DEFAULT_BASE}).",
)
@json_option
@handle_errors
def link(
    user_id: str, org_id: str | None, next_path: str | None, base_url: str | None, as_json: bool
) -> None:
    """Print a one-time sign-in link: it works once, within minutes, for this person only."""
    from overture.http.console.urls import link_url, safe_next

    if next_path is not None and safe_next(next_path) is None:
        raise click.BadParameter("a path on the console, like /actions/ID", param_hint="--next")
    app = state().app()
    base = base_url or app.settings.console_url or DEFAULT_BASE
    issued = app.sessions.issue_link(user_id, org_id, via="cli", by="cli")
    url = link_url(base, issued.code, next_path)
    if as_json:
        emit_json({**issued.link.__dict__, "url": url})
        return
    click.echo(url)
    minutes = round(app.settings.signin_link_ttl_s / 60)
    click.echo(
        f"Signs in {issued.link.user_id} ({issued.link.org_id}) once, until "
        f"{issued.link.expires_at.isoformat(timespec='seconds')} ({minutes} min).",
        err=True,
    )


@console.command("sessions")
@click.option("--user", "user_id", required=True, help="Whose sessions.")
@click.option("--org", "org_id", help="Their org (checked when given).")
@click.option("--all", "include_ended", is_flag=True, help="Also those ended or expired.")
@json_option
@handle_errors
def sessions(user_id: str, org_id: str | None, include_ended: bool, as_json: bool) -> None:
    """A person's console sessions, newest first (by default the active ones)."""
    app = state().app()
    rows = app.sessions.of_person(_org_of(app, user_id, org_id), user_id, include_ended=include_ended)
    if as_json:
        emit_json([_session_json(r, s) for r, s in rows])
        return
    if not rows:
        click.echo(f"{user_id} has no {'' if include_ended else 'active '}console sessions.")
        return
    for row, status in rows:
        seen = row.last_seen_at.isoformat(timespec="seconds")
        agent = (row.user_agent or "unknown browser")[:60]
        click.echo(f"{row.id}  {status:<10} via {row.via:<5}  last used {seen}  {agent}")


@console.command("revoke")
@click.argument("session_id")
@json_option
@handle_errors
def revoke(session_id: str, as_json: bool) -> None:
    """Revoke a session: its browser is signed out at once. Again changes nothing."""
    app = state().app()
    row = app.sessions.revoke(session_id, "cli")
    if as_json:
        from overture.engine.admin.console_sessions import session_state

        emit_json(_session_json(row, session_state(row, app.clock.now(), app.sessions.lifetimes.idle)))
        return
    when = row.ended_at.isoformat(timespec="seconds") if row.ended_at else "?"
    click.echo(f"session {row.id} of {row.user_id} ended ({row.ended_reason}) at {when}")


def register(cli: click.Group) -> None:
    cli.add_command(console)
