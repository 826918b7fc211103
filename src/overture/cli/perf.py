"""``overture bench``: engine overhead against the storage's own commit cost."""

from __future__ import annotations

import click

from overture.cli.common import emit_json, handle_errors, json_option


@click.command()
@click.option("--events", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--postgres", "pg_url", help="Also measure on this PostgreSQL URL.")
@click.option("--lengths", default="5,50,500", show_default=True, help="Sequence lengths for per-step cost.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=16,
    show_default=True,
    help="Lanes of the one worker (jobs run at once, their step commits grouped).",
)
@json_option
@handle_errors
def bench(events: int, pg_url: str | None, lengths: str, concurrency: int, as_json: bool) -> None:
    """N events through a 5-step sequence, each step durably recorded; then 5/50/500-step sequences."""
    from overture.bench import run_bench

    report = run_bench(
        events, pg_url, [int(x) for x in lengths.split(",")], concurrency, progress=not as_json
    )
    if as_json:
        emit_json(report)


def register(cli: click.Group) -> None:
    cli.add_command(bench)
