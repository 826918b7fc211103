"""A vault write queued by a prose step lands only in a registered vault, or in the job's own
user's vault under a registered per-user template; never in another person's."""

from __future__ import annotations

from pathlib import Path

import pytest

from overture.core.step_context import EffectRequest
from overture.skills.prose.vault_tools import VaultEscape
from overture.skills.step import VaultWriteEffect


def write(root: Path, user: str) -> EffectRequest:
    payload = {"vault": str(root), "user": user, "path": "Captive/Today.md", "content": "# Today\n"}
    return EffectRequest("k1", "skills.vault_write", payload, "acme", "job1")


def test_a_write_goes_to_the_jobs_own_users_vault_only(tmp_path: Path) -> None:
    for user in ("robin", "ana"):
        (tmp_path / user / "Captive").mkdir(parents=True)
    writer = VaultWriteEffect()
    writer.templates.add(str(tmp_path / "{user}"))
    writer(write(tmp_path / "robin", "robin"))
    assert (tmp_path / "robin" / "Captive" / "Today.md").read_text() == "# Today\n"
    with pytest.raises(VaultEscape):
        writer(write(tmp_path / "ana", "robin"))
    with pytest.raises(VaultEscape):
        writer(write(tmp_path / "ana", ""))
    assert not (tmp_path / "ana" / "Captive" / "Today.md").exists()
