"""Operating jobs by hand: ``jobs cancel`` / ``cancel-all``, ``jobs retry-all``, and
``events list`` / ``events replay``.

Thin commands over ``engine/run/cancel.py`` and ``engine/intake/replay.py``; each records who
asked (``--by``) and why (``--reason``) in the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from overture.cli.common import emit_json, handle_errors, json_option, state

by_option = click.option(
    "--by", "by", default="operator", show_default=True, help="Who asks (recorded in the audit log)."
)
_WHEN = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
reason_option = click.option("--reason", "why", required=True, help="Why (recorded in the audit log).")


@click.command("cancel")
@click.argument("job_id")
@reason_option
@by_option
@json_option
@handle_errors
def jobs_cancel(job_id: str, why: str, by: str, as_json: bool) -> None:
    """Cancel a job not yet ended. A running job stops after its current step (whose outcome is
    dropped, nothing of it sent); its pending approvals are closed as cancelled."""
    from overture.engine.run.cancel import cancel_job

    app = state().app()
    done = cancel_job(app.store, app.clock, job_id, by, why, "cli")
    if as_json:
        emit_json(done.as_dict())
        return
    closed = f"; closed {len(done.closed_actions)} pending approval(s)" if done.closed_actions else ""
    click.echo(f"job {job_id} cancelled (was {done.was.value}){closed}")


@click.command("cancel-all")
@click.option("--type", "event_type", help="Only jobs of this event type.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["pending", "deferred", "awaiting_approval", "in_progress"]),
    help="Only jobs with this status (repeatable; default: every status not yet ended).",
)
@click.option("--since", type=_WHEN, help="Only jobs created at or after this moment (UTC).")
@click.option("--org", "org_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--dry-run", is_flag=True, help="Only list the jobs that would be cancelled.")
@reason_option
@by_option
@json_option
@handle_errors
def jobs_cancel_all(
    event_type: str | None,
    statuses: tuple[str, ...],
    since: datetime | None,
    org_id: str | None,
    limit: int,
    dry_run: bool,
    why: str,
    by: str,
    as_json: bool,
) -> None:
    """Cancel every job (of a type, with a status) not yet ended, oldest first."""
    from overture.core.records import JobStatus
    from overture.engine.admin.views import job_summary
    from overture.engine.run.cancel import NOT_ENDED, cancel_matching

    app = state().app()
    chosen = tuple(JobStatus(s) for s in statuses) or NOT_ENDED
    when = since.replace(tzinfo=UTC) if since else None
    jobs = cancel_matching(
        app.store, app.clock, by, why, "cli", event_type, chosen, org_id, when, limit, dry_run
    )
    if as_json:
        emit_json([job_summary(j) for j in jobs])
        return
    click.echo(f"{'would cancel' if dry_run else 'cancelled'} {len(jobs)} job(s)")
    for j in jobs:
        click.echo(f"  {j.id}  {j.event_type:<22} step {j.current_step}")


@click.command("retry-all")
@click.option("--type", "event_type", help="Only jobs of this event type.")
@click.option(
    "--since",
    required=True,
    type=_WHEN,
    help="Jobs that ended at or after this moment (UTC).",
)
@click.option(
    "--status", type=click.Choice(["failed", "halted", "expired"]), default="failed", show_default=True
)
@click.option("--org", "org_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--dry-run", is_flag=True, help="Only list the jobs that would be retried.")
@by_option
@json_option
@handle_errors
def jobs_retry_all(
    event_type: str | None,
    since: datetime,
    status: str,
    org_id: str | None,
    limit: int,
    dry_run: bool,
    by: str,
    as_json: bool,
) -> None:
    """Retry every job (of a type) that failed since a moment, each at the step it stopped on."""
    from overture.core.records import JobStatus
    from overture.engine.admin.views import job_summary
    from overture.engine.run.retries import retry_ended_since

    app = state().app()
    jobs = retry_ended_since(
        app.store,
        app.clock,
        app.registry,
        since.replace(tzinfo=UTC),
        by,
        "cli",
        event_type,
        JobStatus(status),
        org_id,
        limit,
        dry_run,
    )
    if as_json:
        emit_json([job_summary(j) for j in jobs])
        return
    verb = "would retry" if dry_run else "retried"
    click.echo(
        f"{verb} {len(jobs)} job(s)" + ("" if jobs else f": none {status} since {since:%Y-%m-%d %H:%M}")
    )
    for j in jobs:
        click.echo(f"  {j.id}  {j.event_type:<22} step {j.current_step}")


@click.group()
def events() -> None:
    """Events as they arrived, and replaying one as a new job."""


@events.command("list")
@click.option("--org", "org_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@handle_errors
def events_list(org_id: str | None, limit: int, as_json: bool) -> None:
    """Events, newest first, with what the gates decided and the job each became."""
    from overture.storage.queries import jobs as jobq

    with state().app().store.read() as conn:
        rows = jobq.list_events(conn, org_id, limit)
    if as_json:
        keys = ("id", "org_id", "user_id", "type", "source", "outcome", "reason", "detail", "job_id")
        emit_json([{k: r[k] for k in keys} | {"received_at": r["received_at"].isoformat()} for r in rows])
        return
    if not rows:
        click.echo("no events" + (f" in org {org_id}" if org_id else ""))
    for r in rows:
        click.echo(
            f"{r['id']}  {r['type']:<22} {r['user_id']:<12} {r['outcome']:<9} {r['reason']:<20} "
            f"job {r['job_id'] or '-'}"
        )


@events.command("replay")
@click.argument("event_id")
@reason_option
@by_option
@handle_errors
def events_replay(event_id: str, why: str, by: str) -> None:
    """Ingest an event again as a new event and job, bypassing dedupe (only): prints the outcome
    as JSON with replay_of naming the event it repeats. Exits 1 when the replay is rejected."""
    from overture.cli.outcomes import report_outcome
    from overture.engine.intake.replay import replay_event

    app = state().app()
    replayed = replay_event(app.store, app.ingestor, app.clock, event_id, by, why, "cli")
    emit_json(replayed.as_dict())
    report_outcome(replayed.result)


#: What this module adds to the ``jobs`` group (``jobs.py`` attaches them when it is imported).
JOBS_COMMANDS = (jobs_cancel, jobs_retry_all, jobs_cancel_all)


def register(cli: click.Group) -> None:
    """``events`` at the top; the ``jobs`` commands join that group from ``jobs.py``."""
    cli.add_command(events)
