"""Packs: folders of sequences plus Python code that registers skills, functions and effects.

A pack is a folder with ``sequences/`` (one YAML file per event type), optionally
``schedules.yaml``, and its code: a ``pack.py`` or, as the built-in packs under
``overture.packs`` have, an ``__init__.py``. The code may define ``register(registry, settings)``;
typed skills it defines with ``typed_skills.skill`` are registered without one. A folder's code is
imported as a package of its own, so ``pack.py`` may import the folder's other modules relatively
(``from .models import Transcript``). A built-in pack is named (``sales``) or given by its folder.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import yaml

from overture.core.schedules import ScheduleSpec, parse_schedule
from overture.engine.registry import Registry
from overture.engine.typed_skills import marked, source_of
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


def pack_folder(ref: str) -> Path:
    """The folder of a pack named in settings: a built-in pack's name or a path."""
    path = Path(ref)
    if ("/" in ref or ref.startswith(".") or not (BUILTIN / ref).is_dir()) and path.is_dir():
        return path.resolve()
    if (BUILTIN / ref).is_dir():
        return BUILTIN / ref
    raise ValidationFailed(f"pack {ref!r}: not a built-in pack and not a folder")


def _module_for(ref: str) -> tuple[Path, ModuleType | None]:
    folder = pack_folder(ref)
    if folder.parent == BUILTIN and (folder / "__init__.py").exists():
        return folder, _imported(
            folder / "__init__.py", lambda: importlib.import_module(f"overture.packs.{folder.name}")
        )
    init, code = folder / "__init__.py", folder / "pack.py"
    if not init.exists() and not code.exists():
        return folder, None
    package = _package_name(folder)
    module = _imported(init if init.exists() else code, lambda: _exec_package(package, folder))
    if code.exists():
        module = _imported(code, lambda: _exec_module(f"{package}.pack", code))
    return folder, module


def _package_name(folder: Path) -> str:
    """A module name of the folder's own: its name, and a hash of its path so two never clash."""
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:8]
    safe = re.sub(r"\W", "_", folder.name)
    return f"overture_pack_{safe}_{digest}"


def _exec_package(name: str, folder: Path) -> ModuleType:
    init = folder / "__init__.py"
    if init.exists():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
        if spec is None or spec.loader is None:
            raise ValidationFailed(f"{init}: cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    module = ModuleType(name, f"The pack in {folder}.")
    module.__path__ = [str(folder)]
    sys.modules[name] = module
    return module


def _exec_module(name: str, code: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, code)
    if spec is None or spec.loader is None:
        raise ValidationFailed(f"{code}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _imported(code: Path, load: Callable[[], ModuleType]) -> ModuleType:
    """Run ``load``; a pack whose code does not import is reported at its file and line."""
    try:
        return load()
    except (
        ValidationFailed,
        ImportError,
        SyntaxError,
        NameError,
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:
        raise PackInvalid([_code_error(code, exc)]) from None


def _code_error(code: Path, exc: BaseException) -> SequenceFileError:
    if isinstance(exc, SequenceFileError):
        return exc
    if isinstance(exc, SyntaxError):
        return SequenceFileError(
            exc.filename or str(code), exc.lineno, "(python)", f"syntax error: {exc.msg}"
        )
    folder = str(code.parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(folder)]
    where = frames[-1] if frames else None
    path, line = (where.filename, where.lineno) if where is not None else (str(code), None)
    return SequenceFileError(path, line, "(python)", f"{type(exc).__name__}: {exc}")


def _register(folder: Path, module: ModuleType, registry: Registry, settings: Settings) -> None:
    """Call the pack's ``register`` and add the typed skills its module defines."""
    code = Path(module.__file__ or folder / "pack.py")
    try:
        register = getattr(module, "register", None)
        if callable(register):
            register(registry, settings)
        for value in list(vars(module).values()):
            spec = marked(value)
            if spec is not None and registry.typed.get((spec.kind, spec.key)) is not spec:
                try:
                    registry.add(value)
                except ValueError as exc:
                    path, line = source_of(value)
                    raise SequenceFileError(path, line, spec.label, str(exc)) from None
    except (SequenceFileError, ValueError, TypeError) as exc:
        raise PackInvalid([_code_error(code, exc)]) from None


def user_pack_folders(refs: list[str]) -> list[Path]:
    """The folders of the packs that are not built in: the ones a person edits while Overture runs."""
    folders = [pack_folder(ref) for ref in refs]
    return [f for f in folders if f.parent != BUILTIN]


def reload_packs(registry: Registry, refs: list[str], settings: Settings) -> None:
    """Load the packs again from their files and, only if they are all valid, swap them into
    ``registry`` in place (the worker, intake and outbox hold that object). Raises PackInvalid
    and changes nothing otherwise. A folder's code is imported afresh, its own modules included;
    a built-in pack's code is not (only its files are read again)."""
    for folder in user_pack_folders(refs):
        prefix = _package_name(folder)
        for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
            del sys.modules[name]
    fresh = load_packs(refs, settings)
    vars(registry).update(vars(fresh))


def load_pack(
    ref: str, registry: Registry, settings: Settings, expressions: Expressions | None = None
) -> Path:
    """Register one pack's code and sequences into ``registry``; returns its folder."""
    folder, module = _module_for(ref)
    if module is not None:
        _register(folder, module, registry, settings)
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
