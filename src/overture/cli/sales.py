"""``overture seed`` loads the sales pack's seed org; ``overture contacts`` shows and undoes the
contacts Overture created for prospects it met on calls."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from overture.cli.common import emit_json, handle_errors, json_option, state
from overture.packs.sales.crm.people import People
from overture.packs.sales.crm.queries import Crm
from overture.packs.sales.seed import generate as sales_seed


@click.command()
@click.option("--org", "org_id", default="northwind", show_default=True, help="Org id to create and fill.")
@click.option(
    "--seed", "number", type=int, default=1, show_default=True, help="Seed number (same seed, same data)."
)
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The story's day: meetings, inbox and deal ages are placed around it (default: today, UTC).",
)
@json_option
@handle_errors
def seed(org_id: str, number: int, day: datetime | None, as_json: bool) -> None:
    """Create a believable sales org: reps in four time zones, companies, contacts, deals at every
    stage, a week of meetings with transcripts, inboxes, calendars, campaigns and templates."""
    app = state().app(create=True)  # seeding makes a world, in a new database file if need be
    when = day.date() if day else None
    if as_json:
        summary = sales_seed.load(app.store, app.admin, org_id, number, when)
    else:
        parts = 1 + len(sales_seed.PARTS)  # the users, then each CRM table
        with click.progressbar(length=parts, label=f"seeding {org_id}", file=sys.stderr) as bar:
            summary = sales_seed.load(app.store, app.admin, org_id, number, when, lambda _part: bar.update(1))
    if as_json:
        emit_json(
            {
                "org_id": summary.org_id,
                "seed": summary.seed,
                "day": summary.today.isoformat(),
                "users": summary.users,
                "counts": summary.counts,
                "story_meeting_id": summary.meetings.get("story"),
            }
        )
        return
    click.echo(f"seeded org {summary.org_id} (seed {summary.seed}, story day {summary.today.isoformat()})")
    for table, count in sorted(summary.counts.items()):
        click.echo(f"  {table:<24} {count}")
    click.echo(f"  users: {', '.join(sorted(summary.users.values()))}")
    click.echo(f"  the story's call: meeting {summary.meetings.get('story')} (emit meeting_ended with it)")


@click.group()
def contacts() -> None:
    """Contacts Overture created from calls: list them, and undo one."""


@contacts.command("created")
@click.option("--org", "org_id", required=True, help="The org whose created contacts to list.")
@click.option("--meeting", "meeting_id", help="Only those created from this meeting.")
@json_option
@handle_errors
def contacts_created(org_id: str, meeting_id: str | None, as_json: bool) -> None:
    """Contacts created by Overture for prospects it did not know, newest first."""
    found = People(Crm(state().app().store, org_id)).created(meeting_id)
    if as_json:
        emit_json([{**row, "occurred_at": str(row["occurred_at"])} for row in found])
        return
    if not found:
        click.echo("no contacts created by Overture" + (f" from meeting {meeting_id}" if meeting_id else ""))
        return
    for row in found:
        click.echo(f"{row['id']}  {row['name']}  {row['email'] or '(no email)'}  {row['summary']}")


@contacts.command("undo")
@click.argument("contact_id")
@click.option("--org", "org_id", required=True, help="The org the contact belongs to.")
@json_option
@handle_errors
def contacts_undo(contact_id: str, org_id: str, as_json: bool) -> None:
    """Remove a contact Overture created (and its company, if Overture made it and it is now
    empty); refused when a deal, task or email thread rests on the contact."""
    undone = People(Crm(state().app().store, org_id)).undo(contact_id)
    if as_json:
        emit_json(undone)
        return
    company = f"; company {undone['company_removed']} removed too" if undone["company_removed"] else ""
    click.echo(f"removed contact {contact_id}{company}")


def register(cli: click.Group) -> None:
    """Add ``seed`` and ``contacts`` to the ``overture`` command."""
    cli.add_command(seed)
    cli.add_command(contacts)
