"""Calling a step's handler: sync or async, with an optional timeout."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from datetime import timedelta
from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import StepFn
from overture.errors import StepTimeout


class Invoker:
    """Runs handlers; async ones on a private event loop, timed ones on a thread pool."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def call(self, fn: StepFn, ctx: StepContext, inputs: dict[str, Any], timeout: timedelta | None) -> Any:
        seconds = timeout.total_seconds() if timeout else None
        if inspect.iscoroutinefunction(fn):
            return self._run_async(fn(ctx, inputs), seconds)
        if seconds is None:
            result = fn(ctx, inputs)
        else:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=4, thread_name_prefix="overture-step"
                )
            future = self._pool.submit(fn, ctx, inputs)
            try:
                result = future.result(timeout=seconds)
            except concurrent.futures.TimeoutError:
                future.cancel()
                raise StepTimeout(f"step ran past its timeout of {seconds:g}s") from None
        if inspect.isawaitable(result):
            return self._run_async(result, seconds)
        return result

    def _run_async(self, awaitable: Any, seconds: float | None) -> Any:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        try:
            return self._loop.run_until_complete(asyncio.wait_for(awaitable, seconds))
        except TimeoutError:
            raise StepTimeout(f"step ran past its timeout of {seconds:g}s") from None

    def close(self) -> None:
        """Shut the pool and loop down; the next call makes new ones."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
        self._loop = None
