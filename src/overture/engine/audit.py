"""Audit rows: every decision the orchestrator makes, with its reason."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from overture.errors import ValidationFailed

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


MAX_REASON = 500


def check_reason(why: str) -> str:
    """The why a person gives for cancelling or replaying, trimmed: refused when empty or too long."""
    text = why.strip()
    if not text:
        raise ValidationFailed("reason: say why (it is recorded in the audit log)")
    if len(text) > MAX_REASON:
        raise ValidationFailed(f"reason: at most {MAX_REASON} characters, got {len(text)}")
    return text
