"""Pure decisions about recording a meeting with a MeetingBaaS bot (``calendar_event_created``):
is there a call to record, when should the bot join, and what must change at MeetingBaaS for the
bot it already has to match.

A bot is worth sending only to a call with someone from outside the org (their email's domain
is none of the org's) and a link MeetingBaaS can join (Google Meet, Zoom, Microsoft Teams).
Nothing here reads the clock, the database or the network: the step and the effect handler
gather the facts and act on the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

#: The bot joins this long before the meeting starts, so it is in the room when people arrive.
JOIN_LEAD = timedelta(minutes=1)

_VIDEO_LINK = re.compile(
    r"https://(?:"
    r"meet\.google\.com/[a-z]{3,4}-[a-z]{4}-[a-z]{3,4}"
    r"|(?:[\w-]+\.)*zoom\.us/(?:j|my|w|s)/[^\s<>\"')\]]+"
    r"|teams\.microsoft\.com/(?:l/meetup-join|meet)/[^\s<>\"')\]]+"
    r"|teams\.live\.com/meet/[^\s<>\"')\]]+"
    r")",
    re.IGNORECASE,
)
# Where calendar payloads keep a meeting's link, in the order they are trusted.
_LINK_FIELDS = ("meeting_url", "hangoutLink", "conferenceData", "onlineMeeting", "location", "description")


def video_link(value: Any) -> str | None:
    """The first Meet, Zoom or Teams URL anywhere in ``value`` (text, or JSON-like lists and
    objects such as Google's ``conferenceData.entryPoints``)."""
    if isinstance(value, str):
        found = _VIDEO_LINK.search(value)
        return found.group(0).rstrip(".,;") if found else None
    items: Iterable[Any] = ()
    if isinstance(value, Mapping):
        items = value.values()
    elif isinstance(value, list):
        items = value
    return next((link for item in items if (link := video_link(item)) is not None), None)


def meeting_link(payload: Mapping[str, Any], stored_location: str | None = None) -> str | None:
    """The link of a calendar event: its ``meeting_url``/``hangoutLink``, conference data,
    location or description, else the location stored for it."""
    for name in _LINK_FIELDS:
        link = video_link(payload.get(name))
        if link is not None:
            return link
    return video_link(stored_location)


def org_domains(profile: Mapping[str, Any], user_emails: Iterable[str | None]) -> tuple[str, ...]:
    """The org's own domains: its profile's ``domains``, else the domains of its users' emails."""
    listed = profile.get("domains")
    if isinstance(listed, list) and listed:
        return tuple(str(d).lower().strip(".") for d in listed if str(d).strip("."))
    return tuple(sorted({e.rpartition("@")[2].lower() for e in user_emails if e and "@" in e}))


def is_outside(address: str, domains: Iterable[str]) -> bool:
    """Whether an address is outside every org domain (a subdomain counts as inside)."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return not any(domain == d or domain.endswith("." + d) for d in domains)


def external_guests(attendees: Any, domains: tuple[str, ...]) -> list[str]:
    """The attendees' addresses outside the org (rooms and other resources are not guests)."""
    found: list[str] = []
    for item in attendees if isinstance(attendees, list) else []:
        address = item.get("email") if isinstance(item, Mapping) else None
        if not isinstance(address, str) or "@" not in address or item.get("resource") is True:
            continue
        outside = is_outside(address, domains) if domains else item.get("external") is True
        if outside and address not in found:
            found.append(address)
    return found


class Want(StrEnum):
    """What the calendar event asks of the bot."""

    SCHEDULE = "schedule"
    CANCEL = "cancel"
    LEAVE = "leave"  # nothing to do: no bot wanted, or too late to change the one there is


@dataclass(frozen=True)
class RecordingPlan:
    """The step's decision, with the reason it records."""

    want: Want
    reason: str
    join_at: datetime | None = None


def plan_recording(
    *,
    cancelled: bool,
    start: datetime | None,
    now: datetime,
    guests: list[str],
    link: str | None,
    has_bot: bool,
) -> RecordingPlan:
    """Whether the event wants a bot: a future call with outside guests and a joinable link.
    A bot already scheduled is cancelled when the event no longer wants one, never once the
    meeting is under way."""
    if start is not None and start <= now:
        return RecordingPlan(Want.LEAVE, "already_started")
    why = _unwanted(cancelled, start, guests, link)
    if why is not None:
        return RecordingPlan(Want.CANCEL if has_bot else Want.LEAVE, why)
    assert start is not None  # _unwanted said so
    return RecordingPlan(Want.SCHEDULE, "external_call", max(now, start - JOIN_LEAD))


def _unwanted(cancelled: bool, start: datetime | None, guests: list[str], link: str | None) -> str | None:
    """Why the event wants no bot, or None if it wants one."""
    if cancelled:
        return "event_cancelled"
    if start is None:
        return "no_start"
    if not guests:
        return "no_external_attendees"
    if link is None:
        return "no_video_link"
    return None


class Change(StrEnum):
    """What the effect handler must do at MeetingBaaS."""

    CREATE = "create"
    REPLACE = "replace"  # v1 has no update for a scheduled bot: delete it, then create anew
    DELETE = "delete"
    KEEP = "keep"
    NOTHING = "nothing"


def bot_change(
    want: Want,
    bot_id: str | None,
    bot_join_at: datetime | None,
    bot_url: str | None,
    join_at: datetime | None,
    url: str | None,
) -> Change:
    """Compare the bot we have (``bot_id`` and its join time and link) with the one wanted."""
    if want == Want.CANCEL:
        return Change.DELETE if bot_id else Change.NOTHING
    if want != Want.SCHEDULE:
        return Change.NOTHING
    if bot_id is None:
        return Change.CREATE
    return Change.KEEP if (bot_join_at, bot_url) == (join_at, url) else Change.REPLACE
