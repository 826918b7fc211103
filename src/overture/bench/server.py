"""A real ``overture serve`` in a subprocess on a free loopback port, for the HTTP workloads."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def serving(
    url: str, pack: Path, *, http_workers: int = 1, worker: bool = True, timeout_s: float = 60.0
) -> Iterator[tuple[str, int]]:
    """``overture serve`` on ``url`` with the bench pack; yields (host, port) once it is ready,
    and stops it with SIGTERM (as an operator would) on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "OVERTURE_DATABASE_URL": url,
        "OVERTURE_PACKS": json.dumps([str(pack)]),
    }
    argv = [sys.executable, "-m", "overture.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--log-level", "warning", "--no-scheduler", "--http-workers", str(http_workers)]
    if not worker:
        argv.append("--no-worker")
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            deadline = time.monotonic() + timeout_s
            while not _ready(f"http://127.0.0.1:{port}"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    errors.seek(0)
                    said = errors.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"overture serve did not start: {said}")
                time.sleep(0.05)
            yield "127.0.0.1", port
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
