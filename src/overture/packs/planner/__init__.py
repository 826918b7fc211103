"""The planner pack: daily and weekly planning and an end-of-day review, as prose skills over a
markdown vault (the seed's example), plus sequences that run them as steps.

A sample vault ships with the pack so ``overture skills run planning-daily --date tomorrow``
works on a fresh checkout. It is never written to: the first run copies it to
``.overture/vault`` under the working folder, and skills write there. Point $OVERTURE_VAULT (or
``--vault``) at your own vault to use it for real.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from overture.engine.registry import Registry
from overture.settings import Settings
from overture.skills.crm_calendar import load_crm_calendar
from overture.skills.step import register_prose_skills

PACK = Path(__file__).resolve().parent
SKILLS = PACK / "skills"
SAMPLE_VAULT = PACK / "vault"
WORKING_VAULT = Path(".overture") / "vault"


def working_vault(folder: Path = WORKING_VAULT) -> Path:
    """A writable copy of the sample vault, made on first use, so the shipped one stays pristine."""
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(SAMPLE_VAULT, folder)
    return folder.resolve()


def register(registry: Registry, settings: Settings) -> None:
    """Register planning-daily, planning-weekly and review-daily as ``skill:NAME`` steps."""
    register_prose_skills(registry, SKILLS, settings, default_vault=working_vault())
    registry.tier3.setdefault("crm_calendar", load_crm_calendar)
