"""Slack interactions: approval buttons and edit modals, decided through the one approvals path.

Before answering (well inside Slack's 3 seconds) the receiver only reads: the team's org, the
Overture user behind the Slack user (``users.slack_user_id`` in that org), the pending action
the button's ``value`` or the modal's ``private_metadata`` names, and whether that user may
decide it. A refusal is recorded and said in the answer. An allowed decision is recorded as
accepted, answered, and then made with ``app.approvals.decide(..., via="slack")``.

When Slack delivery is set up (a bot token), the message is then updated by ``chat.update``
like after any decision (see ``overture.integrations.slack_channel``); without it, through the
interaction's ``response_url``. The Edit button opens a modal (``views.open``, right after the
answer, while its ``trigger_id`` is valid); the modal's submission is re-validated field by
field, a mistake is shown under its input, and the edit resumes the job. "Create selected"
decides with the ticked checkboxes; ticking a checkbox itself decides nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.webhook import WebhookClient

from overture.app import App
from overture.core.drafts import changed, check_edits, editable_fields
from overture.core.records import ActionStatus, Decision, PendingAction
from overture.core.webhooks import (
    Outcome,
    Provider,
    decision_for,
    decision_label,
    may_decide,
    modifications_from,
    pending_action_ref,
)
from overture.engine.humans.delivery import DeliveryFailed
from overture.errors import Forbidden, NotFound, RateLimited, ValidationFailed
from overture.http.webhooks.receipts import Draft, Receipts
from overture.http.webhooks.work import Done, WebhookWork, nothing
from overture.integrations import slack_blocks, slack_modal
from overture.integrations.slack_api import SlackApi
from overture.integrations.slack_channel import SlackChannel
from overture.integrations.slack_signing import BLOCK_ACTIONS, VIEW_SUBMISSION, SlackInteraction
from overture.storage.queries import approvals as actionq
from overture.storage.queries import integrations as store
from overture.storage.queries.integrations import Account, Receipt

log = logging.getLogger("overture.webhooks.slack")

WORK = "slack_decision"
EDITOR = "slack_open_editor"


@dataclass(frozen=True)
class SlackAnswer:
    """The 200 Slack gets: a message body (None: empty, which closes a modal), and the receipt
    whose decision to make once it is sent."""

    body: dict[str, Any] | None
    receipt_id: str | None = None


def _key(interaction: SlackInteraction) -> str:
    action = interaction.action
    view = interaction.view
    moment = interaction.trigger_id or (action.action_ts if action else None)
    moment = moment or (f"{view.id}:{view.hash}" if view else None)
    return f"{interaction.team_id or '-'}:{interaction.user_id}:{interaction.type}:{moment or '-'}"


class SlackDecisions:
    """Takes interactions and makes the decisions they carry."""

    def __init__(self, app: App, work: WebhookWork) -> None:
        self.app = app
        self.receipts = Receipts(app)
        self.work = work
        work.register(WORK, self._decide)
        work.register(EDITOR, self._open_editor)

    @property
    def api(self) -> SlackApi | None:
        """The Web API client, when Slack delivery is set up (a bot token)."""
        channel = self.app.delivery.channels.get("slack")
        return channel.api if isinstance(channel, SlackChannel) else None

    def take(self, interaction: SlackInteraction) -> SlackAnswer:
        """Check what can be checked now, record the receipt, and say what Slack shows."""
        modal = interaction.type == VIEW_SUBMISSION
        draft = Draft(Provider.SLACK, _key(interaction), Outcome.REJECTED, "")
        action = interaction.action
        if interaction.type not in (BLOCK_ACTIONS, VIEW_SUBMISSION) or (action and action.type != "button"):
            what = f"{action.type} changes" if action and action.type != "button" else interaction.type
            draft.outcome, draft.reason = Outcome.RECORDED, "not_handled"
            draft.detail = f"{what} need no decision"
            self.receipts.record(draft)
            return SlackAnswer(None)
        message, errors = self._check(interaction, draft)
        taken = self.receipts.record(draft)
        opens_editor = (draft.work or {}).get("kind") == EDITOR
        if taken.duplicate:
            return SlackAnswer(None if modal or opens_editor else _say("This click was already received."))
        if draft.outcome == Outcome.ACCEPTED:
            return SlackAnswer(None if modal or opens_editor else _say(message), taken.receipt.id)
        if modal:
            blocks = list(interaction.state_values)
            errors = errors or ({blocks[0]: message} if blocks else {})
            return SlackAnswer({"response_action": "errors", "errors": errors} if errors else None)
        return SlackAnswer(_say(message))

    def _check(self, interaction: SlackInteraction, draft: Draft) -> tuple[str, dict[str, str]]:
        """Fill ``draft`` with the outcome; return the text to show, and per-field errors."""
        errors: dict[str, str] = {}
        return self._checked(interaction, draft, errors), errors

    def _checked(self, interaction: SlackInteraction, draft: Draft, errors: dict[str, str]) -> str:
        with self.app.store.read() as conn:
            account = store.find_account(conn, Provider.SLACK.value, interaction.team_id or "")
            if account is None:
                return self._refuse(
                    draft, "unknown_team", "This Slack workspace is not connected to Overture."
                )
            draft.account = account
            decider = store.user_by_slack_id(conn, account.org_id, interaction.user_id)
            if decider is None:
                return self._refuse(
                    draft, "unknown_user", "Your Slack account is not linked to an Overture user."
                )
            draft.user_id = decider.id
            decision, ref, edits = self._intent(interaction)
            if decision is None or ref is None:
                return self._refuse(draft, "not_a_decision", "This button does not decide an approval.")
            action = actionq.get_action(conn, ref, account.org_id)
        if action is None:
            return self._refuse(draft, "unknown_action", "This approval no longer exists.")
        if action.status != ActionStatus.PENDING:
            when = action.decided_at.isoformat() if action.decided_at else "earlier"
            who = f"{action.decided_by or 'expiry'} via {action.decided_via}"
            return self._refuse(
                draft, "already_decided", f"Already {action.status.value} by {who} at {when}."
            )
        if not may_decide(decider.id, decider.role, action.user_id):
            return self._refuse(
                draft, "not_allowed", "Only the person this is for, or an org admin, may decide it."
            )
        if interaction.type == BLOCK_ACTIONS and interaction.action_id == slack_blocks.EDIT:
            return self._editor(interaction, draft, action, decider.id)
        if decision == Decision.EDIT:
            unknown = sorted(set(edits) - set(action.draft))
            if not edits or unknown:
                why = f"unknown field(s) {', '.join(unknown)}" if unknown else "nothing was edited"
                return self._refuse(draft, "invalid_edit", f"This edit cannot be applied: {why}.")
            errors.update(_invalid(interaction, action, edits))
            if errors:
                first = next(iter(errors.values()))
                return self._refuse(draft, "invalid_edit", f"This edit cannot be applied: {first}")
            # Saving what was drafted, unchanged, is an approval of the draft as it is.
            if interaction.type == VIEW_SUBMISSION:
                edits = changed(action.draft, edits)
            elif "selected" in edits and sorted(edits["selected"]) == sorted(
                map(str, action.draft.get("selected") or [])
            ):
                edits = {}
            decision = Decision.EDIT if edits else Decision.APPROVE
        draft.outcome, draft.reason = Outcome.ACCEPTED, decision.value
        draft.detail = f"{decision.value} {action.id} by {decider.id}"
        draft.work = {
            "kind": WORK,
            "pending_action_id": action.id,
            "decision": decision.value,
            "by": decider.id,
            "modifications": edits if decision == Decision.EDIT else None,
        }
        return f"{decision_label(decision)}: {action.title}"

    def _editor(self, interaction: SlackInteraction, draft: Draft, action: PendingAction, by: str) -> str:
        """The Edit button: accepted when a modal can be opened; the modal opens after the answer."""
        if self.api is None or not interaction.trigger_id:
            return self._refuse(
                draft,
                "editor_unavailable",
                "Editing in Slack is not set up: edit this in the Overture inbox.",
            )
        if not editable_fields(action.draft):
            return self._refuse(draft, "invalid_edit", "This draft has nothing to edit.")
        draft.outcome, draft.reason = Outcome.ACCEPTED, "edit_requested"
        draft.detail = f"edit {action.id} by {by}"
        draft.work = {"kind": EDITOR, "pending_action_id": action.id, "trigger_id": interaction.trigger_id}
        return ""

    def _open_editor(self, receipt: Receipt, account: Account) -> Done:
        """Open the edit modal, unless the action was decided meanwhile."""
        work = receipt.work or {}
        with self.app.store.read() as conn:
            action = actionq.get_action(conn, str(work.get("pending_action_id")), account.org_id)
        api = self.api
        if action is None or action.status != ActionStatus.PENDING or api is None:
            return Done(Outcome.REJECTED, "not_pending", "nothing to edit any more")
        try:
            view_id = api.open_view(str(work.get("trigger_id")), slack_modal.edit_modal(action))
        except (DeliveryFailed, RateLimited) as exc:
            # The trigger is good for three seconds: there is no trying again later.
            return Done(Outcome.REJECTED, "views_open_failed", str(exc))
        return self.work.commit(
            receipt, account, Done(Outcome.PROCESSED, "editor_opened", f"view {view_id}"), nothing
        )

    @staticmethod
    def _refuse(draft: Draft, reason: str, message: str) -> str:
        draft.outcome, draft.reason, draft.detail = Outcome.REJECTED, reason, message
        return message

    @staticmethod
    def _intent(interaction: SlackInteraction) -> tuple[Decision | None, str | None, dict[str, Any]]:
        if interaction.type == VIEW_SUBMISSION:
            view = interaction.view
            named = decision_for(view.callback_id if view else None)
            edits = modifications_from(interaction.state_values)
            return named or Decision.EDIT, pending_action_ref(interaction.private_metadata), edits
        ref = pending_action_ref(interaction.value)
        if interaction.action_id == slack_blocks.CREATE_SELECTED:
            ticked = _ticked(interaction.state_values)
            return (
                (Decision.APPROVE, ref, {}) if ticked is None else (Decision.EDIT, ref, {"selected": ticked})
            )
        return decision_for(interaction.action_id), ref, modifications_from(interaction.state_values)

    def _decide(self, receipt: Receipt, account: Account) -> Done:
        work = receipt.work or {}
        decision = Decision(str(work["decision"]))
        try:
            result = self.app.approvals.decide(
                str(work["pending_action_id"]),
                decision,
                str(work["by"]),
                "slack",
                work.get("modifications"),
                org_id=account.org_id,
            )
        except NotFound as exc:
            return Done(Outcome.REJECTED, "unknown_action", str(exc))
        except Forbidden as exc:
            return Done(Outcome.REJECTED, "not_allowed", str(exc))
        except ValidationFailed as exc:
            return Done(Outcome.REJECTED, "invalid_edit", str(exc))
        reason = "decided" if result.applied else "already_decided"
        return self.work.commit(receipt, account, Done(Outcome.PROCESSED, reason, result.message), nothing)

    def finish(self, receipt_id: str, response_url: str | None, allowed_prefix: str) -> None:
        """After the answer: do the receipt's work (decide, or open the editor). Without Slack
        delivery, show a decision through a ``response_url`` under ``allowed_prefix`` (Slack's
        own host); with it, ``chat.update`` shows it, as after any decision."""
        self.work.run(receipt_id)
        if self.api is not None or not response_url or not response_url.startswith(allowed_prefix):
            return
        with self.app.store.read() as conn:
            receipt = store.get_receipt(conn, receipt_id)
        if receipt is None or receipt.reason in ("editor_opened", "views_open_failed", "not_pending"):
            return
        text = receipt.detail if receipt.reason != "decided" else f"{receipt.detail} (via Slack)"
        try:
            sent = WebhookClient(response_url, timeout=5).send(
                text=text, replace_original=receipt.reason == "decided", delete_original=False
            )
            if sent.status_code != 200:
                log.warning("Slack response_url answered %s for receipt %s", sent.status_code, receipt_id)
        except Exception as exc:
            log.warning("could not update the Slack message for receipt %s: %s", receipt_id, exc)


def _ticked(values: dict[str, dict[str, dict[str, Any]]]) -> list[str] | None:
    """The options ticked in a select message's checkboxes; None if the state has none of them."""
    found: list[str] | None = None
    for block_id, elements in values.items():
        element = elements.get(slack_blocks.SELECTED)
        if not block_id.startswith(slack_blocks.SELECT_BLOCK) or not isinstance(element, dict):
            continue
        found = found if found is not None else []
        for option in element.get("selected_options") or []:
            if isinstance(option, dict) and isinstance(option.get("value"), str):
                found.append(option["value"])
    return found


def _invalid(interaction: SlackInteraction, action: PendingAction, edits: dict[str, Any]) -> dict[str, str]:
    """Per-field problems with an edit: a modal's text fields, or a selection's options."""
    if interaction.type == VIEW_SUBMISSION:
        return check_edits(action.draft, edits)
    if "selected" in edits:
        known = {str(o.get("id")) for o in action.draft.get("options") or [] if isinstance(o, dict)}
        unknown = sorted(set(edits["selected"]) - known)
        return {"selected": f"no such option(s) {', '.join(unknown)}."} if unknown else {}
    return {}


def _say(text: str) -> dict[str, Any]:
    """An ephemeral message for the person who clicked; the original stays as it is."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}
