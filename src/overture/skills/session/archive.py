"""Before a new Today.md replaces an earlier day's, that day is archived, so nothing is lost.

Vaults that keep the periodic-notes convention archive each day to ``Periodic/Daily/
YYYY-MM-DD.md`` ("If Captive/Today.md is for an earlier day, it has not been archived: move it
to Periodic/Daily/YYYY-MM-DD.md first"). When the loaded Today.md is for an earlier day and
its archive does not exist yet, the session proposes the archive, shows it, and writes it only
on a yes, with the new Today.md.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from overture.skills.context.needs import VAULT_FILE
from overture.skills.prose.drafts import DraftInput
from overture.skills.prose.vault_tools import VaultEscape, VaultTools
from overture.skills.providers.periods import note_period
from overture.skills.providers.vault import front_matter
from overture.skills.session.answers import yes
from overture.skills.session.conversation import Conversation, Question


async def archive_earlier_day(src: DraftInput, tools: VaultTools, talk: Conversation) -> list[str]:
    """Offer to archive an earlier day's Today.md; returns the decision, if one was made."""
    data = src.data(VAULT_FILE, "Today.md")
    folder = tools.vault.periodic_folder("daily")
    if data is None or folder is None or not data.get("content"):
        return []
    content = str(data["content"])
    period = note_period(PurePosixPath(str(data["path"])).stem, front_matter(content), content)
    if period is None or period.end >= src.date.target_date:
        return []
    path = f"{tools.vault.relative(folder)}/{period.start.isoformat()}.md"
    if (tools.vault.root / path).exists():
        return []
    await talk.say(f"Today.md is still the plan for {period.start.isoformat()}, and it is not archived yet.")
    answer = await talk.ask(Question("archive", f"Archive it to {path} first? (yes/no)", "yes"))
    if not yes(answer):
        return [f"Did not archive the plan for {period.start.isoformat()} (you said no)"]
    try:
        tools.write(path, content.rstrip("\n") + "\n")
    except VaultEscape as exc:
        return [f"Could not archive the plan for {period.start.isoformat()}: {exc}"]
    return []
