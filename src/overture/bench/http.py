"""The HTTP workloads, against a real ``overture serve`` subprocess on loopback:

- ingest: ``POST /v1/events`` from a fixed number of keep-alive connections, each sending its
  next event as soon as the previous one is answered (the API alone, ``--no-worker``: what a
  sender waits for; the one-step jobs are left queued and run untimed afterwards);
- first step: events sent at a fixed rate to the full service (API and workers), timed from the
  moment each request was sent to the moment its job's first step ran (the step says when).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from overture.bench.load import Connection, closed_loop, open_loop, percentile
from overture.bench.pack import chain
from overture.bench.server import serving
from overture.bench.setup import Tenant
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store


def _event(tenant: Tenant, i: int, tag: str, length: int = 5) -> Callable[[Connection], bytes]:
    body = json.dumps(
        {"type": chain(length), "org_id": tenant.org, "user_id": tenant.user, "payload": {"i": i, "run": tag}}
    ).encode()
    headers = {"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/json"}
    return lambda conn: conn.request_bytes("POST", "/v1/events", headers, body)


def _run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coro)


def ingest(
    url: str, pack: Path, tenant: Tenant, *, requests: int, connections: int, http_workers: int
) -> dict[str, Any]:
    """Throughput and latency of ``POST /v1/events`` at ``connections`` connections."""
    with serving(url, pack, http_workers=http_workers, worker=False) as (host, port):
        warm = [_event(tenant, i, "warm", 1) for i in range(min(requests, 4 * connections))]
        _run(closed_loop(host, port, warm, connections))
        todo = [_event(tenant, i, "ingest", 1) for i in range(requests)]
        sample = _run(closed_loop(host, port, todo, connections))
        probe = _run(closed_loop(host, port, [_healthz] * max(1, requests // 2), connections))
    found = sample.summary()
    floor = probe.summary()
    return {
        **found,
        "connections": connections,
        "http_workers": http_workers,
        # The same service answering its liveness probe (no database, no body): how far the
        # ingest is from what the HTTP stack alone does on this machine now.
        "healthz_requests_per_s": floor["requests_per_s"],
        "healthz_p99_ms": floor["p99_ms"],
        "ratio_to_healthz": round(found["requests_per_s"] / floor["requests_per_s"], 2),
    }


def _healthz(conn: Connection) -> bytes:
    return conn.request_bytes("GET", "/healthz", {})


def first_step(
    url: str, pack: Path, tenant: Tenant, *, events: int, rate: float, http_workers: int
) -> dict[str, Any]:
    """p50/p99 from an event sent to its first step started, at ``rate`` events a second."""
    with serving(url, pack, http_workers=http_workers, worker=True) as (host, port):
        _run(open_loop(host, port, [_event(tenant, i, "warm-first") for i in range(5)], rate))
        sent = _run(open_loop(host, port, [_event(tenant, i, "first") for i in range(events)], rate))
        refused = [status for _, status, _ in sent if status != 202]
        if refused:
            raise RuntimeError(f"the service refused {len(refused)} events (status {refused[0]})")
        started = _first_steps(url, [body["job_id"] for _, _, body in sent])
    delays = [started[body["job_id"]] - t for t, _, body in sent]
    return {
        "events": events,
        "rate_per_s": rate,
        "http_workers": http_workers,
        "p50_ms": percentile(delays, 50) * 1e3,
        "p99_ms": percentile(delays, 99) * 1e3,
        "max_ms": max(delays) * 1e3,
    }


def _first_steps(url: str, job_ids: list[str], timeout_s: float = 120.0) -> dict[str, float]:
    """When each job's first step ran (``time.time()`` the step returned), waiting for stragglers."""
    store = Store(url)
    found: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < len(job_ids):
            with store.read() as conn:
                for job_id in job_ids:
                    if job_id in found:
                        continue
                    steps = [s for s in jobq.steps_of(conn, job_id) if s.step_index == 0]
                    if steps:
                        found[job_id] = float(steps[0].output["t"])
            if len(found) < len(job_ids):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(job_ids) - len(found)} jobs never started their first step")
                time.sleep(0.2)
    finally:
        store.close()
    return found
