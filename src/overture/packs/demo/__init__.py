"""The demo pack: a call ends, its notes become a follow-up draft that waits for approval,
and a promise to send a proposal chains a second job. Small, offline, and true to the engine."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from overture.core.step_context import EffectRequest, StepContext
from overture.engine.registry import Registry
from overture.settings import Settings

_PROMISE = re.compile(r"\bI(?:'ll| will) (send|share|book|schedule) ([^.?!]+)", re.IGNORECASE)


def summarize_call(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Pull the rep's promises out of the call notes."""
    notes = str(inputs.get("notes", ""))
    promises = [{"verb": m.group(1).lower(), "what": m.group(2).strip()} for m in _PROMISE.finditer(notes)]
    return {
        "promises": promises,
        "wants_proposal": any("proposal" in p["what"].lower() for p in promises),
        "sentences": len([s for s in re.split(r"[.?!]+", notes) if s.strip()]),
    }


def draft_followup(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Write the follow-up email from the promises (an offline stand-in for a model call)."""
    promises = inputs.get("promises") or []
    lines = [f"- I will {p['verb']} {p['what']}" for p in promises] or ["- (no commitments noted)"]
    body = f"Hi {inputs.get('contact', 'there')},\n\nThanks for the call. As promised:\n" + "\n".join(lines)
    ctx.cost("offline", "rules-v1", input_tokens=len(str(promises)), output_tokens=len(body), usd=0.0)
    return {
        "to": inputs.get("to", ""),
        "subject": f"Following up: {inputs.get('topic', 'our call')}",
        "body": body,
    }


def send_email(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Queue the approved email; the outbox writes it once, named by its idempotency key."""
    key = ctx.effect("demo.email", {"to": inputs["to"], "subject": inputs["subject"], "body": inputs["body"]})
    return {"queued": True, "idempotency_key": key}


def draft_proposal(ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """A one-page proposal outline for the account."""
    account = inputs.get("account", "the account")
    return {
        "to": inputs.get("to", ""),
        "subject": f"Proposal for {account}",
        "body": f"Scope, timeline and pricing for {account}, as discussed on the call.",
    }


def make_email_writer(folder: Path) -> Any:
    def write_email(effect: EffectRequest) -> None:
        """Write the email as an .eml file named by its idempotency key (so never twice)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (effect.idempotency_key.replace(":", "_").replace("#", "_") + ".eml")
        if path.exists():
            return
        msg = EmailMessage()
        msg["To"] = effect.payload["to"]
        msg["Subject"] = effect.payload["subject"]
        msg["Message-ID"] = f"<{effect.idempotency_key.replace(':', '.').replace('#', '.')}@overture>"
        msg.set_content(effect.payload["body"])
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(msg))
        tmp.replace(path)

    return write_email


def register(registry: Registry, settings: Settings) -> None:
    registry.skill("demo-summarize-call")(summarize_call)
    registry.skill("demo-draft-followup")(draft_followup)
    registry.skill("demo-draft-proposal")(draft_proposal)
    registry.function("demo-send-email")(send_email)
    registry.effect("demo.email")(make_email_writer(Path(settings.outbox_dir)))
