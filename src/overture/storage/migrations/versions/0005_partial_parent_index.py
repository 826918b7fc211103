"""the parent-job index holds only follow-up jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_WHERE = sa.text("parent_job_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_sequence_jobs_parent_job_id", table_name="sequence_jobs")
    op.create_index(
        "ix_sequence_jobs_parent_job_id",
        "sequence_jobs",
        ["parent_job_id"],
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_sequence_jobs_parent_job_id", table_name="sequence_jobs")
    op.create_index("ix_sequence_jobs_parent_job_id", "sequence_jobs", ["parent_job_id"])
