"""What an org may still spend: its budget limits and what it spent in each current period."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from overture.core import budget as budgets
from overture.storage.queries import jobs as jobq
from overture.storage.queries import tenancy


def budget_state(conn: sa.Connection, org_id: str, now: datetime) -> budgets.BudgetState:
    """The org's limits and what it spent in each current period."""
    limits = tenancy.org_budgets(conn, org_id)
    spent = {p: jobq.cost_since(conn, org_id, budgets.period_start(p, now)) for p in limits}
    return budgets.BudgetState(limits=limits, spent=spent)
