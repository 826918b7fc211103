"""``overture serve --http-workers N``: N processes answering on one listening socket.

The supervisor binds the socket and starts N ``overture serve`` processes that inherit it
(each a whole service: the API, its own ingest group commit, and a worker woken in process by
the events it takes in), and runs the process-wide loops itself (the scheduler and the webhook
resume round). A process that dies is started again after a jittered backoff; SIGTERM or
SIGINT is passed on to every process, which drains its requests and hands back its jobs.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

import click

from overture.app import App
from overture.cli.loops import RESUME_EVERY_S, STOP_SIGNALS, Background, Every, once, restart_delay
from overture.http.webhooks.intake import Intake

log = logging.getLogger("overture.serve")


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket every HTTP worker process accepts on, inheritable by them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class _Child:
    slot: int
    proc: subprocess.Popen[bytes]
    started: float
    restarts: int = 0


@dataclass
class Supervisor:
    """Starts ``count`` processes running ``argv`` (with ``fd`` passed on) and keeps them up."""

    argv: Sequence[str]
    env: dict[str, str]
    fd: int
    count: int
    grace_s: float
    stopping: threading.Event = field(default_factory=threading.Event)
    children: list[_Child] = field(default_factory=list)

    def _spawn(self, slot: int, restarts: int = 0) -> _Child:
        # A group of its own: Ctrl-C reaches the supervisor alone, which passes on one SIGTERM.
        proc = subprocess.Popen(list(self.argv), env=self.env, pass_fds=(self.fd,), process_group=0)
        log.info("HTTP worker %d started (pid %d)", slot, proc.pid)
        return _Child(slot, proc, time.monotonic(), restarts)

    def start(self) -> None:
        self.children = [self._spawn(slot) for slot in range(self.count)]

    def watch(self) -> None:
        """Until ``stopping``: start again any process that ended (a crash, or a kill)."""
        pending: dict[int, float] = {}
        while not self.stopping.wait(0.2):
            for i, child in enumerate(self.children):
                if child.slot in pending:
                    if time.monotonic() >= pending[child.slot]:
                        del pending[child.slot]
                        self.children[i] = self._spawn(child.slot, child.restarts)
                    continue
                code = child.proc.poll()
                if code is None:
                    continue
                # A process that ran a while had a real life: its backoff starts over.
                restarts = 1 if time.monotonic() - child.started > 60 else child.restarts + 1
                child.restarts = restarts
                delay = restart_delay(restarts)
                log.error(
                    "HTTP worker %d (pid %d) ended with code %s; starting it again in %.1fs",
                    child.slot,
                    child.proc.pid,
                    code,
                    delay,
                )
                pending[child.slot] = time.monotonic() + delay

    def stop(self) -> bool:
        """SIGTERM to every process, then wait for them; True when all ended within the grace."""
        self.stopping.set()
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        clean = True
        for child in self.children:
            try:
                child.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                clean = False
                child.proc.kill()
                child.proc.wait()
        return clean

    def pids(self) -> list[int]:
        return [c.proc.pid for c in self.children if c.proc.poll() is None]


def child_argv(
    fd: int,
    *,
    host: str,
    port: int,
    with_worker: bool,
    max_body_bytes: int,
    log_level: str,
    reload: bool,
    verbose: bool,
) -> list[str]:
    """The command line of one HTTP worker process: ``serve`` on the inherited socket, without
    the loops the supervisor runs once for all of them."""
    argv = [sys.executable, "-m", "overture.cli"]
    if verbose:
        argv.append("-v")
    argv += ["serve", "--fd", str(fd), "--host", host, "--port", str(port)]
    argv += ["--max-body-bytes", str(max_body_bytes), "--log-level", log_level]
    if not with_worker:
        argv.append("--no-worker")
    if reload:
        argv.append("--reload")
    return argv


def child_env(database_url: str) -> dict[str, str]:
    """The supervisor's environment, with the database it was given (``--db`` included)."""
    return {**os.environ, "OVERTURE_DATABASE_URL": database_url}


def run_supervised(
    app: App,
    host: str,
    port: int,
    count: int,
    *,
    with_worker: bool,
    with_scheduler: bool,
    max_body_bytes: int,
    log_level: str,
    reload: bool,
) -> None:
    """``count`` HTTP worker processes on one port (see ``prefork``); the scheduler and the
    webhook resume round run here, once for all of them."""
    sock = listening_socket(host, port)
    verbose = logging.getLogger().isEnabledFor(logging.INFO)
    argv = child_argv(
        sock.fileno(),
        host=host,
        port=port,
        with_worker=with_worker,
        max_body_bytes=max_body_bytes,
        log_level=log_level,
        reload=reload,
        verbose=verbose,
    )
    supervisor = Supervisor(
        argv, child_env(app.settings.database_url), sock.fileno(), count, app.settings.time_budget_s + 30
    )
    intake = Intake(app)
    scheduler = Background.for_scheduler(app.scheduler) if with_scheduler else None
    loops = [
        loop
        for loop in (scheduler, Every("webhook resume", RESUME_EVERY_S, intake.work.resume).background())
        if loop is not None
    ]

    stop = once(supervisor.stopping.set)  # a second signal may interrupt the first's handler

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        supervisor.start()
        for loop in loops:
            loop.start()
        each = ", each with a worker" if with_worker else " (the API only)"
        also = " and the scheduler here" if scheduler is not None else ""
        click.echo(
            f"overture: serving http://{host}:{port} with {count} HTTP processes{each}{also}", err=True
        )
        supervisor.watch()
    finally:
        for loop in loops:
            loop.stop()
        if not supervisor.stop():
            click.echo(
                "overture: an HTTP process was still busy and was killed; its job will resume", err=True
            )
        if scheduler is not None:
            scheduler.join(5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    click.echo("overture: stopped", err=True)


def leave_with_supervisor() -> None:
    """Stop (as on SIGTERM) if the supervisor goes away without saying so (it was killed)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def say(line: str) -> None:
    click.echo(line, err=True)
