"""The vault: note lookups, and the write tool that refuses every path outside the vault."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from overture.core.step_context import EffectRequest
from overture.packs.planner import SAMPLE_VAULT
from overture.skills.prose.vault_tools import VaultEscape, VaultTools, WriteMode, apply_write, confine
from overture.skills.providers.vault import Vault
from overture.skills.step import VaultWriteEffect


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    """A copy of the planner pack's sample vault (tests never write into the repository's)."""
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root)
    return Vault(root)


def test_named_notes_are_found_in_captive_first_then_anywhere(vault: Vault) -> None:
    """Week.md is the Captive one even when another Week.md exists; other names by file name."""
    (vault.root / "04_Archive").mkdir()
    (vault.root / "04_Archive" / "Week.md").write_text("old")
    assert vault.find_note("Week.md") == vault.root / "00_Brain/Captive/Week.md"
    assert vault.find_note("q1 roadmap.md") == vault.root / "01_Projects/Q1 Roadmap.md"
    assert vault.find_note("Nowhere.md") is None


def test_people_notes_match_by_name_alias_or_email(vault: Vault) -> None:
    """ "Sarah Chen", the alias "Priya" and marcus.reid@example.com all find their notes."""
    people = vault.root / "02_Areas/People"
    assert vault.person_note("sarah chen") == people / "Sarah Chen.md"
    assert vault.person_note("Priya") == people / "Priya Patel.md"
    assert vault.person_note("marcus.reid@example.com") == people / "Marcus Reid.md"
    assert vault.person_note("Jordan Blake") is None


def test_only_active_projects_are_listed(vault: Vault) -> None:
    """status: done drops Website Relaunch; a note with no status counts as active."""
    (vault.root / "01_Projects/Side Quest.md").write_text("# No front matter\n")
    assert [p.stem for p in vault.active_projects()] == ["Backend Hiring", "Q1 Roadmap", "Side Quest"]


def test_writes_are_staged_then_committed_inside_the_vault(vault: Vault) -> None:
    """A write creates or updates, an append extends; nothing is on disk until commit."""
    tools = VaultTools(vault)
    created = tools.write("00_Brain/Captive/Tomorrow.md", "# Tomorrow\n")
    updated = tools.write("00_Brain/Captive/Week.md", "# New week\n")
    appended = tools.append("00_Brain/Captive/Today.md", "## Review\n- done\n")
    assert [w.mode for w in (created, updated, appended)] == [
        WriteMode.CREATED,
        WriteMode.UPDATED,
        WriteMode.APPENDED,
    ]
    assert [w.action(vault) for w in tools.staged] == [
        "Created Tomorrow.md in Captive",
        "Updated Week.md in Captive",
        "Appended to Today.md in Captive",
    ]
    assert not (vault.root / "00_Brain/Captive/Tomorrow.md").exists()
    tools.commit()
    assert (vault.root / "00_Brain/Captive/Tomorrow.md").read_text() == "# Tomorrow\n"
    today = (vault.root / "00_Brain/Captive/Today.md").read_text()
    assert today.startswith("---\ndate: 2026-02-16") and today.endswith(
        "went out before lunch.\n\n## Review\n- done\n"
    )
    assert not list(vault.root.rglob(".overture-*"))


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../outside.md", "may not use '..'"),
        ("00_Brain/../../outside.md", "may not use '..'"),
        ("/tmp/outside.md", "relative to the vault"),
        ("00_Brain/Captive/script.sh", "only markdown notes"),
        ("", "not a vault path"),
    ],
)
def test_paths_that_leave_the_vault_are_refused(vault: Vault, path: str, reason: str) -> None:
    """``..``, absolute paths, non-markdown files and empty paths are refused before any write."""
    with pytest.raises(VaultEscape, match=reason):
        VaultTools(vault).write(path, "pwned")
    assert not (vault.root.parent / "outside.md").exists()


def test_a_symlinked_folder_pointing_outside_is_refused(vault: Vault, tmp_path: Path) -> None:
    """A folder inside the vault that links outside it cannot be written through."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, vault.root / "00_Brain/Linked")
    with pytest.raises(VaultEscape, match="outside the vault"):
        VaultTools(vault).write("00_Brain/Linked/Today.md", "pwned")
    with pytest.raises(VaultEscape, match="outside the vault"):
        apply_write(vault.root, "00_Brain/Linked/Today.md", "pwned")
    assert list(outside.iterdir()) == []


def test_a_symlinked_note_pointing_outside_is_refused(vault: Vault, tmp_path: Path) -> None:
    """A note that is a symlink to a file outside the vault is not overwritten."""
    target = tmp_path / "secret.md"
    target.write_text("keep me")
    os.symlink(target, vault.root / "00_Brain/Captive/Month.md.link.md")
    with pytest.raises(VaultEscape, match="outside the vault"):
        apply_write(vault.root, "00_Brain/Captive/Month.md.link.md", "pwned")
    assert target.read_text() == "keep me"


def test_a_symlink_that_stays_inside_the_vault_is_allowed(vault: Vault) -> None:
    """A link to another folder of the same vault is fine: the real path is still inside."""
    os.symlink(vault.root / "00_Brain/Captive", vault.root / "Captive")
    written = apply_write(vault.root, "Captive/Linked.md", "ok")
    assert written == (vault.root / "00_Brain/Captive/Linked.md").resolve()
    assert confine(vault.root, "Captive/Linked.md").read_text() == "ok"


def test_the_effect_handler_writes_only_into_registered_vaults(vault: Vault, tmp_path: Path) -> None:
    """A queued write naming an unregistered folder is refused, even with a harmless path."""
    writer = VaultWriteEffect()
    writer.roots.add(vault.root.resolve())
    ok = EffectRequest(
        "k1", "skills.vault_write", {"vault": str(vault.root), "path": "A.md", "content": "a"}, "o", None
    )
    writer(ok)
    assert (vault.root / "A.md").read_text() == "a"
    other = tmp_path / "other"
    other.mkdir()
    bad = EffectRequest(
        "k2", "skills.vault_write", {"vault": str(other), "path": "A.md", "content": "b"}, "o", None
    )
    with pytest.raises(VaultEscape, match="not a registered vault"):
        writer(bad)
    assert not (other / "A.md").exists()
