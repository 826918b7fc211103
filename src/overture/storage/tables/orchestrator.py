"""The tables: the seed's sequence_jobs and pending actions, made ours.

One schema for SQLite and PostgreSQL; Alembic migrations are generated from it.
Money is integer micro-dollars so sums are exact on both backends.
"""

from __future__ import annotations

import sqlalchemy as sa

from overture.storage.tables.base import ID, metadata
from overture.storage.tables.types import UTCDateTime, json_type

# Partial-index predicates; the claim queries repeat them word for word so both backends use them.
RUNNABLE_SQL = "status IN ('pending', 'deferred')"
LEASED_SQL = "status = 'in_progress'"


def _created() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)


orgs = sa.Table(
    "orgs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("profile", json_type(), nullable=False),
    _created(),
    # Soft delete (`overture orgs remove`): the row stays for history, the org is gone.
    sa.Column("removed_at", UTCDateTime(), nullable=True),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("slack_user_id", sa.String(64), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("active_hours", sa.String(32), nullable=True),
    sa.Column("workdays", sa.String(64), nullable=False),
    sa.Column("max_notifications_per_hour", sa.Integer(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("preferences", json_type(), nullable=False),
    _created(),
    sa.Column("removed_at", UTCDateTime(), nullable=True),  # soft delete (`overture users remove`)
)

feature_settings = sa.Table(
    "feature_settings",
    metadata,
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

budgets = sa.Table(
    "budgets",
    metadata,
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), primary_key=True),
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("limit_micros", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, nullable=False),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("parent_job_id", ID, nullable=True),
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    sa.Column("dedupe_key", sa.String(64), nullable=True),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("job_id", ID, nullable=True),
    sa.Index(None, "org_id", "type", "dedupe_key", "received_at"),
    sa.Index(None, "org_id", "received_at"),
)

sequence_jobs = sa.Table(
    "sequence_jobs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("event_id", ID, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("event_source", sa.String(64), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("context", json_type(), nullable=False),
    sa.Column("event_chain", json_type(), nullable=False),
    sa.Column("trigger_payload", json_type(), nullable=False),
    sa.Column("current_step", sa.Integer(), nullable=False),
    sa.Column("chain_depth", sa.Integer(), nullable=False),
    sa.Column("parent_job_id", ID, nullable=True),
    sa.Column("run_after", UTCDateTime(), nullable=False),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_token", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    sa.Column("continuations", sa.Integer(), nullable=False),
    sa.Column("claims", sa.Integer(), nullable=False),
    # Claims taken over from a dead worker since the job's last committed step (poison jobs).
    sa.Column("lost_claims", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("status_reason", sa.Text(), nullable=True),
    sa.Column("execution_metadata", json_type(), nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index(None, "org_id", "created_at"),
    # Partial: most jobs are roots, and an index they are not in costs their insert nothing.
    sa.Index(
        "ix_sequence_jobs_parent_job_id",
        "parent_job_id",
        sqlite_where=sa.text("parent_job_id IS NOT NULL"),
        postgresql_where=sa.text("parent_job_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_sequence_jobs_runnable",
        "run_after",
        sqlite_where=sa.text(RUNNABLE_SQL),
        postgresql_where=sa.text(RUNNABLE_SQL),
    ),
    sa.Index(
        "ix_sequence_jobs_leased",
        "lease_expires_at",
        sqlite_where=sa.text(LEASED_SQL),
        postgresql_where=sa.text(LEASED_SQL),
    ),
)

job_steps = sa.Table(
    "job_steps",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("job_id", ID, sa.ForeignKey("sequence_jobs.id"), nullable=False),
    sa.Column("step_index", sa.Integer(), nullable=False),
    sa.Column("step_name", sa.String(128), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("output", json_type(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("cost_micros", sa.BigInteger(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=False),
    sa.Column("duration_ms", sa.Float(), nullable=False),
    sa.Index(None, "job_id", "step_index"),
)

pending_actions = sa.Table(
    "pending_actions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=False),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("job_id", ID, sa.ForeignKey("sequence_jobs.id"), nullable=False, index=True),
    sa.Column("step_index", sa.Integer(), nullable=False),
    sa.Column("step_name", sa.String(128), nullable=False),
    sa.Column("pattern", sa.String(16), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("draft", json_type(), nullable=False),
    sa.Column("channel_refs", json_type(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("modifications", json_type(), nullable=True),
    sa.Column("decided_by", ID, nullable=True),
    sa.Column("decided_via", sa.String(32), nullable=True),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    _created(),
    sa.Index(None, "status", "expires_at"),
    sa.Index(None, "org_id", "status"),
    sa.UniqueConstraint("job_id", "step_index"),
)

cost_ledger = sa.Table(
    "cost_ledger",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("org_id", ID, nullable=False),
    sa.Column("job_id", ID, nullable=True),
    sa.Column("step_index", sa.Integer(), nullable=True),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("input_tokens", sa.Integer(), nullable=False),
    sa.Column("output_tokens", sa.Integer(), nullable=False),
    sa.Column("cost_micros", sa.BigInteger(), nullable=False),
    _created(),
    sa.Index(None, "org_id", "created_at"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, nullable=False),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("dedupe_key", sa.String(255), nullable=True, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("body", json_type(), nullable=False),
    sa.Column("job_id", ID, nullable=True),
    sa.Column("send_after", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    _created(),
    sa.Index(None, "user_id", "status", "send_after"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("org_id", ID, nullable=True),
    sa.Column("job_id", ID, nullable=True, index=True),
    sa.Column("event_id", ID, nullable=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("detail", json_type(), nullable=False),
    _created(),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("org_id", ID, sa.ForeignKey("orgs.id"), nullable=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("is_admin", sa.Boolean(), nullable=False),
    _created(),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
    sa.Column("org_id", ID, nullable=False),
    sa.Column("job_id", ID, nullable=True, index=True),
    sa.Column("step_index", sa.Integer(), nullable=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    # A dispatcher's claim: its token fences every mark; it lasts until claimed_until unless renewed.
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Column("claim_token", sa.String(64), nullable=True),
    # Set before a handler acts and cleared with its outcome: set on a reclaimed row, the
    # attempt of a worker that died is in doubt.
    sa.Column("started_at", UTCDateTime(), nullable=True),
    _created(),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Index(None, "status", "id"),
)

schedule_fires = sa.Table(
    "schedule_fires",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("schedule", sa.String(64), nullable=False),
    sa.Column("target", sa.String(140), nullable=False),
    sa.Column("slot_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("event_id", ID, nullable=True),
    sa.Column("fired_by", sa.String(128), nullable=False),
    _created(),
    sa.UniqueConstraint("schedule", "target", "slot_at"),
)

scheduler_state = sa.Table(
    "scheduler_state",
    metadata,
    sa.Column("schedule", sa.String(64), primary_key=True),
    sa.Column("checked_until", UTCDateTime(), nullable=False),
)
