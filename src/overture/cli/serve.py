"""``overture serve`` (the HTTP API with a worker in one process, or in several with
``--http-workers``) and ``overture tokens``."""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import click
import uvicorn

from overture.app import App
from overture.cli.common import emit_json, handle_errors, json_option, state
from overture.cli.heap import settle
from overture.cli.loops import RESUME_EVERY_S, STOP_SIGNALS, Background, Every, once
from overture.engine.admin.tokens import Tokens
from overture.http import create_app
from overture.http.factory import DEFAULT_MAX_BODY_BYTES
from overture.http.webhooks.intake import Intake
from overture.storage.queries.tokens import TokenRow

if TYPE_CHECKING:
    from overture.cli.reload import PackReloader, Reloaded

log = logging.getLogger("overture.serve")


class _Server(uvicorn.Server):
    """uvicorn's server, telling us as soon as a stop signal arrives (before it drains requests)."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_stop()
        super().handle_exit(sig, frame)


def run_service(
    app: App,
    host: str,
    port: int,
    *,
    with_worker: bool = True,
    with_scheduler: bool = True,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    log_level: str = "info",
    reload: bool = False,
    sock: socket.socket | None = None,
    with_resume: bool = True,
) -> None:
    """Serve the API (and run a worker) until SIGTERM or SIGINT, then stop cleanly. With
    ``sock``, on that listening socket (an HTTP worker process of ``serve --http-workers``,
    whose supervisor runs the scheduler and the resume round: ``with_resume`` False).

    The worker stops claiming at the first signal while uvicorn drains open requests. A job
    still running when the grace time (the time budget) is over keeps its recorded steps and
    its lease runs out, so another worker resumes it: nothing is lost.
    """
    api = create_app(app, max_body_bytes=max_body_bytes)
    # Made now (not on the first webhook) so the resume loop and the routes share one Intake,
    # and with it the per-account locks that keep two syncs of one mailbox apart.
    intake = api.state.webhook_intake = Intake(app)
    worker = Background.for_worker(app.worker) if with_worker else None
    scheduler = Background.for_scheduler(app.scheduler) if with_scheduler else None
    resumer = (
        Every("webhook resume", RESUME_EVERY_S, intake.work.resume).background() if with_resume else None
    )
    loops = [loop for loop in (worker, scheduler, resumer) if loop is not None]
    # /readyz answers 503 while the worker is down or cannot reach the database.
    api.state.readiness = [worker.problem] if worker is not None else []

    @once  # called by signal handlers, which a second signal may interrupt
    def stop_worker() -> None:
        app.signals.close()  # requests waiting for a job answer now
        for loop in loops:
            loop.stop()

    config = uvicorn.Config(
        api,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,  # uvicorn's lines go through the process's handler (observability.logs)
        lifespan="off",
        timeout_graceful_shutdown=30,
    )
    server = _Server(config, stop_worker)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop_worker()
        # A signal before uvicorn put in its own handlers (a process told to stop while it was
        # still starting): uvicorn then starts, sees this and shuts down instead of serving on.
        server.should_exit = True

    # uvicorn puts back the handlers it found and re-raises the signal it caught once it has
    # shut down: ours make that re-raise a no-op instead of the default "terminate now".
    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    reloader = _reloader(app) if reload else None
    try:
        for loop in loops:
            loop.start()
        if reloader is not None:
            reloader.start()
        parts = [name for name, loop in (("a worker", worker), ("the scheduler", scheduler)) if loop]
        if sock is None:
            click.echo(
                f"overture: serving http://{host}:{port} with {' and '.join(parts) or 'the API only'}",
                err=True,
            )
        settle()  # the started process's heap, out of the collector's way
        server.run(sockets=[sock] if sock is not None else None)
    finally:
        stop_worker()
        if reloader is not None:
            reloader.stop()
        if scheduler is not None:
            scheduler.join(5)
        if worker is not None and not worker.join(app.settings.time_budget_s):
            click.echo("overture: the worker is still busy; its job will resume from its last step", err=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("overture: stopped", err=True)


def _reloader(app: App) -> PackReloader:
    from overture.cli.reload import PackReloader

    def say(result: Reloaded) -> None:
        if result.ok:
            click.echo(f"overture: packs reloaded ({len(result.changed)} file(s) changed)", err=True)
        else:
            for problem in result.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo(f"overture: {len(result.problems)} problem(s); the running packs stay", err=True)

    reloader = PackReloader(app, say)
    shown = ", ".join(str(f) for f in reloader.folders) or "none (built-in packs are not reloaded)"
    click.echo(f"overture: reloading packs when their files change: {shown}", err=True)
    return reloader


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--no-worker", is_flag=True, help="Run no worker here; run `overture worker` elsewhere.")
@click.option(
    "--no-scheduler", is_flag=True, help="Run no scheduler here; run `overture scheduler` elsewhere."
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    help="Refuse larger request bodies with 413.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.option(
    "--demo",
    is_flag=True,
    help="Seed the sales demo org on first run, start its story, print a sign-in token and where to look.",
)
@click.option("--reload", is_flag=True, help="Load pack folders again when their files change (development).")
@click.option(
    "--http-workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes answering HTTP on the one port, each with its own worker (unless --no-worker).",
)
@click.option("--fd", type=int, hidden=True, help="Serve on this inherited socket (an HTTP worker process).")
@handle_errors
def serve(
    host: str,
    port: int,
    no_worker: bool,
    no_scheduler: bool,
    max_body_bytes: int,
    log_level: str,
    demo: bool,
    reload: bool,
    http_workers: int,
    fd: int | None,
) -> None:
    """Serve the HTTP API with a worker and the scheduler until SIGTERM or Ctrl-C."""
    if demo:
        prepare_demo(state().app(create=True), host, port)
    if fd is not None:  # one of the processes of `serve --http-workers N`
        from overture.cli.prefork import leave_with_supervisor

        leave_with_supervisor()
        run_service(
            state().app(),
            host,
            port,
            with_worker=not no_worker,
            with_scheduler=False,
            max_body_bytes=max_body_bytes,
            log_level=log_level,
            reload=reload,
            sock=socket.socket(fileno=fd),
            with_resume=False,
        )
        return
    if http_workers > 1:
        from overture.cli.prefork import run_supervised

        run_supervised(
            state().app(),
            host,
            port,
            http_workers,
            with_worker=not no_worker,
            with_scheduler=not no_scheduler,
            max_body_bytes=max_body_bytes,
            log_level=log_level,
            reload=reload,
        )
        return
    run_service(
        state().app(),
        host,
        port,
        with_worker=not no_worker,
        with_scheduler=not no_scheduler,
        max_body_bytes=max_body_bytes,
        log_level=log_level,
        reload=reload,
    )


def _token_json(row: TokenRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "org_id": row.org_id,
        "user_id": row.user_id,
        "name": row.name,
        "is_admin": row.is_admin,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


def _tokens() -> Tokens:
    app = state().app()
    return app.tokens


@click.group()
def tokens() -> None:
    """API tokens: stored hashed, scoped to an org (optionally one user), or admin."""


@tokens.command("create")
@click.option("--org", "org_id", help="The org the token sees (required unless --admin).")
@click.option("--user", "user_id", help="Tie the token to one user: it emits and decides as them.")
@click.option("--admin", is_flag=True, help="An admin token: every org, and org management.")
@click.option("--name", help="A label to recognise the token by.")
@json_option
@handle_errors
def tokens_create(
    org_id: str | None, user_id: str | None, admin: bool, name: str | None, as_json: bool
) -> None:
    """Make a token and print it once: only its hash is kept."""
    issued = _tokens().create(org_id, user_id, admin=admin, name=name)
    if as_json:
        emit_json({**_token_json(issued.token), "token": issued.secret})
        return
    row = issued.token
    scope = (
        "admin (every org)"
        if row.is_admin
        else f"org {row.org_id}" + (f", user {row.user_id}" if row.user_id else "")
    )
    click.echo(f"token {row.id} ({row.name}) for {scope}:")
    click.echo(issued.secret)
    click.echo("Store it now: it is not shown again.", err=True)


@tokens.command("revoke")
@click.argument("token_id")
@json_option
@handle_errors
def tokens_revoke(token_id: str, as_json: bool) -> None:
    """Revoke a token: requests bearing it get 401 from now on."""
    row = _tokens().revoke(token_id)
    if as_json:
        emit_json(_token_json(row))
    else:
        assert row.revoked_at is not None
        click.echo(f"token {row.id} revoked at {row.revoked_at.isoformat()}")


@tokens.command("list")
@click.option("--org", "org_id", help="Only this org's tokens.")
@json_option
@handle_errors
def tokens_list(org_id: str | None, as_json: bool) -> None:
    """List tokens (never the tokens themselves: they are not stored)."""
    rows = _tokens().list(org_id)
    if as_json:
        emit_json([_token_json(r) for r in rows])
        return
    for r in rows:
        scope = "admin" if r.is_admin else f"{r.org_id}" + (f"/{r.user_id}" if r.user_id else "")
        status = f"revoked {r.revoked_at.isoformat()}" if r.revoked_at else "active"
        click.echo(f"{r.id}  {scope:<24} {r.name:<24} {status}")


def register(cli: click.Group) -> None:
    for cmd in (serve, tokens):
        cli.add_command(cmd)


DEMO_ORG = "northwind"


def prepare_demo(app: App, host: str, port: int) -> None:
    """Seed the demo org once, end its discovery call so approvals are waiting, and say where to look."""
    from overture.http.console.urls import link_url
    from overture.packs.sales.seed import generate as sales_seed
    from overture.storage.queries import tenancy

    with app.store.read() as conn:
        seeded = tenancy.get_org(conn, DEMO_ORG) is not None
    if not seeded:
        summary = sales_seed.load(app.store, app.admin, DEMO_ORG, 1, None)
        # So the story runs whatever the day and hour: Maya takes demo messages at any time.
        app.admin.set_active_hours(DEMO_ORG, f"{DEMO_ORG}.maya", None)
        story_meeting = summary.meetings.get("story")
        if story_meeting:
            app.emit(
                {
                    "type": "meeting_ended",
                    "source": "webhook:meetingbaas",
                    "org_id": DEMO_ORG,
                    "user_id": f"{DEMO_ORG}.maya",
                    "payload": {"meeting_id": story_meeting},
                }
            )
    rep = app.tokens.create(DEMO_ORG, f"{DEMO_ORG}.maya", name="demo console")
    base = f"http://{host}:{port}"
    link = app.sessions.issue_link(f"{DEMO_ORG}.maya", DEMO_ORG, via="cli", by="demo")
    lines = [
        "",
        "Overture demo: the Northwind Analytics sales team, with Maya Chen's discovery call just ended.",
        f"  Web inbox and console:  {link_url(base, link.code)}",
        "                          (signs Maya in once; or sign in at /signin with her token)",
        f"  Maya's token (shown once): {rep.secret}",
        f"  API reference:          {base}/docs   (OpenAPI at {base}/openapi.json)",
        f"  Health and metrics:     {base}/healthz  {base}/metrics",
        "  From another terminal:  scripts/overture jobs list   |   scripts/overture approvals list",
        "  Send an event:          curl -H 'Authorization: Bearer <token>' \\",
        "                            -H 'Content-Type: application/json' \\",
        f'                            -d \'{{"type":"morning_brief","org_id":"{DEMO_ORG}",'
        f'"user_id":"{DEMO_ORG}.maya"}}\' {base}/v1/events',
        "",
    ]
    click.echo("\n".join(lines), err=True)
