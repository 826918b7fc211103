"""Work handed from the event loop to threads, for the routes senders call at a high rate.

``asyncio``'s own executor hand-off is a good deal cheaper per call than the framework's
thread pool (capacity limiter, cancel scopes, run variables), which counts when a request's
own work is a few hundred microseconds. The context is copied, so the request's trace span is
the parent of what the thread does. Enough threads that concurrent events share the ingest
group commit.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from starlette.requests import Request

P = ParamSpec("P")
T = TypeVar("T")

THREADS = 32


def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(THREADS, thread_name_prefix="overture-http")


async def offload(request: Request, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in the service's threads; its result, or its exception."""
    pool: ThreadPoolExecutor = request.app.state.offload
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool, call)
