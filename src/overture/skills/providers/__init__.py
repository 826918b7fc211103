"""Context providers: the calendar, the vault's notes, people and projects, directives."""

from overture.errors import SourceUnavailable
from overture.skills.providers.base import (
    Availability,
    Block,
    FulfilEnv,
    NeedResult,
    Provider,
    unavailable,
)
from overture.skills.providers.calendar import CalendarEvent, CalendarSource, CallableCalendar, IcsCalendar
from overture.skills.providers.layout import VaultLayout
from overture.skills.providers.vault import Vault

__all__ = [
    "Availability",
    "Block",
    "CalendarEvent",
    "CalendarSource",
    "CallableCalendar",
    "FulfilEnv",
    "IcsCalendar",
    "NeedResult",
    "Provider",
    "SourceUnavailable",
    "Vault",
    "VaultLayout",
    "unavailable",
]
