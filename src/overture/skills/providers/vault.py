"""The vault: a folder of markdown notes, read only inside its own walls.

The layout is detected by folder name (:mod:`overture.skills.providers.layout`): the seed's
``00_Brain/Captive``, ``01_Projects``, ``02_Areas/People``, or ``Captive/``, ``Periodic/``,
``Systemic/Templates`` and ``Areas/People`` at the top. Reads follow the same confinement as
writes (:mod:`overture.skills.prose.vault_tools`): a note that is a symlink out of the vault, or
a name with ``..``, is refused and never read. A template is never a note: a missing
``Today.md`` is missing, not ``Systemic/Templates/today.md``. Hub and index notes
(``✱ Projects.md``) are neither projects nor people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from overture.errors import SourceUnavailable
from overture.skills.providers.layout import VaultLayout, folder_key
from overture.skills.providers.names import PersonKeys, match_person

INACTIVE = frozenset({"done", "completed", "archived", "paused", "cancelled", "canceled", "inactive"})
WORKING_NOTES = ("Today.md", "Week.md", "Month.md", "Quarter.md", "Year.md")
HUB_NAMES = frozenset({"index", "readme", "moc", "hub", "home", "overview", "dashboard"})
HUB_TYPES = frozenset({"hub", "index", "moc", "map"})
PERIODIC = {"daily": ("daily", "days"), "weekly": ("weekly", "weeks"), "monthly": ("monthly", "months")}
HUB_MARKS = (*"✱✳✲✴*★☆✦✧+!_§◆◇●○⌂~=", "🏠", "🗂", "📁", "📂", "🗺")
_H1 = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[\s_-]*")


class VaultReadRefused(SourceUnavailable):
    """A note that leaves the vault (a symlink out, ``..``, an absolute path) is never read."""


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


def project_name(stem: str) -> str:
    """A dated project file's name without its date: ``2026-10-06 Billing Migration``."""
    return _DATE_PREFIX.sub("", stem) or stem


@dataclass(frozen=True)
class Vault:
    """A vault folder and its layout (detected from the folder when not given)."""

    root: Path
    layout: VaultLayout = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.layout is None:
            object.__setattr__(self, "layout", VaultLayout.detect(self.root))

    @cached_property
    def real_root(self) -> Path:
        return self.root.resolve()

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

    def inside(self, path: Path) -> bool:
        """True when ``path`` exists and, symlinks followed, stays inside the vault."""
        try:
            return path.resolve(strict=True).is_relative_to(self.real_root)
        except (OSError, RuntimeError):
            return False

    def read(self, path: Path) -> str:
        """A note's text, only from inside the vault."""
        if not self.inside(path):
            raise VaultReadRefused(f"{self.relative(path)} links outside the vault; it was not read")
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceUnavailable(f"cannot read {path.name}: {exc}") from None

    def meta(self, path: Path) -> dict[str, Any]:
        return front_matter(self._text(path))

    def notes(self, folder: str) -> list[Path]:
        """The notes directly in ``folder`` that stay inside the vault, sorted."""
        base = self.root / folder
        if not base.is_dir() or not self.inside(base):
            return []
        return sorted(p for p in base.glob("*.md") if p.is_file() and self.inside(p))

    def is_template(self, path: Path) -> bool:
        rel = PurePosixPath(self.relative(path))
        templates = {"templates", "_templates", "template"}
        return rel.as_posix().startswith(self.layout.templates + "/") or any(
            folder_key(part) in templates for part in rel.parts[:-1]
        )

    def template_for(self, name: str) -> str | None:
        """The template a missing working note would be made from, to name it, never to load it."""
        folder = self.root / self.layout.templates
        wanted = name.lower()
        found = (
            [p for p in sorted(folder.glob("*.md")) if p.name.lower() == wanted] if folder.is_dir() else []
        )
        return self.relative(found[0]) if found else None

    def find_note(self, name: str) -> Path | None:
        """A named note: a working note (Today.md, Week.md, …) only in Captive; a path by its
        folders (``Captive/Week.md`` is the Captive folder wherever it is); any other name
        anywhere by file name. Never a template; a name that leaves the vault is refused."""
        clean = PurePosixPath(name.strip().replace("\\", "/"))
        if clean.is_absolute() or ".." in clean.parts or not clean.name:
            raise VaultReadRefused(f"{name}: outside the vault ('..' and absolute paths are not read)")
        folder = str(clean.parent) if str(clean.parent) != "." else ""
        if clean.name in WORKING_NOTES and (not folder or folder_key(clean.parent.name) == "captive"):
            return self._existing(self.root / self.layout.captive / clean.name)
        if folder:
            for candidate in (self.root / clean, *self._by_role(clean)):
                if candidate.is_file() or candidate.is_symlink():
                    return self._existing(candidate)
        wanted = clean.name.lower()
        matches = sorted(
            p
            for p in self.root.rglob("*.md")
            if p.name.lower() == wanted and p.is_file() and self.inside(p) and not self.is_template(p)
        )
        matches.sort(key=lambda p: len(p.relative_to(self.root).parts))
        return matches[0] if matches else None

    def _existing(self, path: Path) -> Path | None:
        if not (path.is_file() or path.is_symlink()):
            return None
        if not self.inside(path):
            raise VaultReadRefused(f"{self.relative(path)} links outside the vault; it was not read")
        return None if self.is_template(path) else path

    def _by_role(self, clean: PurePosixPath) -> list[Path]:
        """``Captive/…``, ``Periodic/…``, ``Systemic/…`` under the layout's folders of those names."""
        head, rest = folder_key(clean.parts[0]), PurePosixPath(*clean.parts[1:])
        roles = self.layout.roles()
        return [self.root / roles[head] / rest] if head in roles and rest.parts else []

    def people_index(self) -> list[tuple[Path, PersonKeys]]:
        """Each People note with what it answers to (hub notes left out)."""
        index = []
        for note in self.notes(self.layout.people):
            if self.is_hub(note):
                continue
            text = self._text(note)
            title = _H1.search(text)
            index.append(
                (note, PersonKeys.of(note.stem, front_matter(text), title.group(1) if title else ""))
            )
        return index

    def _text(self, path: Path) -> str:
        try:
            return self.read(path)
        except SourceUnavailable:
            return ""

    def person_note(self, who: str) -> Path | None:
        """The People note for a name or email (see :func:`match_person`)."""
        index = self.people_index()
        found = match_person(who, [keys for _, keys in index])
        return next((p for p, keys in index if keys is found), None)

    def is_hub(self, path: Path) -> bool:
        """An index or hub note (``✱ Projects.md``, ``Projects.md`` in Projects, ``MOC``)."""
        stem = path.stem.strip()
        key = folder_key(re.sub(r"[^\w\s-]", "", stem))
        if stem.startswith(HUB_MARKS) or key in HUB_NAMES or key == folder_key(path.parent.name):
            return True
        if key.endswith((" moc", " index", " hub")):
            return True
        meta = self.meta(path)
        kinds = [meta.get("type"), meta.get("kind"), *(meta.get("tags") or [])]
        return any(str(k).strip("#").lower() in HUB_TYPES for k in kinds if k)

    def active_projects(self) -> list[Path]:
        """Project notes whose ``status`` is absent or not done/archived/paused/…, hubs left out."""
        active = []
        for note in self.notes(self.layout.projects):
            if self.is_hub(note):
                continue
            status = str(self.meta(note).get("status", ""))
            if status.strip().lower() not in INACTIVE:
                active.append(note)
        return active

    def directives(self) -> list[Path]:
        """The Directives folder's notes, else directive-like notes in Systemic."""
        found = self.notes(self.layout.directives)
        if found:
            return found
        names = ("directive", "profile", "preferences")
        return [p for p in self.notes(self.layout.systemic) if p.stem.lower().startswith(names)]

    def calendar_files(self) -> list[Path]:
        folder = self.root / self.layout.calendars
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.ics") if self.inside(p))

    def periodic_folder(self, period: str) -> Path | None:
        """``Periodic/Daily`` (or ``Weekly``, ``Monthly``) as this vault names it."""
        base = self.root / self.layout.periodic
        if not base.is_dir():
            return None
        names = PERIODIC[period]
        return next((p for p in sorted(base.iterdir()) if p.is_dir() and folder_key(p.name) in names), None)

    def periodic_note(self, period: str, when: date) -> Path | None:
        """The periodic note for ``when``: ``Daily/2026-12-01.md``, ``Weekly/2026-W49.md``,
        ``Monthly/2026-12.md`` (in year subfolders too)."""
        folder = self.periodic_folder(period)
        if folder is None:
            return None
        iso = when.isocalendar()
        stem = {
            "daily": when.isoformat(),
            "weekly": f"{iso.year}-W{iso.week:02d}",
            "monthly": when.strftime("%Y-%m"),
        }[period]
        found = sorted(p for p in folder.rglob(f"{stem}.md") if self.inside(p))
        return found[0] if found else None
