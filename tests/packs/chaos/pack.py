"""A pack for fault tests: jobs that send real email (SMTP to a counting receiver), effects that
are slow and count their runs, and a step that kills the process running it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from overture.core.step_context import EffectRequest, StepContext
from overture.engine.registry import Registry
from overture.packs.sales.config import SalesConfig
from overture.packs.sales.skills.mailer import make_sender
from overture.settings import Settings


def _append(path: str | None, line: str) -> None:
    """One line per run, appended atomically, so tests count runs across processes."""
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def register(registry: Registry, settings: Settings) -> None:
    @registry.skill("pause")
    def pause(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Sleep for inputs.seconds (a job in flight when a worker is killed)."""
        time.sleep(float(inputs.get("seconds", 0.0)))
        return {"slept": inputs.get("seconds", 0.0)}

    @registry.skill("mail")
    def mail(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Queue one email to the prospect (the sales pack's SMTP sender carries it out)."""
        payload = {
            "from": "rep@acme.test",
            "to": "prospect@example.test",
            "subject": f"Following up {inputs.get('n', '')}",
            "body": "Thanks for the call.",
        }
        return {"effect": ctx.effect("chaos.smtp", payload)}

    @registry.skill("slow-act")
    def slow_act(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Queue a slow effect that records each time it runs."""
        return {"effect": ctx.effect("chaos.slow", {"seconds": float(inputs.get("seconds", 0.5))})}

    @registry.skill("crash")
    def crash(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Kill the process running this step (kill -9), until the file CHAOS_FIXED exists."""
        _append(os.environ.get("CHAOS_CRASH_LOG"), ctx.job_id)
        fixed = os.environ.get("CHAOS_FIXED")
        if not (fixed and Path(fixed).exists()):
            os.kill(os.getpid(), signal.SIGKILL)
        return {"fixed": True}

    registry.effect("chaos.smtp")(make_sender(SalesConfig.from_settings(settings), settings.outbox_dir))

    @registry.effect("chaos.slow")
    def slow_effect(effect: EffectRequest) -> None:
        """Take a while, then count the run: a receiver that sees every repeat."""
        time.sleep(float(effect.payload.get("seconds", 0.5)))
        _append(os.environ.get("CHAOS_DELIVERY_LOG"), effect.idempotency_key)
