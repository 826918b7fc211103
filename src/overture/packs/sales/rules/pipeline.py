"""Pipeline health as a pure function of the deals and what happened to them: which deals are
stale, which are at risk and why, which need action today, and which stage changes to propose.

The thresholds are the usual ones for a B2B pipeline and are named here, so a reason shown to a
rep ("no activity for 23 days") always traces back to one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

STALE_DAYS = 21
LOST_AFTER_DAYS = 30
PROPOSAL_WAIT_DAYS = 7
CLOSING_SOON_DAYS = 14
EARLY = ("prospecting", "qualification", "discovery")
LATE = ("demo", "proposal", "negotiation")
BEFORE_PROPOSAL = ("prospecting", "qualification", "discovery", "demo")


def _days(earlier: str | None, now: datetime) -> int | None:
    return None if earlier is None else max(0, (now - datetime.fromisoformat(earlier)).days)


def _reasons(
    deal: dict[str, Any], idle: int | None, today: date, proposals: list[dict[str, Any]], heard: set[str]
) -> list[dict[str, str]]:
    reasons = []
    if idle is not None and idle >= STALE_DAYS:
        reasons.append({"kind": "stale", "text": f"No activity for {idle} days"})
    close = date.fromisoformat(deal["close_date"]) if deal.get("close_date") else None
    if close is not None and close < today:
        reasons.append(
            {"kind": "close_date_passed", "text": f"Close date passed {(today - close).days} days ago"}
        )
    elif close is not None and (close - today).days <= CLOSING_SOON_DAYS and deal["stage"] in EARLY:
        reasons.append(
            {
                "kind": "closing_soon_early",
                "text": f"Closes in {(close - today).days} days but still in {deal['stage']}",
            }
        )
    for proposal in proposals:
        waited = (today - date.fromisoformat(str(proposal["sent_at"])[:10])).days
        if waited >= PROPOSAL_WAIT_DAYS and proposal["id"] not in heard:
            reasons.append(
                {"kind": "proposal_unanswered", "text": f"Proposal sent {waited} days ago, no response"}
            )
    return reasons


def analyse(
    deals: Iterable[dict[str, Any]],
    proposals: Iterable[dict[str, Any]],
    answered_proposals: set[str],
    due_task_deals: set[str],
    waiting_contacts: set[str],
    today: date,
    now: datetime,
) -> dict[str, Any]:
    """The pipeline report for the given open deals.

    ``answered_proposals``: sent proposals the prospect has written back about since;
    ``due_task_deals``: deals with an open task due today or earlier; ``waiting_contacts``:
    contacts whose email waits for the rep's reply.
    """
    sent_by_deal: dict[str, list[dict[str, Any]]] = {}
    for proposal in proposals:
        if proposal.get("status") == "sent" and proposal.get("deal_id"):
            sent_by_deal.setdefault(proposal["deal_id"], []).append(proposal)
    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for deal in deals:
        idle = _days(deal.get("last_activity_at"), now)
        sent = sent_by_deal.get(deal["id"], [])
        reasons = _reasons(deal, idle, today, sent, answered_proposals)
        kinds = {r["kind"] for r in reasons}
        at_risk = bool(kinds & {"close_date_passed", "proposal_unanswered", "closing_soon_early"}) or (
            "stale" in kinds and deal["stage"] in LATE
        )
        needs_action = (
            bool(reasons) or deal["id"] in due_task_deals or deal.get("contact_id") in waiting_contacts
        )
        rows.append(
            {
                "deal_id": deal["id"],
                "name": deal["name"],
                "company": deal.get("company_name"),
                "contact_name": deal.get("contact_name"),
                "stage": deal["stage"],
                "value_cents": deal["value_cents"],
                "days_inactive": idle,
                "reasons": reasons,
                "at_risk": at_risk,
                "needs_action": needs_action,
            }
        )
        if "close_date_passed" in kinds and idle is not None and idle >= LOST_AFTER_DAYS:
            changes.append(_change(deal, "closed_lost", f"close date passed and no activity for {idle} days"))
        elif sent and deal["stage"] in BEFORE_PROPOSAL:
            changes.append(_change(deal, "proposal", "a proposal has been sent"))
    risky = sorted((r for r in rows if r["at_risk"]), key=lambda r: -r["value_cents"])
    awaiting = [p for ps in sent_by_deal.values() for p in ps]
    return {
        "as_of": today.isoformat(),
        "deals": rows,
        "needing_action": [r["deal_id"] for r in rows if r["needs_action"]],
        "at_risk": risky,
        "stale": [r["deal_id"] for r in rows if any(x["kind"] == "stale" for x in r["reasons"])],
        "stage_changes": changes,
        "proposals_awaiting": len(awaiting),
        "proposal_value_cents": sum(int(p["value_cents"]) for p in awaiting),
        "open_value_cents": sum(int(r["value_cents"]) for r in rows),
    }


def _change(deal: dict[str, Any], stage: str, reason: str) -> dict[str, Any]:
    return {
        "deal_id": deal["id"],
        "deal": deal["name"],
        "from_stage": deal["stage"],
        "to_stage": stage,
        "reason": reason,
    }
