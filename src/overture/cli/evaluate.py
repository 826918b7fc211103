"""``overture eval FILE``: score the product's follow-up decisions on labelled calls.

Each call goes through the real path on a throwaway database (see ``overture.evaluation``). The
exit code says whether it ran (0), the file is bad (2, naming every bad line, before anything
runs) or the settings or the path failed (1), never how well the detector did, so a script can
tell a broken file from a poor score. The global ``--db`` is ignored: the evaluation never writes
to a real database.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from overture.cli.common import emit_json, handle_errors, json_option
from overture.errors import ValidationFailed
from overture.evaluation import calls as callfile
from overture.settings import load_settings

if TYPE_CHECKING:
    from overture.evaluation.runner import EvalRun


def _run(picked: list[callfile.LabelledCall], database: Path, concurrency: int | None) -> EvalRun:
    # Imported here: the runner brings the HTTP service, which other commands need not load.
    from overture.evaluation.runner import run_calls

    settings = load_settings()
    lanes = concurrency or settings.worker_concurrency
    with click.progressbar(length=len(picked), label="Evaluating calls", file=sys.stderr) as bar:
        return run_calls(picked, settings, database, concurrency=lanes, advance=bar.update)


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--limit", type=click.IntRange(min=1), help="Run only the first N calls (after --only).")
@click.option("--only", multiple=True, metavar="ID", help="Run only this call (repeatable).")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    help="Calls run at once, one worker lane each (default: the worker_concurrency setting).",
)
@click.option(
    "--keep-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the throwaway database to this new file and keep it (its outbox folder beside it), "
    "to inspect a call's job with `overture --db sqlite:///PATH jobs show JOB_ID`.",
)
@json_option
@handle_errors
def evaluate(
    file: Path,
    limit: int | None,
    only: tuple[str, ...],
    concurrency: int | None,
    keep_db: Path | None,
    as_json: bool,
) -> None:
    """Run each labelled call in FILE through the real meeting_ended path (a MeetingBaaS webhook
    to the HTTP service, then the worker, with the configured model provider) on a throwaway
    database, and score the follow-ups it queued against the labels: per label the confusion
    table, precision, recall, F1 and the calls it got wrong."""
    from overture.evaluation import report
    from overture.evaluation.scoring import score

    picked = callfile.select(callfile.read_calls(file), only, limit)
    if keep_db is not None:
        if keep_db.exists():
            raise ValidationFailed(f"--keep-db: {keep_db} exists already; name a new file")
        run = _run(picked, keep_db.resolve(), concurrency)
    else:
        with tempfile.TemporaryDirectory(prefix="overture-eval-") as folder:
            run = _run(picked, Path(folder) / "eval.db", concurrency)
    scores = score(run.results, callfile.LABELS)
    kept = str(keep_db.resolve()) if keep_db is not None else None
    if as_json:
        emit_json(report.as_json(run, scores, str(file), kept))
    else:
        click.echo(report.as_text(run, scores, str(file), kept))


def register(cli: click.Group) -> None:
    cli.add_command(evaluate)
