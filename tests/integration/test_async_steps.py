"""Async step handlers run on the worker's loop, with timeouts, and leave nothing open."""

from __future__ import annotations

import asyncio
from typing import Any

from overture.app import App
from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.sequences import load_sequence_text
from overture.settings import Settings
from overture.storage.queries import jobs as jobq


def registry() -> Registry:
    reg = Registry()

    @reg.skill("fetch")
    async def fetch(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Wait like a network call would."""
        await asyncio.sleep(float(inputs["seconds"]))
        return {"waited": inputs["seconds"]}

    text = (
        "event_type: fetching\nactive_hours: ignore\nsteps:\n"
        "  - name: quick\n    uses: skill:fetch\n    with: {seconds: 0.01}\n"
        "  - name: stuck\n    uses: skill:fetch\n    timeout: 100ms\n    on_failure: continue\n"
        "    with: {seconds: 5}\n"
    )
    reg.add_sequence(load_sequence_text(text, "fetching.yaml"))
    return reg


def test_async_handlers_run_and_time_out_cleanly(db_url: str) -> None:
    """An async step completes; one past its timeout fails under its policy; the worker closes its loop."""
    app = App(Settings(database_url=db_url, packs=[]), registry=registry())
    app.migrate()
    app.admin.add_org("acme", "Acme")
    app.admin.add_user("acme", "ana", "Ana", active_hours=None)
    result = app.emit({"type": "fetching", "org_id": "acme", "user_id": "ana"})
    app.run_until_idle()
    with app.store.read() as conn:
        steps = jobq.steps_of(conn, result.job_id or "")
        job = jobq.get_job(conn, result.job_id or "")
    assert [(s.step_name, s.status.value) for s in steps] == [("quick", "completed"), ("stuck", "failed")]
    assert steps[0].output == {"waited": 0.01} and "timeout" in (steps[1].error or "")
    assert job is not None and job.status.value == "completed"
    app.close()
