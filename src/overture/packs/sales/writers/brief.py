"""The morning brief in the seed's exact format, and the same content as Slack blocks.

Composing is pure: it takes what the earlier steps gathered (today's meetings with prep status,
threads waiting for a reply, the pipeline report, campaign numbers, overnight changes) and lays
them out line by line as the seed specifies:

    Good morning, {name}. Here's your {day_of_week}.
    MEETINGS TODAY ({count})
    {time} -- {contact_name}, {company} ({meeting_type})
    [Prep ready ->] | [Prepping now...] | No prep needed
    NEEDS YOUR ATTENTION ({count})
    {contact_name} ({company}) -- {summary}
    [{primary_action} ->] [{secondary_action} ->]
    PIPELINE PULSE
    {deals_needing_action} deals need action today
    {at_risk_count} deal(s) at risk ({deal_name} -- {days_inactive} days no activity)
    {proposal_value} in proposals awaiting response
    OVERNIGHT UPDATES
    {icon} {update_summary}
    [Expand pipeline ->] [Show full inbox ->]
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

PREP_LINES = {"ready": "[Prep ready ->]", "in_progress": "[Prepping now...]", "none": "No prep needed"}
CAMPAIGN_ICON, ALERT_ICON = "\U0001f4c8", "\u26a0\ufe0f"


def clock_label(moment: datetime) -> str:
    """'9:30 AM': the way a rep reads a meeting time."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def money(cents: int) -> str:
    return f"${int(cents) // 100:,}"


def campaign_updates(campaigns: dict[str, Any] | None) -> list[dict[str, str]]:
    """Campaign news for OVERNIGHT UPDATES: new replies, and anything anomalous."""
    updates = []
    for row in (campaigns or {}).get("campaigns") or []:
        if row["new_replies"]:
            plural = "y" if row["new_replies"] == 1 else "ies"
            booked = row["meetings_booked"]
            text = f"{row['name']}: {row['new_replies']} new repl{plural}, {booked} meetings booked"
            updates.append({"icon": CAMPAIGN_ICON, "summary": text})
        updates += [{"icon": ALERT_ICON, "summary": f"{row['name']}: {a}"} for a in row["anomalies"]]
    return updates


def compose(
    name: str,
    today: date,
    meetings: list[dict[str, Any]],
    attention: list[dict[str, Any]],
    pipeline: dict[str, Any],
    updates: list[dict[str, str]],
) -> str:
    """The brief's text, exactly in the seed's format."""
    first = name.split(" ", maxsplit=1)[0] if name else name
    lines = [f"Good morning, {first}. Here's your {today:%A}.", f"MEETINGS TODAY ({len(meetings)})"]
    for m in meetings:
        who = ", ".join(str(part) for part in (m["contact_name"], m["company"]) if part)
        lines.append(f"{m['time']} -- {who} ({m['meeting_type']})")
        lines.append(PREP_LINES[m["prep"]])
    lines.append(f"NEEDS YOUR ATTENTION ({len(attention)})")
    for item in attention:
        lines.append(f"{item['contact_name']} ({item['company']}) -- {item['summary']}")
        lines.append(f"[{item['primary']} ->] [{item['secondary']} ->]")
    at_risk = pipeline.get("at_risk") or []
    lines.append("PIPELINE PULSE")
    lines.append(f"{len(pipeline.get('needing_action') or [])} deals need action today")
    risk = f"{len(at_risk)} deal(s) at risk"
    if at_risk:
        worst = at_risk[0]
        risk += f" ({worst['name']} -- {worst['days_inactive'] or 0} days no activity)"
    lines.append(risk)
    lines.append(f"{money(pipeline.get('proposal_value_cents') or 0)} in proposals awaiting response")
    lines.append("OVERNIGHT UPDATES")
    lines += [f"{u['icon']} {u['summary']}" for u in updates]
    lines.append("[Expand pipeline ->] [Show full inbox ->]")
    return "\n".join(lines)


def _button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def blocks(
    text: str, meetings: list[dict[str, Any]], attention: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The brief as Block Kit: its text by section, with the bracketed buttons as real buttons."""
    sections = [_section(part) for part in _split_sections(text)]
    out: list[dict[str, Any]] = sections[:2]
    prep = [
        _button("Prep ready ->", "brief_open_prep", m["meeting_id"]) for m in meetings if m["prep"] == "ready"
    ]
    if prep:
        out.append({"type": "actions", "elements": prep[:25]})
    out += sections[2:3]
    for item in attention[:10]:
        out.append(
            {
                "type": "actions",
                "elements": [
                    _button(f"{item['primary']} ->", "brief_primary", item["thread_id"]),
                    _button(f"{item['secondary']} ->", "brief_secondary", item["thread_id"]),
                ],
            }
        )
    out += sections[3:]
    out.append(
        {
            "type": "actions",
            "elements": [
                _button("Expand pipeline ->", "brief_expand_pipeline", "pipeline"),
                _button("Show full inbox ->", "brief_show_inbox", "inbox"),
            ],
        }
    )
    return out


def _split_sections(text: str) -> list[str]:
    """Greeting, then one chunk per section heading; the closing buttons line is dropped."""
    headings = ("MEETINGS TODAY", "NEEDS YOUR ATTENTION", "PIPELINE PULSE", "OVERNIGHT UPDATES")
    chunks: list[list[str]] = [[]]
    for line in text.splitlines()[:-1]:
        if line.startswith(headings):
            chunks.append([])
        chunks[-1].append(line if not line.startswith(headings) else f"*{line}*")
    return ["\n".join(c) for c in chunks if c]
