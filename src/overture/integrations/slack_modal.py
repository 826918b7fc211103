"""The edit modal of a draft: one input per field a person edits.

``views.open`` shows it for the Edit button's ``trigger_id``; its ``private_metadata`` names the
pending action (a modal has no server-side session), and each input block's ``block_id`` is the
draft field it edits, so a ``view_submission`` reads back as ``{field: value}``. Slack's inputs
hold 3,000 characters: a longer draft is not cut into an edit; the modal says to use the inbox.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from overture.core.drafts import MAX_CHARS, editable_fields, label
from overture.core.records import PendingAction
from overture.integrations.slack_blocks import clip, escape, section

#: The modal's callback id (``decision_for`` reads it as an edit).
EDIT_CALLBACK = "edit_draft"


def edit_modal(action: PendingAction) -> dict[str, Any]:
    """A modal with one input per editable draft field; ``private_metadata`` names the action."""
    names = editable_fields(action.draft)
    too_long = [n for n in names if len(str(action.draft[n])) > MAX_CHARS]
    meta = json.dumps({"pending_action_id": action.id})
    if too_long:
        blocks: list[Block] = [section(f"This draft is too long to edit in Slack ({label(too_long[0])}).")]
        view = View(
            type="modal",
            callback_id=EDIT_CALLBACK,
            title="Edit draft",
            close="Close",
            private_metadata=meta,
            blocks=blocks,
        )
        return view.to_dict()
    inputs: list[Block] = [
        InputBlock(
            block_id=name,
            label=label(name),
            element=PlainTextInputElement(
                action_id=f"{name}_input",
                initial_value=str(action.draft[name]),
                multiline=name == "body",
                max_length=MAX_CHARS,
            ),
            hint="One email address." if name == "to" else None,
        )
        for name in names
    ]
    view = View(
        type="modal",
        callback_id=EDIT_CALLBACK,
        title="Edit draft",
        submit="Approve & send",
        close="Back",
        private_metadata=meta,
        blocks=[section(f"*{escape(clip(action.title, 200))}*"), *inputs],
    )
    return view.to_dict()
