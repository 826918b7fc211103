"""Overture: an event-driven orchestrator for AI-agent workflows.

Events from webhooks, schedules and clicks become durable, resumable sequences of
skills, with approval gates, follow-up chains and safeguards against cost, noise,
duplicates and runaway loops.

``overture.Client`` and ``overture.AsyncClient`` (the HTTP API client) are loaded on first use,
so importing ``overture`` (as the CLI does first) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overture.client import AsyncClient, Client

__version__ = "0.1.0"
__all__ = ["AsyncClient", "Client", "__version__"]

_LAZY = frozenset({"Client", "AsyncClient"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import overture.client

        return getattr(overture.client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
