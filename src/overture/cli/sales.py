"""``overture seed``: load the sales pack's seed org into the database."""

from __future__ import annotations

from datetime import datetime

import click

from overture.cli.common import emit_json, handle_errors, json_option, state
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
    app = state().app()
    summary = sales_seed.load(app.store, app.admin, org_id, number, day.date() if day else None)
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


def register(cli: click.Group) -> None:
    """Add ``seed`` to the ``overture`` command."""
    cli.add_command(seed)
