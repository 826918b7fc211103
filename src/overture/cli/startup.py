"""``overture bench --cli``: how long the CLI takes to answer, as a person at a terminal waits.

Each command runs in a fresh process (``overture --help``, and ``overture jobs list`` on a migrated
database with no jobs), several times; the median wall time and CPU time are reported. With
``--against OTHER`` (another install's ``overture``), both are run in turns in the same loop, so a
busy machine slows both alike and the ratio stays fair.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Timing:
    """One command of one executable: median wall and CPU seconds over the runs."""

    executable: str
    command: str
    wall_s: float
    cpu_s: float
    runs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "executable": self.executable,
            "command": self.command,
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "runs": self.runs,
        }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _once(argv: list[str]) -> tuple[float, float]:
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def measure(executables: list[str], runs: int, progress: Callable[[str], None] | None = None) -> list[Timing]:
    """Time ``--help`` and ``jobs list`` (empty database) for each executable, in turns."""
    with tempfile.TemporaryDirectory(prefix="overture-cli-bench-") as tmp:
        commands: dict[str, dict[str, list[str]]] = {}
        for i, exe in enumerate(executables):
            db = f"sqlite:///{Path(tmp) / f'empty{i}.db'}"
            subprocess.run([exe, "--db", db, "migrate"], check=True, capture_output=True)
            commands[exe] = {"--help": [exe, "--help"], "jobs list": [exe, "--db", db, "jobs", "list"]}
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for n in range(runs):
            for exe, by_name in commands.items():
                for name, argv in by_name.items():
                    samples.setdefault((exe, name), []).append(_once(argv))
            if progress is not None:
                progress(f"run {n + 1}/{runs}")
    return [
        Timing(
            exe,
            name,
            statistics.median(w for w, _ in found),
            statistics.median(c for _, c in found),
            len(found),
        )
        for (exe, name), found in samples.items()
    ]


def ratios(timings: list[Timing]) -> dict[str, float]:
    """For each command: the other executable's median wall time over the first one's."""
    first = timings[0].executable
    mine = {t.command: t.wall_s for t in timings if t.executable == first}
    return {
        f"{t.command} ({t.executable})": round(t.wall_s / mine[t.command], 1)
        for t in timings
        if t.executable != first and mine.get(t.command)
    }
