"""Replaying an event: the same type, org, user, source and payload ingested again as a new
event and a new job, on purpose. Re-emitting would be refused as a duplicate of the first for a
whole dedupe window; a replay passes every other gate (the user must still exist, the feature be
on, the hours active) but not dedupe, and says which event it repeats: in the new event's
detail, in its audit row with who asked and why, and in the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overture.clock import Clock
from overture.core.records import Event, IngestResult
from overture.engine.audit import audit_row, check_reason
from overture.engine.intake.ingest import Ingestor
from overture.errors import NotFound
from overture.storage.queries import jobs as jobq
from overture.storage.store import Store


@dataclass(frozen=True)
class Replayed:
    """The replay's ingest outcome and the event it repeats."""

    result: IngestResult
    replay_of: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.result.as_dict(), "replay_of": self.replay_of}


def original_event(store: Store, event_id: str, org_id: str | None = None) -> dict[str, Any]:
    """The recorded event (NotFound when absent, or in another org than ``org_id``)."""
    with store.read() as conn:
        row = jobq.get_event(conn, event_id)
    if row is None or (org_id is not None and row["org_id"] != org_id):
        raise NotFound(f"no event {event_id!r}")
    return row


def replay_event(
    store: Store,
    ingestor: Ingestor,
    clock: Clock,
    event_id: str,
    by: str,
    why: str,
    via: str = "cli",
    org_id: str | None = None,
) -> Replayed:
    """Ingest event ``event_id`` again as a new event, bypassing dedupe only."""
    why = check_reason(why)
    row = original_event(store, event_id, org_id)
    now = clock.now()
    event = Event(
        type=row["type"],
        source=row["source"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        payload=row["payload"] or {},
        occurred_at=row["occurred_at"],
        parent_job_id=row["parent_job_id"],
    )
    with store.write() as conn:
        result = ingestor.ingest_in(conn, event, now, replay_of=event_id)
        audit = audit_row(
            now,
            "event_replayed",
            via,
            org_id=event.org_id,
            job_id=result.job_id,
            event_id=result.event_id,
            actor=by,
            replay_of=event_id,
            why=why,
            outcome=result.status,
        )
        jobq.insert_audit(conn, [audit])
    return Replayed(result, event_id)
