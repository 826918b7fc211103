"""``overture bench``: engine overhead against the storage's own commit cost."""

from __future__ import annotations

from pathlib import Path

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
@click.option(
    "--detector",
    "detector_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Instead: the follow-up detector's CPU cost per call on this labelled-calls file.",
)
@json_option
@handle_errors
def bench(
    events: int, pg_url: str | None, lengths: str, concurrency: int, detector_file: Path | None, as_json: bool
) -> None:
    """N events through a 5-step sequence, each step durably recorded; then 5/50/500-step sequences.
    With ``--detector FILE``: what the offline follow-up detector costs per call, in CPU time."""
    if detector_file is not None:
        from overture.evaluation.cost import detector_cost

        cost = detector_cost(detector_file)
        if as_json:
            emit_json(cost)
        else:
            click.echo(
                f"detector: {cost['cpu_ms_per_call']} ms CPU per call over {cost['calls']} calls "
                f"x {cost['rounds']} (slowest {cost['slowest_cpu_ms']} ms, {cost['slowest_call']})"
            )
        return
    from overture.bench import run_bench

    report = run_bench(
        events, pg_url, [int(x) for x in lengths.split(",")], concurrency, progress=not as_json
    )
    if as_json:
        emit_json(report)


def register(cli: click.Group) -> None:
    cli.add_command(bench)
