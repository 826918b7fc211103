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
@click.option(
    "--cli",
    "cli_runs",
    type=click.IntRange(min=1),
    help="Instead: time `overture --help` and `overture jobs list` (empty database), N runs each.",
)
@click.option(
    "--against",
    multiple=True,
    help="With --cli: another install's `overture` to time in turns with this one.",
)
@json_option
@handle_errors
def bench(
    events: int,
    pg_url: str | None,
    lengths: str,
    concurrency: int,
    detector_file: Path | None,
    cli_runs: int | None,
    against: tuple[str, ...],
    as_json: bool,
) -> None:
    """N events through a 5-step sequence, each step durably recorded; then 5/50/500-step sequences.
    With ``--detector FILE``: what the offline follow-up detector costs per call, in CPU time.
    With ``--cli N``: how long the CLI takes to answer, in fresh processes."""
    if cli_runs is not None:
        _bench_cli(cli_runs, list(against), as_json)
        return
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


def _bench_cli(runs: int, against: list[str], as_json: bool) -> None:
    import shutil
    import sys

    from overture.cli.startup import measure, ratios

    here = shutil.which("overture", path=str(Path(sys.executable).parent)) or "overture"
    say = (lambda _s: None) if as_json else (lambda s: click.echo(s, err=True))
    timings = measure([here, *against], runs, say)
    if as_json:
        emit_json({"timings": [t.as_dict() for t in timings], "ratios": ratios(timings)})
        return
    for t in timings:
        click.echo(
            f"{t.command:<10} {t.wall_s:6.3f} s wall  {t.cpu_s:6.3f} s CPU  (median of {t.runs})  "
            f"{t.executable}"
        )
    for name, ratio in ratios(timings).items():
        click.echo(f"{name}: {ratio}x this install's wall time")


def register(cli: click.Group) -> None:
    cli.add_command(bench)
