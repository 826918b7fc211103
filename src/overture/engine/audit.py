"""Audit rows: every decision the orchestrator makes, with its reason."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

log = logging.getLogger("overture.audit")


def audit_row(
    now: datetime,
    action: str,
    reason: str,
    *,
    org_id: str | None = None,
    job_id: str | None = None,
    event_id: str | None = None,
    actor: str = "engine",
    **detail: Any,
) -> dict[str, Any]:
    """One audit_log row; also logged (ids and reasons only, never payload content)."""
    log.info("%s reason=%s job=%s event=%s", action, reason, job_id, event_id)
    return {
        "org_id": org_id,
        "job_id": job_id,
        "event_id": event_id,
        "actor": actor,
        "action": action,
        "reason": reason,
        "detail": detail,
        "created_at": now,
    }
