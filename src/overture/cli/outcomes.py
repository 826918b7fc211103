"""What `overture emit` says beyond its JSON: a rejection is an error exit, a deferral says
until when and why, so a script or a person is not left reading ``"status"`` to find out."""

from __future__ import annotations

import sys
from datetime import UTC

import click

from overture.core.records import IngestResult


def report_outcome(result: IngestResult) -> None:
    """One line on stderr for anything but a plain acceptance; exit 1 when rejected."""
    if result.status == "rejected":
        click.echo(f"error: event rejected ({result.reason}): {result.detail}", err=True)
        sys.exit(1)
    if result.status == "deferred":
        when = (
            result.run_after.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if result.run_after else "later"
        )
        click.echo(f"deferred until {when}: {result.detail}", err=True)
    elif result.status == "skipped":
        click.echo(f"skipped ({result.reason}): {result.detail}; no job was queued", err=True)
    elif result.status == "duplicate":
        click.echo(f"duplicate: {result.detail}; its job is {result.job_id}", err=True)
