"""What commands say beyond their JSON: a rejected `overture emit` is an error exit and a
deferral says until when and why, so a script or a person is not left reading ``"status"`` to
find out; a worker's summary says how many of its runs failed and which."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
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


def worker_summary(name: str, runs: int, outcomes: Mapping[str, int], failed_jobs: Sequence[str]) -> str:
    """``worker NAME: 3 run, 1 failed (2 completed)``, then each failed job with where to look."""
    others = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items()) if status != "failed" and n)
    line = f"worker {name}: {runs} run, {outcomes.get('failed', 0)} failed" + (
        f" ({others})" if others else ""
    )
    shown = list(failed_jobs[:20])
    lines = [line, *(f"  failed: {job_id}  see `overture jobs show {job_id}`" for job_id in shown)]
    if len(failed_jobs) > len(shown):
        lines.append(f"  ... and {len(failed_jobs) - len(shown)} more: `overture jobs list --status failed`")
    return "\n".join(lines)
