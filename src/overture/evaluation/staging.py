"""How a labelled call is staged for the real path: its own org, its people, a recorder account,
and the MeetingBaaS ``complete`` webhook that recorder would send.

Each call gets an org of its own because the detector tells the rep's side from the buyer's by
the org's user names: with one shared org, a prospect of one call who shares a name with a
colleague of another would silently change sides. The rep and the colleagues become users
(emails on the org's domain, reachable at any hour, no budget limit); prospects are only
voices on the recording, as they would be. Bot ids are fresh, so the receiver's and the
sequence's dedupe never merge two calls.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from overture.app import App
from overture.core.webhooks import Provider
from overture.evaluation.calls import LabelledCall, Segment
from overture.ids import new_id
from overture.storage.queries import integrations as accounts
from overture.storage.queries.integrations import Account

#: Every hour of every day: a call is never deferred to the rep's next working window.
ALWAYS = ("00:00-24:00", "mon-sun")


@dataclass(frozen=True)
class StagedCall:
    """Where a call was staged: its org, the rep's user, and the bot that recorded it."""

    call: LabelledCall
    org_id: str
    rep_user_id: str
    account: str
    bot_id: str


def _local_part(name: str, fallback: str) -> str:
    """``Dana Whitfield`` → ``dana.whitfield``; accents folded, anything else dropped."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    part = re.sub(r"[^a-z0-9]+", ".", folded.lower()).strip(".")
    return part or fallback


def stage(app: App, call: LabelledCall, number: int, event_types: list[str]) -> StagedCall:
    """Create the call's org (``event_types`` switched on), users and recorder account."""
    org_id = f"eval-{number:04d}"
    domain = f"{org_id}.example"
    admin = app.admin
    admin.add_org(org_id, f"Eval {call.id}"[:200], {"domains": [domain], "evaluation_call": call.id})
    for event_type in event_types:
        admin.set_feature(org_id, event_type, True)
    rep_user = f"{org_id}.rep"
    team = [(rep_user, call.rep)]
    team += [(f"{org_id}.colleague{i}", p.name) for i, p in enumerate(call.people("colleague"), 1)]
    taken: set[str] = set()
    for user_id, name in team:
        local = _local_part(name, user_id.rpartition(".")[2])
        local = local if local not in taken else f"{local}.{len(taken)}"
        taken.add(local)
        admin.add_user(
            org_id,
            user_id,
            name,
            timezone="UTC",
            active_hours=ALWAYS[0],
            workdays=ALWAYS[1],
            email=f"{local}@{domain}",
        )
    external_id = f"{org_id}.recorder"
    now = app.clock.now()
    account = Account(
        id=new_id(),
        provider=Provider.MEETINGBAAS.value,
        external_id=external_id,
        org_id=org_id,
        user_id=rep_user,
        secret_hash=None,
        state={},
        base_url=None,
        token_ref=None,
        created_at=now,
        updated_at=now,
    )
    with app.store.write() as conn:
        accounts.insert_account(conn, account)
    return StagedCall(call, org_id, rep_user, external_id, f"eval-bot-{new_id()}")


def _words(segment: Segment) -> list[dict[str, Any]]:
    """The segment's words with times spread evenly over its span, as a recorder reports them."""
    words = segment.text.split()
    span = (segment.end - segment.start) / len(words)
    return [
        {
            "start": round(segment.start + i * span, 3),
            "end": round(segment.start + (i + 1) * span, 3),
            "word": word,
        }
        for i, word in enumerate(words)
    ]


def complete_webhook(staged: StagedCall) -> dict[str, Any]:
    """The MeetingBaaS v1 ``complete`` body for the call (docs/integrations/meetingbaas.md): speakers, the
    transcript as speaker turns of timed words, and ``extra`` naming the recorder account (as
    the bot request would have set it) and the meeting's title."""
    call = staged.call
    spoke = [s.speaker for s in call.segments]
    speakers = list(dict.fromkeys([*spoke, *(p.name for p in call.participants)]))
    return {
        "event": "complete",
        "data": {
            "bot_id": staged.bot_id,
            "speakers": speakers,
            "transcript": [{"speaker": s.speaker, "words": _words(s)} for s in call.segments],
            "extra": {"overture_account": staged.account, "meeting_title": call.title},
        },
    }
