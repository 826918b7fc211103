"""A pack for testing the engine's mechanics: steps that echo, fail, sleep, spend and act."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from overture.core.step_context import EffectRequest, StepContext
from overture.engine.registry import Registry
from overture.errors import RateLimited
from overture.settings import Settings


def _log_run(inputs: dict[str, Any], ctx: StepContext) -> None:
    """Append the step's run to a file, so tests can count real executions across processes."""
    path = os.environ.get("MECHANICS_RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(f"{ctx.job_id} {ctx.step_name}\n")


def register(registry: Registry, settings: Settings) -> None:
    @registry.skill("echo")
    def echo(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return the inputs."""
        _log_run(inputs, ctx)
        return {"echo": inputs, "attempt": ctx.attempt}

    @registry.skill("slow")
    def slow(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Sleep for inputs.seconds."""
        _log_run(inputs, ctx)
        time.sleep(float(inputs.get("seconds", 0.1)))
        return {"slept": inputs.get("seconds", 0.1)}

    @registry.skill("flaky")
    def flaky(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Fail the first inputs.fail_times attempts."""
        if ctx.attempt <= int(inputs.get("fail_times", 0)):
            raise RuntimeError(f"flaky failure on attempt {ctx.attempt}")
        return {"succeeded_on": ctx.attempt}

    @registry.skill("limited")
    def limited(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Say the external service rate-limited us, unless told otherwise."""
        if inputs.get("limited", True):
            raise RateLimited("429 Too Many Requests")
        return {"ok": True}

    @registry.skill("spend")
    def spend(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Record an AI cost of inputs.usd dollars."""
        _log_run(inputs, ctx)
        ctx.cost("fake-llm", "fake-1", 100, 50, float(inputs.get("usd", 0.01)))
        return {"spent": inputs.get("usd", 0.01)}

    @registry.skill("spend-then-fail")
    def spend_then_fail(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Pay for a model call whose answer is useless, then fail."""
        ctx.cost("fake-llm", "fake-1", 1000, 500, 0.02)
        ctx.effect("mechanics.file", {"label": "must never happen"})
        raise RuntimeError("the model's answer did not validate")

    @registry.skill("send-mail", gate="draft")
    def send_mail(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Send an email: policy says a person approves every one."""
        return {"effect": ctx.effect("mechanics.file", {"to": inputs.get("to")})}

    @registry.skill("act")
    def act(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Queue a side effect (a file written once per idempotency key)."""
        _log_run(inputs, ctx)
        key = ctx.effect("mechanics.file", {"label": inputs.get("label", ctx.step_name)})
        return {"effect": key}

    @registry.skill("chain")
    def chain(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Queue a follow-up of inputs.type."""
        ctx.followup(str(inputs["type"]), {"hop": int(inputs.get("hop", 0)) + 1})
        return {"queued": inputs["type"]}

    @registry.effect("mechanics.file")
    def write_file(effect: EffectRequest) -> None:
        """Create one file per idempotency key; O_EXCL makes a repeat a no-op."""
        folder = Path(os.environ.get("MECHANICS_EFFECT_DIR", str(settings.outbox_dir)))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / effect.idempotency_key.replace(":", "_").replace("#", "_")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(effect.payload).encode())
        os.close(fd)
