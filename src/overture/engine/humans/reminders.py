"""One reminder before a pending action expires, sent through the delivery path.

When three quarters of an action's life have gone by (36 h of the default 48 h) and nobody has
decided, the person gets one reminder. The reminder is a notification keyed by the action, so
queueing it is also the record that it was queued: never twice, whatever runs this and how
often. Like every message it waits for the person's active hours and hourly limit; a reminder
that would only arrive after the action expired is not worth sending and the channel drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overture.core.records import PendingAction
from overture.engine.audit import audit_row
from overture.ids import new_id
from overture.storage.queries import approval_messages as messageq
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store

#: How much of an action's life passes before the reminder.
REMIND_AT = 0.75


def reminder_notice(action: PendingAction, now: datetime) -> dict[str, Any]:
    """The reminder's notification row: it names the action, and when it expires."""
    return {
        "id": new_id(),
        "org_id": action.org_id,
        "user_id": action.user_id,
        "channel": "inbox",
        "kind": "approval_reminder",
        "dedupe_key": messageq.REMINDER + action.id,
        "status": "pending",
        "body": {
            "text": f"Reminder: {action.title} is waiting for your decision "
            f"and expires at {action.expires_at.strftime('%Y-%m-%d %H:%M UTC')}.",
            "pending_action_id": action.id,
            "pattern": action.pattern,
            "title": action.title,
            "expires_at": action.expires_at.isoformat(),
        },
        "job_id": action.job_id,
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }


@dataclass
class Reminders:
    """Queues the one reminder each undecided action is owed."""

    store: Store
    fraction: float = REMIND_AT
    batch: int = 200

    def queue_due(self, now: datetime) -> int:
        """Queue a reminder for every action past ``fraction`` of its life; returns how many."""
        with self.store.read() as conn:
            due = messageq.due_for_reminder(conn, now, self.fraction, self.batch)
        if not due:
            return 0
        queued = 0
        with self.store.write() as conn:
            for action in due:
                if jobq.insert_notifications(conn, [reminder_notice(action, now)]) == 0:
                    continue
                queued += 1
                jobq.insert_audit(
                    conn,
                    [
                        audit_row(
                            now,
                            "approval_reminded",
                            "expiry_near",
                            org_id=action.org_id,
                            job_id=action.job_id,
                            actor="delivery",
                            pending_action_id=action.id,
                            expires_at=action.expires_at.isoformat(),
                        )
                    ],
                )
        return queued
