"""Outreach campaigns: new replies since the last check and anomalies worth a human's eye.

Live numbers come from Instantly when it is configured; otherwise from the CRM's last synced
snapshot, and the report says which. The thresholds are deliberately plain (a bounce rate over
5% hurts sender reputation; zero opens after a hundred sends means tracking is broken).
"""

from __future__ import annotations

from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.packs.sales import kit as k
from overture.packs.sales.kit import Kit

MAX_BOUNCE = 0.05
MAX_UNSUBSCRIBE = 0.02
MIN_REPLY_AFTER = (500, 0.01)


def _rate(part: Any, whole: Any) -> float:
    return float(part or 0) / float(whole) if whole else 0.0


def anomalies(metrics: dict[str, Any]) -> list[str]:
    """What looks wrong in one campaign's counters, in words."""
    sent = int(metrics.get("emails_sent_count") or 0)
    found = []
    bounce = _rate(metrics.get("bounced_count"), sent)
    if bounce > MAX_BOUNCE:
        found.append(f"bounce rate {bounce:.1%} is above {MAX_BOUNCE:.0%}")
    unsub = _rate(metrics.get("unsubscribed_count"), sent)
    if unsub > MAX_UNSUBSCRIBE:
        found.append(f"unsubscribe rate {unsub:.1%} is above {MAX_UNSUBSCRIBE:.0%}")
    if sent >= MIN_REPLY_AFTER[0] and _rate(metrics.get("reply_count_unique"), sent) < MIN_REPLY_AFTER[1]:
        found.append(f"reply rate under {MIN_REPLY_AFTER[1]:.0%} after {sent} emails")
    if sent >= 100 and not metrics.get("open_count_unique"):
        found.append("no opens recorded: open tracking may be broken")
    return found


def report(stored: list[dict[str, Any]], live: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Each active campaign's numbers, new replies against the last snapshot, and anomalies."""
    by_id = {str(c.get("campaign_id") or c.get("id")): c for c in live or []}
    rows = []
    for campaign in stored:
        saved = dict(campaign.get("metrics") or {})
        current = by_id.get(str(campaign.get("external_id")), saved)
        previous = saved.get("previous") or {}
        new_replies = int(current.get("reply_count_unique") or 0) - int(
            previous.get("reply_count_unique") or 0
        )
        rows.append(
            {
                "campaign_id": campaign["id"],
                "name": campaign["name"],
                "sent": int(current.get("emails_sent_count") or 0),
                "replies": int(current.get("reply_count_unique") or 0),
                "new_replies": max(0, new_replies),
                "meetings_booked": int(current.get("total_meeting_booked") or 0),
                "anomalies": anomalies(current),
            }
        )
    lines = [
        f"{r['name']}: {r['new_replies']} new repl{'y' if r['new_replies'] == 1 else 'ies'}, "
        f"{r['meetings_booked']} meetings booked"
        + (f"; {'; '.join(r['anomalies'])}" if r["anomalies"] else "")
        for r in rows
    ]
    return {
        "campaigns": rows,
        "new_replies": sum(r["new_replies"] for r in rows),
        "anomalies": sum(len(r["anomalies"]) for r in rows),
        "source": "instantly" if live is not None else "crm snapshot",
        "text": "\n".join(lines) or "No active campaigns.",
    }


def register(registry: Registry, kit: Kit) -> None:
    @registry.function("active-campaigns")
    def active_campaigns(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """The org's active campaigns, so a sequence can skip campaign steps when there are none."""
        names = [c["name"] for c in k.crm(ctx).campaigns(status="active")]
        return {"active": names, "count": len(names)}

    @registry.skill("monitor-campaigns")
    def monitor_campaigns(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """New replies and anomalies per active campaign, from Instantly or the CRM snapshot."""
        live = k.tier3(ctx, "campaign_metrics")
        return report(k.crm(ctx).campaigns(status="active"), live["campaigns"] if live else None)
