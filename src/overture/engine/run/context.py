"""Tiered context loading: tier 1 always (cached per org), tier 2 when the payload names a
contact, deal or meeting, tier 3 only when a step's ``requires_context`` names a source."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from overture.clock import Clock
from overture.core.records import Job
from overture.core.state import JobState
from overture.engine.registry import ProviderRequest, Registry
from overture.storage.queries import tenancy
from overture.storage.queries.budgets import budget_state
from overture.storage.store import Store

log = logging.getLogger("overture.context")

TIER2_KEYS = ("contact_id", "deal_id", "meeting_id")


class ContextLoader:
    """Loads what steps need, times each load, and never loads tier 3 speculatively."""

    def __init__(self, store: Store, registry: Registry, clock: Clock, ttl_s: float) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.ttl_s = ttl_s
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def base(self, job: Job, state: JobState) -> dict[str, Any]:
        """Tier 1, plus tier 2 when the trigger names a contact, deal or meeting."""
        context: dict[str, Any] = {"tier1": self._timed(state, "tier1", 1, lambda: self._tier1(job))}
        if any(job.trigger_payload.get(k) for k in TIER2_KEYS):
            tier2: dict[str, Any] = {}
            for name, provider in self.registry.tier2.items():
                request = ProviderRequest(
                    self.store, job.org_id, job.user_id, job.trigger_payload, context, self.clock.now()
                )
                tier2[name] = self._timed(state, name, 2, lambda p=provider, r=request: p(r))  # type: ignore[misc]
            context["tier2"] = tier2
        return context

    def tier3(self, names: tuple[str, ...], job: Job, context: dict[str, Any], state: JobState) -> list[str]:
        """Load the named on-demand sources; returns the names that were unavailable."""
        loaded = context.setdefault("tier3", {})
        missing = []
        for name in names:
            if name in loaded:
                continue
            provider = self.registry.tier3.get(name)
            request = ProviderRequest(
                self.store, job.org_id, job.user_id, job.trigger_payload, context, self.clock.now()
            )
            if provider is None:
                state.context_loads[name] = {
                    "tier": 3,
                    "ms": 0.0,
                    "ok": False,
                    "error": "no provider",
                }
                loaded[name] = None
                missing.append(name)
                continue
            value = self._timed(state, name, 3, lambda p=provider, r=request: p(r))  # type: ignore[misc]
            loaded[name] = value
            if not state.context_loads[name]["ok"]:
                missing.append(name)
        return missing

    def _tier1(self, job: Job) -> dict[str, Any]:
        key = (job.org_id, job.user_id)
        mono = self.clock.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and mono - hit[0] < self.ttl_s:
                return hit[1]
        now = self.clock.now()
        with self.store.read() as conn:
            org = tenancy.get_org(conn, job.org_id)
            user = tenancy.get_user(conn, job.user_id, job.org_id)
            features = tenancy.features(conn, job.org_id)
            budget = budget_state(conn, job.org_id, now)
        profile = org.profile if org else {}
        value = {
            "org": {"id": job.org_id, "name": org.name if org else None, "profile": profile},
            "icp": profile.get("icp"),
            "product": profile.get("product"),
            "user": {
                "id": job.user_id,
                "name": user.name if user else None,
                "email": user.email if user else None,
                "timezone": user.timezone if user else "UTC",
                "active_hours": user.active_hours if user else None,
                "workdays": user.workdays if user else "mon-fri",
                "preferences": user.preferences if user else {},
            },
            "features": features,
            "budget": budget.as_dict(),
        }
        with self._lock:
            self._cache[key] = (mono, value)
        return value

    def _timed(self, state: JobState, name: str, tier: int, load: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            value = load()
        except Exception as exc:
            ms = (time.perf_counter() - t0) * 1000
            state.context_loads[name] = {
                "tier": tier,
                "ms": round(ms, 3),
                "ok": False,
                "error": type(exc).__name__,
            }
            log.warning("context source %s unavailable: %s", name, type(exc).__name__)
            return None
        ms = (time.perf_counter() - t0) * 1000
        state.context_loads[name] = {"tier": tier, "ms": round(ms, 3), "ok": True}
        return value
