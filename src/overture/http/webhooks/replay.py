"""Replaying an ``unrouted`` MeetingBaaS receipt: once the account it was meant for exists, the
transcript kept on the receipt becomes its one ``meeting_ended``, exactly as if the webhook had
arrived now (the meeting, the transcript once, the event).

A replay is done once: under a lock on the receipt, its outcome moves from ``unrouted`` to
``processed`` (reason ``replayed``) in the same transaction as the event, the kept transcript
is dropped from the receipt (it now lives in ``crm_transcripts``), and who replayed it goes on
the receipt and into the audit log. A second replay changes nothing and says who did the first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from overture.app import App
from overture.core.webhooks import Outcome, Provider
from overture.engine.audit import audit_row
from overture.errors import Conflict, NotFound, ValidationFailed
from overture.http.webhooks.meetingbaas import UNROUTED, MeetingBaasIntake, route_text
from overture.integrations import meetingbaas as mb_api
from overture.storage.queries import integrations as store
from overture.storage.queries import jobs as jobq
from overture.storage.queries.integrations import Account, Receipt

REPLAYED = "meetingbaas_replayed"


@dataclass(frozen=True)
class Replay:
    """What replaying a receipt came to; ``replayed`` is False when it had been already."""

    receipt_id: str
    replayed: bool
    message: str
    by: str
    at: str
    job_id: str | None = None
    event_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Replays:
    """Replaying unrouted MeetingBaaS receipts (the CLI's and the API's)."""

    def __init__(self, app: App, mb: MeetingBaasIntake | None = None) -> None:
        self.app = app
        self.mb = mb or MeetingBaasIntake(app)
        self.receipts = self.mb.receipts

    def replay(
        self, receipt_id: str, by: str, account_ref: str | None = None, org_id: str | None = None
    ) -> Replay:
        """Turn an unrouted receipt into its one ``meeting_ended``, now that its account exists
        (the one its ``extra`` names, or ``account_ref``). ``org_id`` limits it to one org's."""
        with self.app.store.read() as conn:
            receipt = store.get_receipt(conn, receipt_id)
        if receipt is None or receipt.provider != Provider.MEETINGBAAS.value:
            raise NotFound(f"no MeetingBaaS receipt {receipt_id!r}")
        if (receipt.work or {}).get("kind") == REPLAYED:
            if org_id is not None and receipt.org_id != org_id:
                raise NotFound(f"no MeetingBaaS receipt {receipt_id!r}")
            return self._already(receipt)
        if receipt.outcome != Outcome.UNROUTED or (receipt.work or {}).get("kind") != UNROUTED:
            raise Conflict(
                f"receipt {receipt_id} is {receipt.outcome} ({receipt.reason}): only an unrouted "
                "receipt can be replayed"
            )
        meeting, transcript = self._kept(receipt)
        account = self._replay_account(meeting, account_ref)
        if org_id is not None and account.org_id != org_id:
            raise NotFound(f"no MeetingBaaS receipt {receipt_id!r}")
        assert account.user_id is not None
        now = self.app.clock.now()
        with self.app.store.write() as conn:
            self.app.store.lock_key(conn, f"replay:{receipt_id}")
            fresh = store.get_receipt(conn, receipt_id)
            if fresh is None or fresh.outcome != Outcome.UNROUTED:
                replayed = fresh is not None and (fresh.work or {}).get("kind") == REPLAYED
                if fresh is None or not replayed:
                    raise Conflict(f"receipt {receipt_id} changed while it was being replayed")
                return self._already(fresh)
            detail, refs = self.mb.store_meeting(conn, account, meeting, transcript, now)
            first = refs[0] if refs else {}
            store.route_receipt(conn, receipt_id, account.org_id, account.user_id, account.id)
            self.receipts.finish(
                conn, receipt_id, Outcome.PROCESSED, "replayed", f"replayed by {by}: {detail}", now, refs
            )
            done = {"kind": REPLAYED, "by": by, "at": now.isoformat(), "job_id": first.get("job_id")}
            store.set_work(conn, receipt_id, done)
            row = audit_row(
                now,
                "webhook_replayed",
                "unrouted_receipt",
                org_id=account.org_id,
                job_id=first.get("job_id"),
                event_id=first.get("event_id"),
                actor=by,
                receipt_id=receipt_id,
                account=account.external_id,
                event_status=first.get("status"),
            )
            jobq.insert_audit(conn, [row])
        self.app.store.notify_work()
        status = first.get("status")
        message = f"replayed into meeting_ended ({status}, job {first.get('job_id') or '-'})"
        return Replay(receipt_id, True, message, by, now.isoformat(), first.get("job_id"), status)

    def replayable(
        self, org_id: str, limit: int = 100
    ) -> list[tuple[Receipt, mb_api.MeetingCompleted, Account]]:
        """The unrouted receipts that now route to one of ``org_id``'s accounts, newest first:
        what an org admin may replay (a receipt that routes nowhere, or elsewhere, is not shown)."""
        with self.app.store.read() as conn:
            kept = store.list_receipts(
                conn, provider=Provider.MEETINGBAAS.value, outcome=Outcome.UNROUTED.value, limit=limit
            )
        found = []
        for receipt in kept:
            if (receipt.work or {}).get("kind") != UNROUTED:
                continue
            meeting, _ = self._kept(receipt)
            account = self.mb.routed(meeting.extra)
            if account is not None and account.org_id == org_id:
                found.append((receipt, meeting, account))
        return found

    @staticmethod
    def _kept(receipt: Receipt) -> tuple[mb_api.MeetingCompleted, mb_api.Transcript]:
        """The meeting and transcript the receipt kept when it was taken."""
        work = receipt.work or {}
        meeting = mb_api.MeetingCompleted.model_validate(
            {**work["meeting"], "transcript": None, "transcript_url": None}
        )
        segments = tuple(mb_api.Segment.model_validate(s) for s in work.get("segments") or [])
        return meeting, mb_api.Transcript(segments=segments)

    def _replay_account(self, meeting: mb_api.MeetingCompleted, account_ref: str | None) -> Account:
        """The account named by the operator, else the one the bot's ``extra`` routes to."""
        if account_ref is not None:
            with self.app.store.read() as conn:
                account = store.find_account(conn, Provider.MEETINGBAAS.value, account_ref)
            if account is None:
                raise NotFound(f"no MeetingBaaS account {account_ref!r}")
        else:
            found = self.mb.routed(meeting.extra)
            if found is None:
                raise NotFound(
                    f"no MeetingBaaS account matches this receipt ({route_text(meeting.extra)}): add it "
                    "with `overture integrations add meetingbaas --org ORG --user USER --external-id NAME`, "
                    "or name one with --account"
                )
            account = found
        if account.user_id is None:
            raise ValidationFailed(f"account {account.external_id!r} belongs to no user")
        return account

    @staticmethod
    def _already(receipt: Receipt) -> Replay:
        work = receipt.work or {}
        by, at, job = str(work.get("by")), str(work.get("at")), work.get("job_id")
        message = f"already replayed by {by} at {at} (job {job or '-'}); nothing created"
        return Replay(receipt.id, False, message, by, at, job)
