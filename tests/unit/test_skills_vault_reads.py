"""Vault reads follow the same confinement as writes (issue #14, finding 5): a note that is a
symlink out of the vault, or a path with ``..``, is never read, and nothing of it reaches the
loaded context or a note the run writes."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overture.packs.planner import SAMPLE_VAULT, SKILLS
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT, build_environment
from overture.skills.orchestrate import SkillRun, run_skill
from overture.skills.providers.vault import Vault
from overture.skills.skillfile import SkillFile, load_skill, parse_skill

MONDAY_MORNING = datetime(2026, 2, 16, 7, 0, tzinfo=UTC)
CAPTIVE = "00_Brain/Captive"
SECRET = "OUTSIDE-THE-VAULT secret priority"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A note outside the vault that looks like a good Week.md."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    note = folder / "secret.md"
    note.write_text(f"---\nweek: 2026-W08\n---\n# Week\n\n## Priorities\n- [ ] {SECRET}\n")
    return note


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root)
    return root


def run(skill: SkillFile, vault: Path) -> SkillRun:
    env = build_environment(vault=vault, timezone="UTC")
    return asyncio.run(run_skill(skill, env, MONDAY_MORNING, "tomorrow"))


def test_a_symlinked_week_md_pointing_outside_is_not_read(vault: Path, outside: Path) -> None:
    """Captive/Week.md links out of the vault: it is refused by name, nothing of it is loaded or
    copied into Today.md, and the run is degraded."""
    week = vault / CAPTIVE / "Week.md"
    week.unlink()
    os.symlink(outside, week)
    result = run(load_skill(SKILLS / "planning-daily" / "SKILL.md"), vault)
    line = next(c for c in result.summary.context if c.startswith("Week.md: "))
    assert "outside the vault" in line
    assert SECRET not in result.loading
    assert SECRET not in (vault / CAPTIVE / "Today.md").read_text()
    assert result.summary.status.value != "Complete"


def test_a_dotdot_path_in_a_bullet_is_not_read(vault: Path, outside: Path) -> None:
    """A Context bullet naming `../elsewhere/secret.md` loads nothing from outside the vault."""
    skill = parse_skill(
        "---\nname: sneaky\norchestrated: true\n---\n## Context\n- `../elsewhere/secret.md` for context\n"
        "## Go\nSay hello.\n"
    )
    result = run(skill, vault)
    assert SECRET not in result.loading
    assert result.results[0].availability.value == "unavailable"


def test_symlinked_people_projects_and_directives_are_skipped(vault: Path, outside: Path) -> None:
    """A People, project or directives note that links out of the vault is never read."""
    v = Vault(vault)
    os.symlink(outside, vault / "02_Areas/People/Sarah Chen.md.tmp")
    (vault / "02_Areas/People/Sarah Chen.md").unlink()
    os.replace(vault / "02_Areas/People/Sarah Chen.md.tmp", vault / "02_Areas/People/Sarah Chen.md")
    os.symlink(outside, vault / "01_Projects/Leak.md")
    os.symlink(outside, vault / "00_Brain/Systemic/Directives/leak.md")
    assert v.person_note("Sarah Chen") is None
    assert "Leak" not in [p.stem for p in v.active_projects()]
    assert "leak.md" not in [p.name for p in v.directives()]
    result = run(load_skill(SKILLS / "planning-daily" / "SKILL.md"), vault)
    assert SECRET not in result.loading


def test_a_symlinked_folder_out_of_the_vault_is_not_searched(vault: Path, outside: Path) -> None:
    """A folder inside the vault that links out is not searched for a named note."""
    os.symlink(outside.parent, vault / "Linked")
    assert Vault(vault).find_note("secret.md") is None
