"""The sales copilot pack (the first seed): a rep's copilot that acts when things happen.

A meeting ends and its commitments become a follow-up draft, tasks to pick and, when the rep
promised one, a proposal; a calendar invite with outside guests schedules the meeting's prep
and, when it has a video link, a MeetingBaaS bot to record it; mornings bring a brief in the
seed's format; the pipeline, inbox and campaigns are watched.
Every email waits for the rep's approval, every deal-stage change for a confirmation, and tasks
from detected intents for a selection; summaries only inform.

``register`` wires the CRM actions, skills, context providers and the email and recording-bot
effects, and gives the offline provider its rules; the sequences are in ``sequences/``, the
schedules in ``schedules.yaml``.
"""

from __future__ import annotations

from overture.engine.registry import Registry
from overture.llm.factory import provider_from_settings
from overture.llm.offline import OfflineProvider
from overture.packs.sales.config import SalesConfig
from overture.packs.sales.crm import actions as crm_actions
from overture.packs.sales.crm.providers import register_providers
from overture.packs.sales.kit import Kit
from overture.packs.sales.rules.offline import register_rules
from overture.packs.sales.skills import brief as brief_sources
from overture.packs.sales.skills import campaigns, coaching, participants, recording, slots
from overture.packs.sales.skills import deals as skills_deals
from overture.packs.sales.skills import email as skills_email
from overture.packs.sales.skills import meeting as skills_meeting
from overture.packs.sales.skills.mailer import EFFECT, make_sender
from overture.settings import Settings


def register(registry: Registry, settings: Settings) -> None:
    """Register everything the sales sequences use."""
    config = SalesConfig.from_settings(settings)
    offline = OfflineProvider()
    register_rules(offline)
    kit = Kit(
        llm=provider_from_settings(settings, offline=offline), config=config, outbox_dir=settings.outbox_dir
    )
    crm_actions.register(registry)
    skill_modules = (
        participants,
        skills_meeting,
        skills_email,
        skills_deals,
        slots,
        campaigns,
        coaching,
        brief_sources,
    )
    for module in skill_modules:
        module.register(registry, kit)
    register_providers(registry, config)
    registry.effect(EFFECT)(make_sender(config, settings.outbox_dir))
    recording.register(registry, settings)
