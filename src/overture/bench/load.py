"""A small HTTP/1.1 load generator on asyncio: keep-alive connections, requests written as
prepared bytes, answers read by Content-Length. Kept this lean so that on a small machine the
generator takes as little CPU as it can from the server it measures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


class Connection:
    """One keep-alive connection to ``host:port``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    def request_bytes(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Write a prepared request; the status and body of the answer."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Sample:
    """What a run of requests came to: latencies in seconds, answers by status, wall time."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: list[Any] = field(default_factory=list)
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        lat = self.latencies
        return {
            "requests": len(lat),
            "wall_s": self.wall_s,
            "requests_per_s": len(lat) / self.wall_s if self.wall_s else 0.0,
            "p50_ms": percentile(lat, 50) * 1e3,
            "p99_ms": percentile(lat, 99) * 1e3,
            "mean_ms": statistics.fmean(lat) * 1e3 if lat else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


async def closed_loop(
    host: str, port: int, requests: Iterable[Callable[[Connection], bytes]], connections: int
) -> Sample:
    """Each of ``connections`` connections sends the next request as soon as its previous one is
    answered, until ``requests`` is exhausted."""
    todo = iter(requests)
    sample = Sample()
    conns = [await Connection.open(host, port) for _ in range(connections)]

    async def drive(conn: Connection) -> None:
        for make in todo:
            raw = make(conn)
            t = time.perf_counter()
            status, _ = await conn.send(raw)
            sample.latencies.append(time.perf_counter() - t)
            sample.statuses[status] += 1

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(drive(c) for c in conns))
    finally:
        sample.wall_s = time.perf_counter() - t0
        for c in conns:
            await c.close()
    return sample


async def open_loop(
    host: str, port: int, requests: list[Callable[[Connection], bytes]], rate: float
) -> list[tuple[float, int, Any]]:
    """Send the requests at ``rate`` per second whatever the answers' pace (as webhooks come),
    each on an idle connection (a new one when none is idle). For each: the wall-clock time it
    was sent (``time.time()``), its status and its JSON answer."""
    idle: list[Connection] = []
    opened: list[Connection] = []
    results: list[tuple[float, int, Any]] = [(0.0, 0, None)] * len(requests)

    async def one(i: int, make: Callable[[Connection], bytes]) -> None:
        conn = idle.pop() if idle else None
        if conn is None:
            conn = await Connection.open(host, port)
            opened.append(conn)
        raw = make(conn)
        sent = time.time()
        status, body = await conn.send(raw)
        results[i] = (sent, status, json.loads(body) if body else None)
        idle.append(conn)

    start = time.perf_counter()
    tasks: list[Awaitable[None]] = []
    for i, make in enumerate(requests):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i, make)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for c in opened:
            await c.close()
    return results
