"""The bench's own pack: a no-op skill, chains of any length, and a 3-step sequence with an
approval at step 2. Written to a folder so that an ``overture serve`` subprocess loads the very
same pack as the in-process workloads (``OVERTURE_PACKS``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from overture.core.step_context import StepContext
from overture.engine.packs import load_packs
from overture.engine.registry import Registry
from overture.settings import Settings

#: The sequence with a human approval at its second step (W2).
APPROVAL = "bench_approval"


def chain(length: int) -> str:
    """The event type of the ``length``-step chain."""
    return f"bench_{length}"


def register(registry: Registry, settings: Settings) -> None:
    @registry.skill("bench-noop")
    def noop(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Do nothing but say when it ran (wall clock: the HTTP workloads compare it with the
        time the request was sent from another process on the same machine)."""
        return {"i": ctx.step_index, "t": time.time()}


def _chain_yaml(length: int) -> str:
    steps = "\n".join(f"  - name: s{i}\n    uses: skill:bench-noop" for i in range(length))
    return f"event_type: {chain(length)}\nactive_hours: ignore\nsteps:\n{steps}\n"


_APPROVAL_YAML = f"""event_type: {APPROVAL}
active_hours: ignore
steps:
  - name: draft
    uses: skill:bench-noop
  - name: send
    uses: skill:bench-noop
    approval:
      pattern: draft
      title: "Bench approval"
  - name: after
    uses: skill:bench-noop
"""


def write_pack(folder: Path, lengths: list[int]) -> Path:
    """The pack in ``folder``: chains of each length (and 5), and the approval sequence."""
    sequences = folder / "sequences"
    sequences.mkdir(parents=True, exist_ok=True)
    (folder / "pack.py").write_text('"""The bench pack."""\n\nfrom overture.bench.pack import register\n')
    for n in sorted({5, *lengths}):
        (sequences / f"{chain(n)}.yaml").write_text(_chain_yaml(n))
    (sequences / f"{APPROVAL}.yaml").write_text(_APPROVAL_YAML)
    return folder


def load(folder: Path) -> Registry:
    return load_packs([str(folder)], Settings(packs=[]))
