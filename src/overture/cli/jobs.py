"""Commands that move work: emit, worker, jobs, approvals."""

from __future__ import annotations

import signal
from typing import Any

import click

from overture.cli.common import emit_json, handle_errors, json_option, parse_json_option, state
from overture.core.records import EFFECT_FAILURES, ActionStatus, Decision, JobStatus
from overture.errors import NotFound, ValidationFailed


@click.command()
@click.argument("event_type")
@click.option("--org", "org_id", required=True)
@click.option("--user", "user_id", required=True)
@click.option("--payload", default="{}", show_default=True, help="The payload as a JSON object.")
@click.option("--source", default="api", show_default=True)
@click.option("--idempotency-key")
@click.option("--parent-job-id")
@handle_errors
def emit(
    event_type: str,
    org_id: str,
    user_id: str,
    payload: str,
    source: str,
    idempotency_key: str | None,
    parent_job_id: str | None,
) -> None:
    """Send an event; prints {event_id, status, job_id, reason} as JSON. Exits 1 when the event
    is rejected; a deferred event says until when and why (on stderr)."""
    data: dict[str, Any] = {
        "type": event_type,
        "org_id": org_id,
        "user_id": user_id,
        "source": source,
        "payload": parse_json_option(payload, "--payload"),
    }
    if idempotency_key:
        data["idempotency_key"] = idempotency_key
    if parent_job_id:
        data["parent_job_id"] = parent_job_id
    result = state().app().emit(data)
    emit_json(result.as_dict())
    from overture.cli.outcomes import report_outcome

    report_outcome(result)


@click.command()
@click.option("--until-idle", is_flag=True, help="Stop when nothing is runnable.")
@click.option("--max-jobs", type=click.IntRange(min=1), help="Stop after this many job runs.")
@click.option("--name", help="Worker name (default host:pid:random).")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    help="Jobs to run at once (default: worker_concurrency setting, 1).",
)
@handle_errors
def worker(until_idle: bool, max_jobs: int | None, name: str | None, concurrency: int | None) -> None:
    """Run jobs. SIGTERM or Ctrl-C stops after the current step is recorded."""
    from overture.cli.heap import settle
    from overture.cli.loops import once

    w = state().app().worker(name, concurrency)

    @once  # a second signal may interrupt the first's handler
    def stop() -> None:
        click.echo(f"worker {w.name}: stopping after the current step", err=True)
        w.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: stop())
    if not until_idle:
        settle()  # a worker that runs until stopped: its started heap out of the collector's way
    runs = w.run(until_idle=until_idle, max_jobs=max_jobs)
    from overture.cli.outcomes import worker_summary

    click.echo(worker_summary(w.name, runs, w.outcomes, w.failed_jobs))


@click.command()
@click.option("--once", is_flag=True, help="Fire what is due now, print it, and exit.")
@handle_errors
def scheduler(once: bool) -> None:
    """Fire scheduled events (morning brief, pipeline scan, ...) once per slot."""
    s = state().app().scheduler()
    if once:
        report = s.tick()
        found = {"fired": report.fired, "missed": report.missed}
        emit_json(
            {
                k: [{"schedule": n, "target": t, "slot": at.isoformat()} for n, t, at in v]
                for k, v in found.items()
            }
        )
        return

    from overture.cli import loops

    stop = loops.once(s.stop)  # a second signal may interrupt the first's handler
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: stop())
    click.echo(f"scheduler {s.name}: {len(s.specs)} schedule(s)", err=True)
    s.run()


@click.group()
def jobs() -> None:
    """Inspect jobs."""


@jobs.command("list")
@click.option("--org", "org_id")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), help="Only jobs with this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@handle_errors
def jobs_list(org_id: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List jobs, newest first."""
    rows = _job_summaries(org_id, status, limit)
    if as_json:
        emit_json([{k: v for k, v in j.items() if k != "execution_metadata"} for j in rows])
        return
    if not rows:
        click.echo(
            "no jobs" + (f" with status {status}" if status else "") + (f" in org {org_id}" if org_id else "")
        )
    for j in rows:
        failures = (j["execution_metadata"] or {}).get(EFFECT_FAILURES)
        flag = f"  ({failures} effect(s) failed)" if failures else ""
        click.echo(
            f"{j['id']}  {j['status']:<17} {j['event_type']:<22} step {j['current_step']}  "
            f"depth {j['chain_depth']}{flag}"
        )


def _job_summaries(org_id: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Job summaries with their execution metadata, read by the database driver alone when
    that can be done (``storage.readonly``: it answers without importing SQLAlchemy)."""
    from overture.storage.readonly import list_job_summaries

    url = state().database_url_quickly()
    quick = None if url is None else list_job_summaries(url, org_id=org_id, status=status, limit=limit)
    if quick is not None:
        return quick
    from overture.engine.admin.views import job_summary
    from overture.storage.queries import jobs as jobq

    with state().store().read() as conn:
        found = jobq.list_jobs(conn, org_id=org_id, status=status, limit=limit)
    return [{**job_summary(j), "execution_metadata": j.execution_metadata} for j in found]


@jobs.command("show")
@click.argument("job_id")
@click.option("--org", "org_id", help="Only if the job belongs to this org.")
@json_option
@handle_errors
def jobs_show(job_id: str, org_id: str | None, as_json: bool) -> None:
    """Show a job: status, steps with outputs, execution metadata and chain."""
    from overture.engine.admin.views import job_detail
    from overture.storage.queries import jobs as jobq

    with state().store().read() as conn:
        job = jobq.get_job(conn, job_id, org_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        detail = job_detail(conn, job)
    if as_json:
        emit_json(detail)
        return
    click.echo(render_job(detail))


def render_job(d: dict[str, Any]) -> str:
    """A job as a person reads it."""
    lines = [
        f"job {d['id']}  {d['event_type']} ({d['event_source']})",
        f"  status: {d['status']}" + (f" - {d['status_reason']}" if d.get("status_reason") else ""),
        f"  current step: {d['current_step']}   chain depth: {d['chain_depth']}"
        f"   continuations: {d['continuations']}",
        "  steps:",
    ]
    for s in d["steps"]:
        out = s["error"] if s["error"] else _short(s["output"])
        lines.append(f"    {s['index']}. {s['name']:<22} {s['status']:<17} attempt {s['attempt']}  {out}")
    meta = d.get("execution_metadata") or {}
    if meta.get(EFFECT_FAILURES):
        lines.insert(
            2,
            f"  effects: {meta[EFFECT_FAILURES]} failed or in doubt - see `overture effects list {d['id']}`",
        )
    if meta:
        keys = (
            "steps_attempted",
            "steps_completed",
            "steps_failed",
            "approval_gates_hit",
            "followups_queued",
            "total_duration_ms",
            "total_ai_cost",
            "chain_depth",
        )
        lines.append("  execution metadata: " + ", ".join(f"{k}={meta.get(k)}" for k in keys))
    lines.append("  chain:")
    for a in d["chain"]["ancestors"]:
        lines.append(f"    ^ {a['id']} {a['event_type']} [{a['status']}]")
    lines.extend(_tree(d["chain"]["job"], "    "))
    return "\n".join(lines)


@jobs.command("retry")
@click.argument("job_id")
@click.option(
    "--by", "by", default="operator", show_default=True, help="Who asks (recorded in the audit log)."
)
@click.option("--from-step", help="Re-run from this earlier step (by name) instead of where it stopped.")
@json_option
@handle_errors
def jobs_retry(job_id: str, by: str, from_step: str | None, as_json: bool) -> None:
    """Queue a failed or halted job again at the step it stopped on (a quarantined one, once
    fixed), keeping the steps before it; effects already carried out are not repeated. An
    expired job's approval is asked again."""
    from overture.engine.admin.views import job_summary
    from overture.engine.run.retries import retry

    app = state().app()
    job = retry(app.store, app.clock, app.registry, job_id, by, "cli", from_step)
    if as_json:
        emit_json(job_summary(job))
    else:
        click.echo(f"job {job.id} queued again at step {job.current_step}: {job.status_reason}")


@jobs.command("retry-effects")
@click.argument("job_id")
@click.option(
    "--by", "by", default="operator", show_default=True, help="Who asks (recorded in the audit log)."
)
@json_option
@handle_errors
def jobs_retry_effects(job_id: str, by: str, as_json: bool) -> None:
    """Queue again every effect of a job that failed for good or is in doubt."""
    _show_effects(state().app().effects.retry(job_id=job_id, by=by, via="cli"), as_json)


@click.group()
def effects() -> None:
    """Side effects jobs queued (emails, files, messages): list them, retry failed ones."""


@effects.command("list")
@click.argument("job_id")
@json_option
@handle_errors
def effects_list(job_id: str, as_json: bool) -> None:
    """A job's effects with their status, attempts and last error."""
    from overture.engine.run.effects import effect_view
    from overture.storage.queries import jobs as jobq

    with state().store().read() as conn:
        if jobq.get_job(conn, job_id) is None:
            raise NotFound(f"no job {job_id!r}")
        rows = jobq.outbox_of(conn, job_id)
    if not rows and not as_json:
        click.echo(f"job {job_id} queued no effects")
        return
    _show_effects([effect_view(r) for r in rows], as_json)


@effects.command("retry")
@click.argument("effect_id", type=click.IntRange(1, 2**31 - 1))
@click.option(
    "--by", "by", default="operator", show_default=True, help="Who asks (recorded in the audit log)."
)
@json_option
@handle_errors
def effects_retry(effect_id: int, by: str, as_json: bool) -> None:
    """Queue again an effect that failed for good or is in doubt."""
    _show_effects(state().app().effects.retry(effect_id=effect_id, by=by, via="cli"), as_json)


def _show_effects(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        error = f"  {_short(r['last_error'], 60)}" if r["last_error"] else ""
        click.echo(
            f"{r['id']:>6}  {r['status']:<9} attempts {r['attempts']}  {r['kind']:<16} "
            f"{r['idempotency_key']}{error}"
        )


def _tree(node: dict[str, Any], indent: str) -> list[str]:
    out = [f"{indent}- {node['id']} {node['event_type']} [{node['status']}] depth {node['chain_depth']}"]
    for child in node["children"]:
        out.extend(_tree(child, indent + "  "))
    return out


def _short(value: Any, width: int = 70) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group()
def approvals() -> None:
    """Pending actions waiting for a human."""


@approvals.command("list")
@click.option("--org", "org_id")
@click.option("--user", "user_id")
@click.option(
    "--status",
    default="pending",
    show_default=True,
    type=click.Choice([*(s.value for s in ActionStatus), "all"]),
)
@json_option
@handle_errors
def approvals_list(org_id: str | None, user_id: str | None, status: str, as_json: bool) -> None:
    """List pending actions."""
    from overture.engine.admin.views import action_view
    from overture.storage.queries import approvals as actionq

    with state().store().read() as conn:
        rows = actionq.list_actions(
            conn,
            org_id=org_id,
            user_id=user_id,
            status=None if status == "all" else status,
            limit=1000,
        )
    if as_json:
        emit_json([action_view(a) for a in rows])
        return
    if not rows:
        click.echo(f"no {'' if status == 'all' else status + ' '}approvals")
    for a in rows:
        click.echo(f"{a.id}  {a.status.value:<9} {a.pattern:<8} {a.user_id:<12} {a.title}")


@approvals.command("decide")
@click.argument("action_id")
@click.argument("decision", type=click.Choice([d.value for d in Decision]))
@click.option(
    "--modifications",
    help="For edit: the changed draft fields as a JSON object (edit then approves and sends).",
)
@click.option("--by", "by", help="Deciding user, recorded in the audit log (default: the action's owner).")
@json_option
@handle_errors
def approvals_decide(
    action_id: str, decision: str, modifications: str | None, by: str | None, as_json: bool
) -> None:
    """Approve, edit, skip or cancel a pending action.

    approve sends the draft as it is; edit applies --modifications and then approves and sends
    it; skip goes on without this step; cancel ends the job. --by names who decided (the
    action's owner or an org admin)."""
    from overture.storage.queries import approvals as actionq

    app = state().app()
    mods = parse_json_option(modifications, "--modifications")
    if decision != "edit" and mods is not None:
        raise ValidationFailed("--modifications: only used with edit")
    if by is None:
        with app.store.read() as conn:
            action = actionq.get_action(conn, action_id)
        if action is None:
            raise NotFound(f"no pending action {action_id!r}")
        by = action.user_id
    result = app.approvals.decide(action_id, Decision(decision), by, "cli", mods)
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(result.message)


def _attach_operations() -> None:
    """``jobs cancel``, ``cancel-all`` and ``retry-all`` live in ``ops.py`` with the other
    operations done by hand; they belong to this group wherever it is loaded from."""
    from overture.cli.ops import JOBS_COMMANDS

    for command in JOBS_COMMANDS:
        jobs.add_command(command)


_attach_operations()


def register(cli: click.Group) -> None:
    for cmd in (emit, worker, scheduler, jobs, effects, approvals):
        cli.add_command(cmd)
