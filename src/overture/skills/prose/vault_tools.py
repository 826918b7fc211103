"""The one way a skill's prose changes files: write or append a markdown note in the vault.

The tool is narrow on purpose. A model (or a prose author) names a path; the path is resolved
with symlinks followed and refused unless it stays inside the vault and names a ``.md`` note.
Writes are staged first and carried out after the run, so a run inside a sequence step can
queue them as outbox effects (done once, after the step is recorded) instead of acting twice
when a crashed step is run again.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from overture.errors import Forbidden
from overture.skills.providers.vault import Vault


class VaultEscape(Forbidden):
    """Writing there is refused: only markdown notes inside the vault can be written."""


class WriteMode(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    APPENDED = "appended"


@dataclass(frozen=True, slots=True)
class StagedWrite:
    """A note's new full content, and whether it creates, replaces or extends the note."""

    path: str
    content: str
    mode: WriteMode

    def action(self, vault: Vault, dry_run: bool = False) -> str:
        """How the summary says it: "Created Today.md in Captive", or in a dry run "Would
        create Today.md in Captive"."""
        where = PurePosixPath(self.path)
        folder = "Captive" if self.path.startswith(vault.layout.captive + "/") else str(where.parent)
        if dry_run:
            verb = {WriteMode.CREATED: "create", WriteMode.UPDATED: "update", WriteMode.APPENDED: "append to"}
            return f"Would {verb[self.mode]} {where.name} in {folder}"
        done = {WriteMode.CREATED: "Created", WriteMode.UPDATED: "Updated", WriteMode.APPENDED: "Appended to"}
        return f"{done[self.mode]} {where.name} in {folder}"


def confine(root: Path, relative: str) -> Path:
    """The real path for ``relative`` inside ``root``; VaultEscape if it would leave the vault
    (an absolute path, ``..``, or a symlink pointing out) or is not a ``.md`` note."""
    if not relative or "\x00" in relative:
        raise VaultEscape(f"{relative!r}: not a vault path")
    candidate = PurePosixPath(relative.replace("\\", "/"))
    if candidate.is_absolute() or ".." in candidate.parts:
        raise VaultEscape(f"{relative!r}: paths must be relative to the vault and may not use '..'")
    if candidate.suffix.lower() != ".md":
        raise VaultEscape(f"{relative!r}: only markdown notes (.md) can be written")
    if not root.is_dir():
        raise VaultEscape(f"{relative!r}: the vault folder {root} does not exist")
    base = root.resolve(strict=True)
    target = (base / candidate).resolve()
    if not target.is_relative_to(base):
        raise VaultEscape(f"{relative!r}: resolves to {target}, outside the vault")
    return target


def apply_write(root: Path, relative: str, content: str) -> Path:
    """Write ``content`` to the note atomically (a temp file renamed into place), checked again
    at the moment of writing because the vault may have changed since the write was staged."""
    target = confine(root, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".overture-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class VaultTools:
    """What the prose may do to the vault. Nothing touches disk until :meth:`commit`."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._staged: dict[str, StagedWrite] = {}

    @property
    def staged(self) -> list[StagedWrite]:
        return list(self._staged.values())

    def _current(self, relative: str) -> str | None:
        if relative in self._staged:
            return self._staged[relative].content
        target = confine(self.vault.root, relative)
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def write(self, relative: str, content: str) -> StagedWrite:
        """Create or replace a note."""
        before = self._current(relative)
        previous = self._staged.get(relative)
        created = before is None or (previous is not None and previous.mode is WriteMode.CREATED)
        mode = WriteMode.CREATED if created else WriteMode.UPDATED
        return self._stage(StagedWrite(relative, content, mode))

    def append(self, relative: str, content: str) -> StagedWrite:
        """Add to the end of a note (creating it if need be)."""
        before = self._current(relative)
        if before is None:
            return self.write(relative, content)
        previous = self._staged.get(relative)
        mode = previous.mode if previous is not None else WriteMode.APPENDED
        joined = before.rstrip("\n") + "\n\n" + content.lstrip("\n")
        return self._stage(StagedWrite(relative, joined, mode))

    def _stage(self, write: StagedWrite) -> StagedWrite:
        self._staged[write.path] = write
        return write

    def commit(self) -> list[Path]:
        """Carry out every staged write; returns the files written."""
        return [apply_write(self.vault.root, w.path, w.content) for w in self._staged.values()]
