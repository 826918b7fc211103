"""template_pack: answers a contact-form message with a reply a person approves before it goes.

``sequences/contact_request.yaml`` drafts the reply with a typed skill, waits for a person to
approve, edit or skip it, and then queues the reply as an effect. The effect handler writes it
to the outbox folder once, after the step is committed: a step never acts on the world itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from overture.core.step_context import EffectRequest, StepContext
from overture.engine.registry import Registry
from overture.engine.typed_skills import function, skill
from overture.settings import Settings

PACK = "template_pack"
REPLY = f"{PACK}.reply"


class ContactRequest(BaseModel):
    """What ``draft-reply`` reads: its step's ``with``, checked before the skill runs."""

    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    message: str


class Reply(BaseModel):
    """What ``draft-reply`` returns; later steps read it as ``outputs['draft-reply']``."""

    to: str
    subject: str
    body: str


class Queued(BaseModel):
    """What ``send-reply`` returns: the key of the effect it queued."""

    effect: str


@skill("draft-reply")
def draft_reply(ctx: StepContext, request: ContactRequest) -> Reply:
    """Draft a short reply to a contact-form message."""
    first = request.name.split()[0]
    body = (
        f"Hello {first},\n\nThank you for your message. We have read it and will come back to you "
        "with a full answer within two working days.\n\nKind regards"
    )
    return Reply(to=request.email, subject="Thank you for getting in touch", body=body)


@function("send-reply", gate="draft")
def send_reply(ctx: StepContext, reply: Reply) -> Queued:
    """Queue the approved (perhaps edited) reply; ``gate`` makes a sequence without a draft
    approval in front of this step fail validation."""
    return Queued(effect=ctx.effect(REPLY, reply.model_dump()))


def register(registry: Registry, settings: Settings) -> None:
    """Register the effect handler; the typed skill and function above register themselves."""
    folder = Path(settings.outbox_dir) / PACK

    @registry.effect(REPLY)
    def write_reply(effect: EffectRequest) -> None:
        """Write the reply to ``outbox/template_pack/``, once per effect key (``O_EXCL``)."""
        folder.mkdir(parents=True, exist_ok=True)
        name = effect.idempotency_key.replace(":", "_").replace("#", "_") + ".txt"
        payload = effect.payload
        text = f"To: {payload['to']}\nSubject: {payload['subject']}\n\n{payload['body']}\n"
        try:
            fd = os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # carried out already: a retried effect changes nothing
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
