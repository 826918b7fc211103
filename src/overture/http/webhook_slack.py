"""Slack interactions: approval buttons and edit modals, decided through the one approvals path.

Before answering (well inside Slack's 3 seconds) the receiver only reads: the team's org, the
Overture user behind the Slack user (``users.slack_user_id`` in that org), the pending action
the button's ``value`` or the modal's ``private_metadata`` names, and whether that user may
decide it. A refusal is recorded and said in the answer. An allowed decision is recorded as
accepted, answered, and then made with ``app.approvals.decide(..., via="slack")``; the message
is updated through ``response_url`` afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.webhook import WebhookClient

from overture.app import App
from overture.engine.model import ActionStatus, Decision
from overture.engine.webhooks import (
    Outcome,
    Provider,
    decision_for,
    decision_label,
    may_decide,
    modifications_from,
    pending_action_ref,
)
from overture.errors import Forbidden, NotFound, ValidationFailed
from overture.http.webhook_receipts import Draft, Receipts
from overture.http.webhook_work import Done, WebhookWork, nothing
from overture.integrations.slack_signing import BLOCK_ACTIONS, VIEW_SUBMISSION, SlackInteraction
from overture.storage import approvals as actionq
from overture.storage import integrations as store
from overture.storage.integrations import Account, Receipt

log = logging.getLogger("overture.webhooks.slack")

WORK = "slack_decision"


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

    def take(self, interaction: SlackInteraction) -> SlackAnswer:
        """Check what can be checked now, record the receipt, and say what Slack shows."""
        modal = interaction.type == VIEW_SUBMISSION
        draft = Draft(Provider.SLACK, _key(interaction), Outcome.REJECTED, "")
        if interaction.type not in (BLOCK_ACTIONS, VIEW_SUBMISSION):
            draft.outcome, draft.reason = Outcome.RECORDED, "not_handled"
            draft.detail = f"{interaction.type} interactions need no decision"
            self.receipts.record(draft)
            return SlackAnswer(None)
        message = self._check(interaction, draft)
        taken = self.receipts.record(draft)
        if taken.duplicate:
            return SlackAnswer(None if modal else _say("This click was already received."))
        if draft.outcome == Outcome.ACCEPTED:
            return SlackAnswer(None if modal else _say(message), taken.receipt.id)
        if modal:
            blocks = list(interaction.state_values)
            return SlackAnswer(
                {"response_action": "errors", "errors": {blocks[0]: message}} if blocks else None
            )
        return SlackAnswer(_say(message))

    def _check(self, interaction: SlackInteraction, draft: Draft) -> str:
        """Fill ``draft`` with the outcome; return the text to show."""
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
        if decision == Decision.EDIT:
            unknown = sorted(set(edits) - set(action.draft))
            if not edits or unknown:
                why = f"unknown field(s) {', '.join(unknown)}" if unknown else "nothing was edited"
                return self._refuse(draft, "invalid_edit", f"This edit cannot be applied: {why}.")
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

    @staticmethod
    def _refuse(draft: Draft, reason: str, message: str) -> str:
        draft.outcome, draft.reason, draft.detail = Outcome.REJECTED, reason, message
        return message

    @staticmethod
    def _intent(interaction: SlackInteraction) -> tuple[Decision | None, str | None, dict[str, Any]]:
        edits = modifications_from(interaction.state_values)
        if interaction.type == VIEW_SUBMISSION:
            view = interaction.view
            named = decision_for(view.callback_id if view else None)
            return named or Decision.EDIT, pending_action_ref(interaction.private_metadata), edits
        return decision_for(interaction.action_id), pending_action_ref(interaction.value), edits

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
        """After the answer: make the decision, then show its outcome on the message (only
        through a ``response_url`` under ``allowed_prefix``, Slack's own host)."""
        self.work.run(receipt_id)
        if not response_url or not response_url.startswith(allowed_prefix):
            return
        with self.app.store.read() as conn:
            receipt = store.get_receipt(conn, receipt_id)
        if receipt is None:
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


def _say(text: str) -> dict[str, Any]:
    """An ephemeral message for the person who clicked; the original stays as it is."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}
