"""The vault: a folder of markdown notes laid out as in the seed (and the 2bd vault it came from).

    00_Brain/Captive/            working notes: Today.md, Week.md, Month.md
    00_Brain/Systemic/Directives/ profile.md and other directives
    00_Brain/Systemic/Calendars/ .ics files, when no calendar is configured elsewhere
    01_Projects/                 one note per project (front matter ``status``)
    02_Areas/People/             one note per person (file name, or ``aliases``/``email``)

Lookups only read; writing goes through :mod:`overture.skills.prose.vault_tools`, which keeps every
write inside the vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INACTIVE = frozenset({"done", "completed", "archived", "paused", "cancelled", "canceled", "inactive"})


@dataclass(frozen=True, slots=True)
class VaultLayout:
    """Where things live, relative to the vault root."""

    captive: str = "00_Brain/Captive"
    directives: str = "00_Brain/Systemic/Directives"
    calendars: str = "00_Brain/Systemic/Calendars"
    projects: str = "01_Projects"
    people: str = "02_Areas/People"


def front_matter(text: str) -> dict[str, Any]:
    """A note's YAML front matter, or {} when it has none or it does not parse (notes are
    written by hand; a stray colon must not hide the note)."""
    if not text.startswith("---"):
        return {}
    parts = text.split("\n---", 1)
    if len(parts) < 2:
        return {}
    try:
        data = yaml.safe_load(parts[0][3:])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Vault:
    """A vault folder and its layout."""

    root: Path
    layout: VaultLayout = field(default_factory=VaultLayout)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def captive(self, name: str) -> str:
        """The vault-relative path of a working note in Captive."""
        return f"{self.layout.captive}/{name}"

    def find_note(self, name: str) -> Path | None:
        """A named note: Captive first (working notes), then anywhere in the vault by file name."""
        direct = self.root / self.layout.captive / name
        if direct.is_file():
            return direct
        if "/" in name and (self.root / name).is_file():
            return self.root / name
        wanted = Path(name).name.lower()
        matches = sorted(p for p in self.root.rglob("*.md") if p.name.lower() == wanted and p.is_file())
        return matches[0] if matches else None

    def person_note(self, who: str) -> Path | None:
        """The People note for a name or email: by file name, else by ``aliases`` or ``email``."""
        folder = self.root / self.layout.people
        if not folder.is_dir():
            return None
        key = who.strip().lower()
        notes = sorted(folder.glob("*.md"))
        for note in notes:
            if note.stem.lower() == key:
                return note
        for note in notes:
            meta = front_matter(note.read_text(encoding="utf-8", errors="replace"))
            aliases = meta.get("aliases") or []
            names = [str(a).lower() for a in (aliases if isinstance(aliases, list) else [aliases])]
            if key in names or key == str(meta.get("email", "")).lower():
                return note
        return None

    def active_projects(self) -> list[Path]:
        """Project notes whose ``status`` is absent or not one of done/archived/paused/…."""
        folder = self.root / self.layout.projects
        if not folder.is_dir():
            return []
        active = []
        for note in sorted(folder.glob("*.md")):
            status = str(front_matter(note.read_text(encoding="utf-8", errors="replace")).get("status", ""))
            if status.strip().lower() not in INACTIVE:
                active.append(note)
        return active

    def directives(self) -> list[Path]:
        folder = self.root / self.layout.directives
        return sorted(folder.glob("*.md")) if folder.is_dir() else []

    def calendar_files(self) -> list[Path]:
        folder = self.root / self.layout.calendars
        return sorted(folder.glob("*.ics")) if folder.is_dir() else []
