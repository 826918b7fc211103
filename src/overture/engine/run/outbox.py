"""Carries out committed side effects, each exactly once per idempotency key.

A handler receives the key and must act idempotently on it (a file named by the key, an SMTP
Message-ID, a Slack ``client_msg_id``), so a dispatcher that dies between acting and marking
the row sent repeats nothing visible.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from overture.clock import Clock
from overture.core.step_context import EffectRequest
from overture.engine.registry import Registry
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store

log = logging.getLogger("overture.outbox")
MAX_ATTEMPTS = 5
CLAIM_S = 60.0


@dataclass
class OutboxDispatcher:
    store: Store
    registry: Registry
    clock: Clock

    def dispatch(self, batch: int = 100) -> int:
        """Carry out everything pending, a batch at a time; returns how many succeeded."""
        total = 0
        while True:
            done, claimed = self._batch(batch)
            total += done
            if claimed < batch:
                return total

    def _batch(self, limit: int) -> tuple[int, int]:
        now = self.clock.now()
        with self.store.write() as conn:
            rows = jobq.claim_outbox(conn, now, now + timedelta(seconds=CLAIM_S), limit)
        sent = 0
        for row in rows:
            handler = self.registry.effects.get(row["kind"])
            effect = EffectRequest(
                row["idempotency_key"], row["kind"], row["payload"], row["org_id"], row["job_id"]
            )
            error: str | None = None
            if handler is None:
                error = f"no handler registered for effect kind {row['kind']!r}"
            else:
                try:
                    handler(effect)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
            status = (
                "sent"
                if error is None
                else ("failed" if row["attempts"] + 1 >= MAX_ATTEMPTS or handler is None else "pending")
            )
            if error:
                log.warning("effect %s (%s) failed: %s", row["id"], row["kind"], error)
            with self.store.write() as conn:
                jobq.mark_outbox(conn, row["id"], status, self.clock.now(), error)
            sent += error is None
        return sent, len(rows)
