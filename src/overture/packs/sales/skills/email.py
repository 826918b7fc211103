"""Email skills: classify what arrived, and send what the rep approved, as the rep.

``email-send-as-rep`` only queues: the message leaves after the step is committed, through the
``sales.email`` effect, once per idempotency key. Every sequence puts it behind a ``draft``
approval gate (the seed's policy: every email send needs approval, no exceptions).
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import getaddresses, parseaddr
from typing import Any

from overture.core.step_context import StepContext
from overture.engine.registry import Registry
from overture.errors import ValidationFailed
from overture.packs.sales import kit as k
from overture.packs.sales.kit import Kit
from overture.packs.sales.models import EmailClassification
from overture.packs.sales.skills.mailer import EFFECT

CLASSIFY = (
    "Classify this email to a sales rep: reply_needed, meeting_request, objection, out_of_office, "
    "unsubscribe or no_reply_needed; say whether it needs a reply, asks to meet, or signals risk "
    "to the deal; give a one-line summary and your reasons."
)
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _recipients(value: Any) -> list[str]:
    raw = value if isinstance(value, list) else [value] if value else []
    found = [addr for _, addr in getaddresses([str(v) for v in raw])]
    bad = [a for a in found if not _ADDRESS.match(a)]
    if not found or bad:
        raise ValidationFailed(f"to: not a list of email addresses ({len(bad)} invalid)")
    return found


def register(registry: Registry, kit: Kit) -> None:
    @registry.skill("email-classifier")
    def email_classifier(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """What an incoming email asks of the rep, and which contact, deal and thread it belongs to."""
        message = dict(inputs.get("message") or {})
        session = k.crm(ctx)
        stored = session.message_by_external(str(message.get("id") or "")) or {}
        thread = session.thread_by_external(str(message.get("thread_id") or "")) or session.thread(
            stored.get("thread_id")
        )
        name, sender = parseaddr(str(message.get("sender") or stored.get("sender") or ""))
        contacts = session.contacts_by_email([sender]) if sender else []
        contact = contacts[0] if contacts else None
        deal = session.open_deal_for(contact["id"], contact.get("company_id")) if contact else None
        subject = str(message.get("subject") or stored.get("subject") or "")
        body = str(stored.get("body") or message.get("snippet") or "")
        data = {"subject": subject, "body": body, "sender": sender}
        found = kit.ask(ctx, "email-classifier", CLASSIFY, data, EmailClassification)
        return {
            **found.model_dump(mode="json"),
            "sender": sender,
            "sender_name": (contact or {}).get("name") or name or sender,
            "subject": subject,
            "contact_id": (contact or {}).get("id"),
            "deal_id": (deal or {}).get("id"),
            "thread_id": (thread or {}).get("id"),
        }

    @registry.skill("email-send-as-rep", gate="draft")
    def email_send_as_rep(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Queue the approved email from the rep's address; log it on the contact and deal."""
        me = k.rep(ctx)
        if not me.get("email"):
            raise ValidationFailed(f"user {ctx.user_id} has no email address to send from")
        to = _recipients(inputs.get("to"))
        cc = _recipients(inputs["cc"]) if inputs.get("cc") else []
        subject, body = str(inputs.get("subject") or "").strip(), str(inputs.get("body") or "")
        if not subject or not body.strip():
            raise ValidationFailed("subject and body: an email needs both")
        key = ctx.effect(
            EFFECT,
            {
                "from": me["email"],
                "from_name": me.get("name"),
                "to": to,
                "cc": cc,
                "subject": subject,
                "body": body,
                "date": ctx.now.isoformat(),
            },
        )
        session = k.crm(ctx)
        moment = datetime.fromisoformat(str(ctx.event.get("occurred_at") or ctx.now.isoformat()))
        session.writer.log_activity(
            "email_sent",
            f"Emailed ({ctx.step_name}): {subject}",
            moment,
            contact_id=inputs.get("contact_id"),
            deal_id=inputs.get("deal_id"),
            user_id=ctx.user_id,
        )
        if inputs.get("thread_id"):
            session.writer.mark_thread(str(inputs["thread_id"]), needs_reply=False)
        if inputs.get("proposal_id"):
            session.writer.set_proposal_status(str(inputs["proposal_id"]), "sent", ctx.now)
        return {"queued": True, "idempotency_key": key, "to": to, "subject": subject}
