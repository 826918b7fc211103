"""Packs: folders of sequences plus a Python module that registers skills and effects.

A built-in pack is a package under ``overture.packs`` with a ``sequences/`` folder and a
``register(registry)`` function; a pack on disk is a folder with ``sequences/`` and an
optional ``pack.py`` defining ``register``.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

from overture.core.schedules import ScheduleSpec, parse_schedule
from overture.engine.registry import Registry
from overture.errors import SequenceFileError, ValidationFailed
from overture.sequences import load_sequence_dir
from overture.sequences.expressions import Expressions
from overture.settings import Settings

BUILTIN = Path(__file__).resolve().parent.parent / "packs"


class PackInvalid(ValidationFailed):
    """A pack failed validation."""

    def __init__(self, errors: list[SequenceFileError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def _module_for(ref: str) -> tuple[Path, ModuleType | None]:
    path = Path(ref)
    is_path = "/" in ref or ref.startswith(".") or not (BUILTIN / ref).is_dir()
    if is_path and path.is_dir():
        code = path / "pack.py"
        if not code.exists():
            return path, None
        spec = importlib.util.spec_from_file_location(f"overture_pack_{path.name}", code)
        if spec is None or spec.loader is None:
            raise ValidationFailed(f"{code}: cannot be imported")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return path, module
    if (BUILTIN / ref).is_dir():
        return BUILTIN / ref, importlib.import_module(f"overture.packs.{ref}")
    raise ValidationFailed(f"pack {ref!r}: not a built-in pack and not a folder")


def load_pack(
    ref: str, registry: Registry, settings: Settings, expressions: Expressions | None = None
) -> Path:
    """Register one pack's code and sequences into ``registry``; returns its folder."""
    folder, module = _module_for(ref)
    if module is not None and hasattr(module, "register"):
        module.register(registry, settings)
    seq_dir = folder / "sequences"
    if seq_dir.is_dir():
        try:
            sequences = load_sequence_dir(seq_dir, expressions)
        except SequenceFileError as exc:
            raise PackInvalid([exc]) from None
        except ValidationFailed as exc:
            errors = getattr(exc, "errors", None)
            if errors:
                raise PackInvalid(list(errors)) from None
            raise
        for seq in sequences.values():
            registry.add_sequence(seq)
    schedules_file = folder / "schedules.yaml"
    if schedules_file.exists():
        for spec in load_schedules_file(schedules_file):
            registry.add_schedule(spec)
    return folder


def load_schedules_file(path: Path) -> list[ScheduleSpec]:
    """A pack's ``schedules.yaml``: ``schedules:`` followed by a list of schedule mappings."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PackInvalid([SequenceFileError(str(path), None, "(yaml)", str(exc))]) from None
    items = data.get("schedules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise PackInvalid([SequenceFileError(str(path), None, "schedules", "expected a list of schedules")])
    try:
        return [parse_schedule(item, f"schedules[{i}]") for i, item in enumerate(items)]
    except ValueError as exc:
        raise PackInvalid([SequenceFileError(str(path), None, "schedules", str(exc))]) from None


def load_packs(
    refs: list[str], settings: Settings | None = None, expressions: Expressions | None = None
) -> Registry:
    """A registry with every pack loaded and cross-checked (each step's target exists)."""
    registry = Registry()
    settings = settings or Settings()
    for ref in refs:
        load_pack(ref, registry, settings, expressions)
    for i, item in enumerate(settings.schedules):
        try:
            registry.add_schedule(parse_schedule(item, f"overture.toml schedules[{i}]"))
        except ValueError as exc:
            raise PackInvalid([SequenceFileError("overture.toml", None, "schedules", str(exc))]) from None
    problems = registry.problems()
    if problems:
        raise PackInvalid(problems)
    return registry
