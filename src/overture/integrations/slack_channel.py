"""Slack as a delivery channel: approvals, reminders, outcomes, inform messages and digests.

Messages go to the person's DM with the app (``chat.postMessage`` with their Slack user id as
the channel). An approval request's ``{channel, ts}`` is returned to the delivery path, which
stores it on the notification; that is how the message is found again.

Showing a decision: after an action is decided — from Slack, the web inbox, the CLI or the API
— or expires, :meth:`SlackChannel.queue_outcomes` (a delivery feeder) queues one
``approval_outcome`` notification for it, keyed by the action so it exists once. Delivering it
is a ``chat.update`` of the original message: the outcome (who, what, when), no buttons. It is
found from durable state, so no decision path needs to know about Slack; while Slack is down the
update waits and is tried again; it is never lost, and never made twice.

Posting once: ``chat.postMessage`` has no idempotency key, so every post carries its
notification's id in the message metadata, and the attempt is recorded on the notification
before the call (``posting_at``; the delivery path records the outcome after). A notification
found with that mark was being posted when its worker stopped: the conversation is checked for
a message with its id (``conversations.history``, scopes ``im:history``/``im:write``) before
posting again. Where Slack cannot say, it is posted again: at least once, never lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from overture.core.records import ActionStatus, PendingAction
from overture.engine.humans.delivery import DeliveryFailed, Outgoing
from overture.ids import new_id
from overture.integrations import slack_blocks as blocks
from overture.integrations.slack_api import KEY_FIELD, SlackApi
from overture.storage.queries import approval_messages as messageq
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from overture.storage.queries import tenancy
from overture.storage.store import Store

#: How long after an action's expiry a decision's outcome is still looked for (a sweep that
#: did not run for longer than this leaves that message as it was).
OUTCOME_HORIZON = timedelta(days=7)
#: Marks a notification whose post was attempted (epoch seconds): set before, gone after.
POSTING = "posting_at"


def outcome_notice(action: PendingAction, now: datetime) -> dict[str, Any]:
    """The notification that updates the action's Slack message once it is decided."""
    return {
        "id": new_id(),
        "org_id": action.org_id,
        "user_id": action.user_id,
        "channel": SlackChannel.name,
        "kind": "approval_outcome",
        "dedupe_key": messageq.OUTCOME + action.id,
        "status": "pending",
        "body": {
            "text": f"{action.title}: {action.status.value}",
            "pending_action_id": action.id,
            "status": action.status.value,
        },
        "job_id": action.job_id,
        "send_after": now,
        "sent_at": None,
        "created_at": now,
    }


@dataclass
class SlackChannel:
    """Implements the delivery ``Channel`` protocol for Slack."""

    api: SlackApi
    store: Store
    name: str = "slack"

    def send(self, recipient: tenancy.UserRow, message: Outgoing) -> dict[str, Any]:
        """Post (or, for an outcome, update) one message; see the module docstring."""
        if not recipient.slack_user_id:
            raise DeliveryFailed("no_slack_user")
        if message.kind in ("approval_request", "approval_reminder", "approval_outcome"):
            action = self._action(message)
            if message.kind == "approval_request":
                return self._request(recipient.slack_user_id, action, message)
            if message.kind == "approval_reminder":
                return self._reminder(recipient.slack_user_id, action, message)
            return self._outcome(action)
        if message.kind == "digest":
            return self._post(message, recipient.slack_user_id, blocks.digest(message.text, message.items))
        return self._post(message, recipient.slack_user_id, blocks.inform(message.text))

    def _post(
        self,
        note: Outgoing,
        channel: str,
        text: blocks.SlackMessage,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Post once per notification: check for an earlier attempt's message, record this one
        before it is made (see the module docstring)."""
        key = note.notification_id
        earlier = note.body.get(POSTING)
        if isinstance(earlier, int | float):
            found = self.api.find_posted(channel, key, float(earlier), thread_ts)
            if found is not None:
                return found
        with self.store.write() as conn:
            noteq.mark(conn, [key], body={**note.body, POSTING: time.time()})
        meta = metadata or {"event_type": "overture_message", "event_payload": {}}
        meta = {**meta, "event_payload": {**meta.get("event_payload", {}), KEY_FIELD: key}}
        return self.api.post(channel, text, thread_ts=thread_ts, metadata=meta)

    def _action(self, message: Outgoing) -> PendingAction:
        action_id = str(message.body.get("pending_action_id") or "")
        with self.store.read() as conn:
            action = actionq.get_action(conn, action_id, message.org_id)
        if action is None:
            raise DeliveryFailed("unknown_action")
        return action

    def _message_of(self, action: PendingAction) -> dict[str, str] | None:
        """Where the action's request was posted, if it was."""
        with self.store.read() as conn:
            request = messageq.notice(conn, messageq.REQUEST + action.id)
        refs = (request or {}).get("body", {}).get("refs") or {}
        if request is None or request["channel"] != self.name or not refs.get("ts"):
            return None
        return {"channel": str(refs["channel"]), "ts": str(refs["ts"])}

    def _request(self, user: str, action: PendingAction, message: Outgoing) -> dict[str, Any]:
        if action.status != ActionStatus.PENDING:
            return {"skipped": f"already {action.status.value}"}
        metadata = {"event_type": "overture_approval", "event_payload": {"pending_action_id": action.id}}
        return self._post(message, user, blocks.approval_request(action), metadata=metadata)

    def _reminder(self, user: str, action: PendingAction, message: Outgoing) -> dict[str, Any]:
        if action.status != ActionStatus.PENDING:
            return {"skipped": f"already {action.status.value}"}
        original = self._message_of(action)
        if original is None:
            return self._post(message, user, blocks.reminder(action))
        return self._post(message, original["channel"], blocks.reminder(action), thread_ts=original["ts"])

    def _outcome(self, action: PendingAction) -> dict[str, Any]:
        original = self._message_of(action)
        if original is None:
            return {"skipped": "no_slack_message"}
        decider = None
        if action.decided_by:
            with self.store.read() as conn:
                user = tenancy.get_user(conn, action.decided_by, action.org_id)
            decider = user.name if user else action.decided_by
        refs = self.api.update(original["channel"], original["ts"], blocks.approval_outcome(action, decider))
        return {**refs, "shows": action.status.value}

    def queue_outcomes(self, now: datetime) -> int:
        """Queue the update of every decided action's Slack message not yet queued (a feeder)."""
        with self.store.read() as conn:
            decided = messageq.decided_without_outcome(conn, self.name, now - OUTCOME_HORIZON, 200)
        if not decided:
            return 0
        with self.store.write() as conn:
            return jobq.insert_notifications(conn, [outcome_notice(a, now) for a in decided])
