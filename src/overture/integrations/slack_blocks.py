"""Block Kit layouts for approvals and messages, built with the SDK's models.

One layout per approval pattern (docs/concepts.md), each showing what the rep needs to decide:
draft — recipient, subject, body; Approve & send · Edit · Skip · Cancel. confirm — each deal
with its old → new stage; Confirm · Skip · Cancel. select — a checkbox per proposed task with
its due date; Create selected · Skip. inform — text, no buttons. Every button's ``value`` is
the pending action's id and nothing else; Cancel asks for confirmation first. Once decided
(or expired) the message is rebuilt without buttons, saying who did what, and when.

Pure: the SDK's models validate Slack's length limits as ``to_dict()`` builds each block, so
text from drafts and people is escaped and clipped here, before it gets there. The edit modal
is in ``slack_modal``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)

from overture.core.drafts import editable_fields, label
from overture.core.records import ActionStatus, PendingAction

APPROVE = "approve"
EDIT = "edit"
SKIP = "skip"
CANCEL = "cancel"
#: "Create selected": an edit whose modification is the ticked options.
CREATE_SELECTED = "edit_selected"
#: The checkboxes' action id, and the prefix of the blocks holding them (10 options a block).
SELECTED = "selected"
SELECT_BLOCK = "select:"
DECISION_BLOCK = "decision"
_SECTION_MAX = 2900
_OPTION_MAX = 75
_MAX_ITEMS = 20
_LABELS = {
    ActionStatus.APPROVED: ("white_check_mark", "Approved"),
    ActionStatus.EDITED: ("pencil2", "Edited and approved"),
    ActionStatus.SKIPPED: ("fast_forward", "Skipped"),
    ActionStatus.CANCELLED: ("no_entry_sign", "Cancelled"),
    ActionStatus.EXPIRED: ("hourglass", "Expired unanswered"),
}


@dataclass(frozen=True)
class SlackMessage:
    """What ``chat.postMessage`` / ``chat.update`` send: blocks, and the notification text."""

    text: str
    blocks: list[dict[str, Any]]


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn: ``&``, ``<`` and ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(moment: datetime) -> str:
    """A moment Slack shows in the reader's own time zone (with a UTC fallback)."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, _SECTION_MAX))


def section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=_md(text), block_id=block_id)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_md(text)])


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def _field(value: Any) -> str:
    return escape(str(value)) if value not in (None, "") else "_(empty)_"


# -- what each pattern shows -----------------------------------------------------------------


def _draft_summary(draft: Mapping[str, Any]) -> list[Block]:
    fields = [f"*{label(name)}*\n{_field(draft.get(name))}" for name in ("to", "subject") if name in draft]
    blocks: list[Block] = [SectionBlock(fields=[_md(f) for f in fields])] if fields else []
    if "body" in draft:
        blocks.append(section(_field(draft.get("body"))))
    sources = _sources(draft.get("grounding"))
    if sources:
        blocks.append(_context(sources))
    others = [k for k in draft if k not in ("to", "subject", "body") and isinstance(draft[k], str)]
    if not fields and "body" not in draft and others:
        blocks.append(section("\n".join(f"*{escape(k)}*: {_field(draft[k])}" for k in others[:10])))
    return blocks


def _sources(grounding: Any) -> str:
    """Where each sentence of a draft comes from, one short line each, for a context block."""
    if not isinstance(grounding, list):
        return ""
    lines = []
    for i, sentence in enumerate(grounding, 1):
        if not isinstance(sentence, dict) or not sentence.get("text"):
            continue
        labels = "; ".join(str(s.get("label")) for s in sentence.get("sources") or [] if isinstance(s, dict))
        lines.append(f"{i}. “{escape(clip(str(sentence['text']), 60))}” ← {escape(labels) or '_no source_'}")
    return clip("*Where each sentence comes from*\n" + "\n".join(lines), _SECTION_MAX) if lines else ""


def _changes(draft: Mapping[str, Any]) -> list[dict[str, Any]]:
    changes = draft.get("changes")
    if isinstance(changes, list):
        return [c for c in changes if isinstance(c, dict)]
    return [dict(draft)]


def _confirm_summary(draft: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    changes = _changes(draft)
    for change in changes[:_MAX_ITEMS]:
        deal = change.get("deal") or change.get("deal_name") or change.get("deal_id") or "Deal"
        old = change.get("from_stage") or change.get("from") or "?"
        new = change.get("to_stage") or change.get("to") or "?"
        reason = f"\n_{escape(str(change['reason']))}_" if change.get("reason") else ""
        blocks.append(section(f"*{escape(str(deal))}*\n{escape(str(old))} → *{escape(str(new))}*{reason}"))
    if len(changes) > _MAX_ITEMS:
        blocks.append(_context(f"and {len(changes) - _MAX_ITEMS} more: see the web inbox"))
    return blocks


def _options(draft: Mapping[str, Any]) -> list[dict[str, Any]]:
    options = draft.get("options")
    return [o for o in options if isinstance(o, dict) and "id" in o] if isinstance(options, list) else []


def _selected(draft: Mapping[str, Any]) -> set[str]:
    chosen = draft.get("selected")
    return {str(s) for s in chosen} if isinstance(chosen, list) else set()


def _due(option: Mapping[str, Any]) -> str:
    parts = [f"due {option['due_date']}" if option.get("due_date") else "no due date"]
    if option.get("priority"):
        parts.append(str(option["priority"]))
    return " · ".join(parts)


def _checkboxes(draft: Mapping[str, Any]) -> list[Block]:
    options = _options(draft)[: _MAX_ITEMS * 2]
    chosen = _selected(draft)
    blocks: list[Block] = []
    for n in range(0, len(options), 10):
        chunk = [
            Option(
                value=str(o["id"]),
                text=clip(str(o.get("title") or o["id"]), _OPTION_MAX),
                description=clip(_due(o), _OPTION_MAX),
            )
            for o in options[n : n + 10]
        ]
        picked = [opt for opt in chunk if opt.value in chosen]
        element = CheckboxesElement(action_id=SELECTED, options=chunk, initial_options=picked or None)
        blocks.append(ActionsBlock(block_id=f"{SELECT_BLOCK}{n // 10}", elements=[element]))
    return blocks


def _select_summary(draft: Mapping[str, Any], chosen: set[str] | None) -> list[Block]:
    """Each option, ticked or not; ``chosen`` None lists them without marks (nothing created)."""

    def mark(option: Mapping[str, Any]) -> str:
        if chosen is None:
            return "•"
        return ":ballot_box_with_check:" if str(option["id"]) in chosen else ":white_square:"

    lines = [
        f"{mark(o)} {escape(str(o.get('title') or o['id']))} — {escape(_due(o))}"
        for o in _options(draft)[:_MAX_ITEMS]
    ]
    return [section("\n".join(lines))] if lines else []


def summary(pattern: str, draft: Mapping[str, Any], *, applied: bool = True) -> list[Block]:
    """The facts of a draft, without controls: what was (or is to be) decided. A selection not
    ``applied`` (skipped, cancelled, expired) is listed without ticks."""
    if pattern == "confirm":
        return _confirm_summary(draft)
    if pattern == "select":
        return _select_summary(draft, _selected(draft) if applied else None)
    return _draft_summary(draft)


# -- messages ------------------------------------------------------------------------------


def _button(text: str, action_id: str, action: PendingAction, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=action_id, value=action.id, style=style)


def _cancel(action: PendingAction) -> ButtonElement:
    confirm = ConfirmObject(
        title="Cancel this job?",
        text="Nothing more will run for it, and nothing will be sent.",
        confirm="Cancel the job",
        deny="Keep it",
        style="danger",
    )
    return ButtonElement(text="Cancel", action_id=CANCEL, value=action.id, style="danger", confirm=confirm)


def approval_request(action: PendingAction) -> SlackMessage:
    """The message that asks for a decision, laid out for the action's pattern."""
    title = escape(action.title)
    if action.pattern == "confirm":
        head, body = f":arrows_counterclockwise: *Confirm:* {title}", _confirm_summary(action.draft)
        buttons = [
            _button("Confirm", APPROVE, action, "primary"),
            _button("Skip", SKIP, action),
            _cancel(action),
        ]
    elif action.pattern == "select":
        head, body = f":ballot_box_with_check: *Choose:* {title}", _checkboxes(action.draft)
        buttons = [
            _button("Create selected", CREATE_SELECTED, action, "primary"),
            _button("Skip", SKIP, action),
        ]
    else:
        head, body = f":email: *Approve:* {title}", _draft_summary(action.draft)
        buttons = [_button("Approve & send", APPROVE, action, "primary")]
        if editable_fields(action.draft):
            buttons.append(_button("Edit", EDIT, action))
        buttons += [_button("Skip", SKIP, action), _cancel(action)]
    blocks: list[Block] = [
        section(head),
        *body,
        _context(f"Expires {when(action.expires_at)} · decide here or in the Overture inbox"),
        ActionsBlock(block_id=DECISION_BLOCK, elements=buttons),
    ]
    return SlackMessage(f"Waiting for your decision: {action.title}", _dicts(blocks))


def approval_outcome(action: PendingAction, decider: str | None) -> SlackMessage:
    """The same message once decided or expired: what it was, who decided what and when."""
    emoji, verb = _LABELS.get(action.status, ("grey_question", action.status.value))
    draft = action.effective_draft()
    applied = action.status in (ActionStatus.APPROVED, ActionStatus.EDITED)
    if action.status == ActionStatus.EXPIRED:
        line = f":{emoji}: *{verb}* — expired {when(action.expires_at)}; nothing was done"
        text = f"{action.title}: expired unanswered"
    else:
        who = decider or action.decided_by or "someone"
        moment = when(action.decided_at) if action.decided_at else "earlier"
        line = f":{emoji}: *{verb}* by {escape(who)} via {escape(action.decided_via or '?')} · {moment}"
        text = f"{action.title}: {verb.lower()} by {who}"
    blocks: list[Block] = [
        section(f"*{escape(action.title)}*"),
        *summary(action.pattern, draft, applied=applied),
        _context(line),
    ]
    return SlackMessage(text, _dicts(blocks))


def reminder(action: PendingAction) -> SlackMessage:
    """The one nudge before expiry, posted under the original message."""
    line = f":alarm_clock: *Reminder:* {escape(action.title)} expires {when(action.expires_at)}."
    blocks = [section(line), _context("Decide on the message above, or in the Overture inbox.")]
    return SlackMessage(f"Reminder: {action.title} expires soon", _dicts(blocks))


def inform(text: str) -> SlackMessage:
    """A summary, a brief, a notice: text only, nothing to click."""
    return SlackMessage(clip(text, 3000), _dicts([section(escape(text))]))


def digest(text: str, items: Sequence[Mapping[str, Any]]) -> SlackMessage:
    """Inform messages that waited together, as one message with one section each."""
    head = section(f":inbox_tray: *{len(items)} updates while you were away*")
    parts: list[Block] = [section(escape(str(i.get("text", "")))) for i in items[:45]]
    if len(items) > 45:
        parts.append(_context(f"and {len(items) - 45} more in the Overture inbox"))
    return SlackMessage(clip(text, 3000), _dicts([head, *parts]))
