"""``overture bench``: what users feel, against the storage's own commit cost."""

from __future__ import annotations

from pathlib import Path

import click

from overture.cli.common import emit_json, handle_errors, json_option

_WORKLOADS = ("w1", "w2", "flat", "http", "cli")


def _lengths(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        lengths = tuple(int(x) for x in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected numbers separated by commas, e.g. 5,500") from None
    if not lengths or min(lengths) < 1:
        raise click.BadParameter(f"{value!r}: every length is at least 1")
    return lengths


@click.command()
@click.option("--postgres", "pg_url", help="Also measure on this PostgreSQL URL (bench orgs are left in it).")
@click.option(
    "--only",
    type=click.Choice(_WORKLOADS),
    multiple=True,
    help="Only these workloads (repeat the option); all by default.",
)
@click.option(
    "--events", type=click.IntRange(min=1), default=2000, show_default=True, help="W1 full queue: events."
)
@click.option(
    "--serial-events",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="W1 one event in flight, and W2: events, one at a time.",
)
@click.option(
    "--lengths",
    default="5,500",
    show_default=True,
    callback=_lengths,
    help="Chain lengths whose per-step cost is compared (flatness).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=16,
    show_default=True,
    help="Lanes of the worker for the full queue and flatness runs.",
)
@click.option("--http-requests", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--http-connections", type=click.IntRange(min=1, max=1024), default=32, show_default=True)
@click.option(
    "--http-workers",
    type=click.IntRange(min=1, max=64),
    default=2,
    show_default=True,
    help="`overture serve --http-workers` for the HTTP workloads.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
    help="Events per second sent for the event-to-first-step figure.",
)
@click.option("--first-step-events", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--cli-runs",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Start-ups timed per command.",
)
@click.option(
    "--detector",
    "detector_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Instead: the follow-up detector's CPU cost per call on this labelled-calls file.",
)
@click.option(
    "--cli",
    "cli_runs_only",
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
    pg_url: str | None,
    only: tuple[str, ...],
    events: int,
    serial_events: int,
    lengths: tuple[int, ...],
    concurrency: int,
    http_requests: int,
    http_connections: int,
    http_workers: int,
    rate: float,
    first_step_events: int,
    cli_runs: int,
    detector_file: Path | None,
    cli_runs_only: int | None,
    against: tuple[str, ...],
    as_json: bool,
) -> None:
    """What users feel, each figure against one raw commit on the same storage in the same run.

    W1 (a 5-step chain) with one event in flight and on a full queue; W2 (3 steps, an approval at
    step 2) pausing and deciding one event at a time; per-step cost at short and long chains;
    POST /v1/events throughput and latency, and event to first step, against a real `overture
    serve`; the CLI's start-up.
    With ``--detector FILE``: what the offline follow-up detector costs per call, in CPU time.
    With ``--cli N``: how long the CLI takes to answer, in fresh processes."""
    if cli_runs_only is not None:
        _bench_cli(cli_runs_only, list(against), as_json)
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
    from overture.bench.run import Sizes, run_bench

    sizes = Sizes(
        events=events,
        serial_events=serial_events,
        lengths=lengths,
        lanes=concurrency,
        http_requests=http_requests,
        http_connections=http_connections,
        http_workers=http_workers,
        rate=rate,
        first_step_events=first_step_events,
        cli_runs=cli_runs,
    )
    report = run_bench(sizes, pg_url, set(only or _WORKLOADS), progress=not as_json)
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
