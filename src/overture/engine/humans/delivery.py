"""The one path to a person: every queued message goes out through here, on the person's terms.

Quiet hours and the hourly limit defer messages (never drop them); inform-only messages that
wait together go out as one digest; a channel that is rate limited defers, one that fails for
good records why, and the web inbox still shows everything.

Feeders run first: they queue messages whose moment has come without anyone asking (the
reminder before an approval expires, the update that shows a decision on a Slack message).
An update changes a message the person already has: it is not held back by quiet hours or
the hourly limit, and does not count against it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from overture.clock import Clock
from overture.core.delivery_policy import Person, Waiting, plan
from overture.core.hours import ActiveHours
from overture.engine.audit import audit_row
from overture.engine.humans.reminders import Reminders
from overture.errors import OvertureError, RateLimited
from overture.ids import new_id
from overture.storage.queries import jobs as jobq
from overture.storage.queries import notifications as noteq
from overture.storage.queries import tenancy
from overture.storage.store import Store

log = logging.getLogger("overture.delivery")
CLAIM = timedelta(seconds=60)

#: Kinds that change a message already delivered instead of sending a new one.
UPDATES = frozenset({"approval_outcome"})
#: Queues what is due at a moment; returns how many messages it queued.
Feeder = Callable[[datetime], int]


class DeliveryFailed(OvertureError):
    """The channel refused the message for good (bad token, unknown channel ...)."""


@dataclass(frozen=True)
class Outgoing:
    """A message as a channel sends it: one notification, or a digest of several."""

    notification_id: str
    org_id: str
    kind: str
    text: str
    body: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)


class Channel(Protocol):
    """Slack, the web inbox, ...: how a message reaches a person."""

    name: str

    def send(self, recipient: tenancy.UserRow, message: Outgoing) -> dict[str, Any]:
        """Deliver; return references (e.g. a Slack message ts). Raise RateLimited or DeliveryFailed.

        References with ``skipped`` say the message was not worth sending any more (an approval
        request decided meanwhile): it is recorded as skipped, not counted as sent."""
        ...


class InboxChannel:
    """The built-in web inbox and CLI: the notification row itself is the delivery."""

    name = "inbox"

    def send(self, recipient: tenancy.UserRow, message: Outgoing) -> dict[str, Any]:
        return {}


@dataclass
class DeliveryReport:
    sent: int = 0
    digested: int = 0
    deferred: int = 0
    failed: int = 0


@dataclass
class Delivery:
    store: Store
    clock: Clock
    channels: dict[str, Channel] = field(default_factory=lambda: {"inbox": InboxChannel()})
    feeders: list[Feeder] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Whatever the channels, a person is reminded once before an approval of theirs expires.
        self.feeders.insert(0, Reminders(self.store).queue_due)

    def channel_for(self, user: tenancy.UserRow, requested: str) -> Channel:
        """Slack when the person has a Slack id and Slack is set up; else the channel asked for."""
        if requested == "inbox" and user.slack_user_id and "slack" in self.channels:
            return self.channels["slack"]
        return self.channels.get(requested) or self.channels["inbox"]

    def deliver_due(self) -> DeliveryReport:
        """Send, digest or defer every message whose time has come."""
        now = self.clock.now()
        report = DeliveryReport()
        for feed in self.feeders:
            feed(now)
        with self.store.write() as conn:
            rows = noteq.claim_due(conn, now, CLAIM)
        by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_user[row["user_id"]].append(row)
        for user_id, waiting in by_user.items():
            self._deliver_to(user_id, waiting, now, report)
        return report

    def _deliver_to(
        self, user_id: str, waiting: list[dict[str, Any]], now: datetime, report: DeliveryReport
    ) -> None:
        with self.store.read() as conn:
            user = tenancy.get_user(conn, user_id, waiting[0]["org_id"])
            sent = noteq.sent_since(conn, user_id, noteq.hour_ago(now))
        if user is None:
            self._fail(waiting, "recipient_unknown", now, report)
            return
        for row in [r for r in waiting if r["kind"] in UPDATES]:
            message = Outgoing(
                row["id"], row["org_id"], row["kind"], str(row["body"].get("text", "")), row["body"]
            )
            self._send(user, row["channel"], message, [row["id"]], now, report)
        waiting = [r for r in waiting if r["kind"] not in UPDATES]
        if not waiting:
            return
        person = Person(
            timezone=user.timezone,
            active_hours=ActiveHours.parse(user.active_hours, user.workdays) if user.active_hours else None,
            max_per_hour=user.max_notifications_per_hour,
        )
        decided = plan([Waiting(r["id"], r["kind"], r["created_at"]) for r in waiting], person, sent, now)
        rows = {r["id"]: r for r in waiting}
        for nid in decided.send:
            row = rows[nid]
            text = str(row["body"].get("text", ""))
            self._send(
                user,
                row["channel"],
                Outgoing(nid, row["org_id"], row["kind"], text, row["body"]),
                [nid],
                now,
                report,
            )
        if decided.digest:
            self._digest(user, [rows[i] for i in decided.digest], now, report)
        if decided.defer and decided.defer_until is not None:
            self._defer(decided.defer, rows, decided.defer_until, decided.reason or "deferred", now, report)

    def _send(
        self,
        user: tenancy.UserRow,
        requested: str,
        message: Outgoing,
        ids: list[str],
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        channel = self.channel_for(user, requested)
        try:
            refs = channel.send(user, message)
        except RateLimited as exc:
            delay = timedelta(seconds=exc.retry_after_s or 60)
            rows = {i: {"org_id": message.org_id, "user_id": user.id} for i in ids}
            self._defer(ids, rows, now + delay, "channel_rate_limited", now, report)
            return
        except DeliveryFailed as exc:
            self._fail(
                [{"id": i, "org_id": message.org_id, "user_id": user.id} for i in ids], str(exc), now, report
            )
            with self.store.write() as conn:  # the reason, where the inbox shows the message
                noteq.mark(conn, ids, body={**message.body, "error": str(exc)[:300], "channel": channel.name})
            return
        status = "skipped" if refs.get("skipped") else "updated" if message.kind in UPDATES else "sent"
        values: dict[str, Any] = {"status": status, "sent_at": now, "channel": channel.name}
        if refs:
            values["body"] = {**message.body, "refs": refs}
        with self.store.write() as conn:
            noteq.mark(conn, [message.notification_id], **values)
        report.sent += status == "sent"

    def _digest(
        self, user: tenancy.UserRow, parts: list[dict[str, Any]], now: datetime, report: DeliveryReport
    ) -> None:
        items = [
            {"id": p["id"], "text": p["body"].get("text", ""), "at": p["created_at"].isoformat()}
            for p in parts
        ]
        digest_id = new_id()
        text = f"{len(items)} updates while you were away:\n" + "\n".join(f"- {i['text']}" for i in items)
        row = {
            "id": digest_id,
            "org_id": parts[0]["org_id"],
            "user_id": user.id,
            "channel": parts[0]["channel"],
            "kind": "digest",
            "dedupe_key": None,
            "status": "pending",
            "body": {"text": text, "items": items},
            "job_id": None,
            "send_after": now,
            "sent_at": None,
            "created_at": now,
        }
        with self.store.write() as conn:
            noteq.insert(conn, row)
            noteq.mark(conn, [p["id"] for p in parts], status="digested", sent_at=now)
        report.digested += len(parts)
        self._send(
            user,
            row["channel"],
            Outgoing(digest_id, row["org_id"], "digest", text, row["body"], items),
            [digest_id],
            now,
            report,
        )

    def _defer(
        self,
        ids: list[str],
        rows: dict[str, dict[str, Any]],
        until: datetime,
        reason: str,
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        first = rows[ids[0]]
        with self.store.write() as conn:
            noteq.mark(conn, ids, send_after=until)
            jobq.insert_audit(
                conn,
                [
                    audit_row(
                        now,
                        "notification_deferred",
                        reason,
                        org_id=first["org_id"],
                        actor="delivery",
                        user_id=first["user_id"],
                        count=len(ids),
                        until=until.isoformat(),
                    ),
                ],
            )
        report.deferred += len(ids)

    def _fail(self, rows: list[dict[str, Any]], reason: str, now: datetime, report: DeliveryReport) -> None:
        with self.store.write() as conn:
            noteq.mark(conn, [r["id"] for r in rows], status="failed")
            jobq.insert_audit(
                conn,
                [
                    audit_row(
                        now,
                        "notification_failed",
                        "delivery_failed",
                        org_id=rows[0]["org_id"],
                        actor="delivery",
                        user_id=rows[0]["user_id"],
                        count=len(rows),
                        error=reason[:300],
                    ),
                ],
            )
        log.warning("delivery failed for %d message(s): %s", len(rows), reason[:200])
        report.failed += len(rows)
