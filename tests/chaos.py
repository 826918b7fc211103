"""Tools of the fault tests: a counting SMTP receiver, a fleet of real worker processes to
kill -9, a loopback TCP proxy in front of PostgreSQL that can be cut (an outage only this test
sees), and the local cluster's restart and stop (an outage every test on the machine sees)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

CHAOS = str(Path(__file__).parent / "packs" / "chaos")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


class _Counting:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.ids[str(message["Message-ID"])] += 1
        return "250 OK"


class CountingSmtp:
    """aiosmtpd on loopback counting every message it accepts by Message-ID."""

    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Counting()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> CountingSmtp:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def ids(self) -> Counter[str]:
        with self._handler.lock:
            return Counter(self._handler.ids)

    def duplicates(self) -> dict[str, int]:
        return {k: v for k, v in self.ids.items() if v > 1}


def worker_env(db_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    """A worker process's environment: the chaos pack, a short lease, quick polling."""
    return {
        **os.environ,
        "OVERTURE_DATABASE_URL": db_url,
        "OVERTURE_PACKS": json.dumps([CHAOS]),
        "OVERTURE_TIME_BUDGET_S": "3",
        "OVERTURE_TIME_BUFFER_S": "0",
        "OVERTURE_POLL_INTERVAL_S": "0.2",
        "OVERTURE_OUTBOX_DIR": str(tmp / "outbox"),
        "OVERTURE_SMTP_STARTTLS": "false",
        **extra,
    }


class Fleet:
    """Worker processes (``overture worker``); killed with -9 and replaced on demand."""

    def __init__(self, env: dict[str, str], logs: Path, args: tuple[str, ...] = ()) -> None:
        self.env, self.logs, self.args = env, logs, args
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []
        self.kills = 0
        self._n = 0

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            self._n += 1
            log = open(self.logs / f"worker-{self._n}.log", "wb")  # noqa: SIM115 (closed by stop)
            self._logs.append(log)
            cmd = [sys.executable, "-m", "overture.cli", "worker", *self.args]
            self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def kill_one(self, rng: random.Random) -> None:
        """kill -9 a random live worker and start another in its place."""
        live = self.alive()
        if live:
            rng.choice(live).send_signal(signal.SIGKILL)
            self.kills += 1
        self.start()

    def keep(self, count: int) -> None:
        """Replace workers that died (a poison job kills them) so ``count`` are running."""
        missing = count - len(self.alive())
        if missing > 0:
            self.start(missing)

    def stop(self, timeout: float = 30) -> list[int | None]:
        """SIGTERM the live workers; their exit codes (None: still running after ``timeout``)."""
        live = self.alive()
        for p in live:
            p.send_signal(signal.SIGTERM)
        codes = []
        for p in live:
            try:
                codes.append(p.wait(timeout))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                codes.append(None)
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in self._logs:
            log.close()
        return codes

    def output(self) -> str:
        return "\n".join(f.read_text(errors="replace") for f in sorted(self.logs.glob("worker-*.log")))


class TcpProxy:
    """127.0.0.1:port -> target, cut on demand: connections drop and new ones are refused
    (the database gone, as far as the processes behind the proxy can tell)."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:  # the accept woken by ``cut`` may not have let go of the port yet
            try:
                server.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    server.close()
                    raise
                time.sleep(0.01)
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            conns, self._conns = self._conns, []
        if server is not None:
            server.close()
            # An accept blocked on the listener keeps the port open (a new connection would
            # wait in its backlog, and the port could not be bound again) until it is woken.
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._server is not server:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def pg_cluster(action: str) -> None:
    """restart, stop or start the local PostgreSQL cluster (every test on the machine sees it)."""
    versions = sorted(os.listdir("/etc/postgresql"))
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", action]
    if action in ("restart", "stop"):
        cmd += ["--", "-m", "fast"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def pg_up(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False
