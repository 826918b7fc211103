"""Where a vault keeps things, found by folder name rather than assumed.

Vaults differ: the seed's keeps working notes in ``00_Brain/Captive`` and people in
``02_Areas/People``; another keeps ``Captive/``, ``Periodic/Daily``, ``Systemic/Templates`` and
``Areas/People`` at the top. Both name their folders the same way, so the layout is detected
from the names (shallowest match wins, numeric prefixes such as ``01_`` ignored), and a folder
that is not there keeps the seed's path, which providers then report as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

MAX_DEPTH = 3
_PREFIX = re.compile(r"^[\d\s._-]+")
_ROLES = {
    "captive": ("captive",),
    "periodic": ("periodic", "periodic notes"),
    "systemic": ("systemic",),
    "templates": ("templates", "_templates", "template"),
    "directives": ("directives",),
    "calendars": ("calendars",),
    "projects": ("projects",),
    "people": ("people", "persons", "contacts"),
}


def folder_key(name: str) -> str:
    """How a folder is recognised: lowercased, without a numeric prefix (``01_Projects``)."""
    return _PREFIX.sub("", name).strip().lower()


@dataclass(frozen=True, slots=True)
class VaultLayout:
    """Where things live, relative to the vault root (the seed's layout by default)."""

    captive: str = "00_Brain/Captive"
    directives: str = "00_Brain/Systemic/Directives"
    calendars: str = "00_Brain/Systemic/Calendars"
    projects: str = "01_Projects"
    people: str = "02_Areas/People"
    templates: str = "00_Brain/Systemic/Templates"
    periodic: str = "00_Brain/Periodic"
    systemic: str = "00_Brain/Systemic"

    @classmethod
    def detect(cls, root: Path) -> VaultLayout:
        """The layout of the vault at ``root``: each role's shallowest folder by name."""
        found: dict[str, str] = {}
        for rel in _folders(root):
            key = folder_key(rel.rsplit("/", 1)[-1])
            for role, names in _ROLES.items():
                if role not in found and key in names:
                    found[role] = rel
        layout = replace(cls(), **found)
        systemic = found.get("systemic")
        if systemic and "directives" not in found:
            layout = replace(layout, directives=f"{systemic}/Directives")
        return layout

    def roles(self) -> dict[str, str]:
        """Role → folder, for the summary and the vault-configuration need."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _folders(root: Path) -> list[str]:
    """Folders under ``root`` to ``MAX_DEPTH``, breadth first, hidden ones and symlinks skipped."""
    out: list[str] = []
    level = [root]
    for _ in range(MAX_DEPTH):
        below: list[Path] = []
        for folder in level:
            try:
                children = sorted(folder.iterdir())
            except OSError:
                continue
            for child in children:
                if child.name.startswith(".") or child.is_symlink() or not child.is_dir():
                    continue
                out.append(child.relative_to(root).as_posix())
                below.append(child)
        level = below
    return out
