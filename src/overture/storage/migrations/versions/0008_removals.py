"""soft deletes: when an org or a user was removed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00

``orgs.removed_at`` and ``users.removed_at`` mark an org or a user removed (``overture orgs
remove``, ``overture users remove``): the rows stay, for the history that refers to them, and
everything treats them as gone; their tokens are revoked in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import overture.storage.tables.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("orgs", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "removed_at", overture.storage.tables.types.UTCDateTime(timezone=True), nullable=True
                )
            )


def downgrade() -> None:
    for table in ("users", "orgs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("removed_at")
