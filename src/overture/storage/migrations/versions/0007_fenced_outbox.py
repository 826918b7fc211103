"""fenced, renewable outbox claims and the count of a job's claims lost without progress

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00

``outbox.claim_token`` fences a dispatcher's marks to the claim it holds; ``outbox.started_at``
is written before a handler acts and cleared with its outcome, so an attempt a dead worker left
unfinished is recognised (in doubt). ``sequence_jobs.lost_claims`` counts the claims of a job
taken over from a dead worker since its last committed step (poison jobs are quarantined).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import overture.storage.tables.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("started_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("sequence_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lost_claims", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sequence_jobs", schema=None) as batch_op:
        batch_op.drop_column("lost_claims")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("started_at")
        batch_op.drop_column("claim_token")
