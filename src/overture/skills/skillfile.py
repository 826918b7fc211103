"""SKILL.md files: YAML front matter, then markdown sections.

Parsing is pure (text in, value out) and every problem names the file and line, because a
skill author fixes a typo in the file, not in a stack trace. Headings inside fenced code
blocks are prose, not sections: the seed's own examples put ``## Context`` inside fences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from overture.errors import ValidationFailed

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*\S)\s*$")
_FLAGS = ("orchestrated", "internal", "disable-model-invocation")
_KNOWN = ("name", "description", "arguments", *_FLAGS)


class SkillFileError(ValidationFailed):
    """A SKILL.md file is invalid."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class Section:
    """One markdown section: its heading, level, the line of the heading, and its text."""

    title: str
    level: int
    line: int
    text: str
    text_line: int = 0


@dataclass(frozen=True, slots=True)
class Bullet:
    """One bullet of a Context section: a need in the author's own words."""

    text: str
    line: int


@dataclass(frozen=True, slots=True)
class Argument:
    """An argument the skill accepts, such as ``date``, with its default expression."""

    name: str
    description: str = ""
    default: str | None = None


@dataclass(frozen=True)
class SkillFile:
    """A parsed SKILL.md."""

    name: str
    description: str
    path: str
    orchestrated: bool
    internal: bool
    disable_model_invocation: bool
    arguments: Mapping[str, Argument]
    extra: Mapping[str, Any]
    body: str
    sections: tuple[Section, ...]
    context: Section | None = None
    bullets: tuple[Bullet, ...] = ()
    prose: Section | None = None

    @property
    def runs_orchestrated(self) -> bool:
        """Orchestrated only with the flag *and* a Context section; otherwise it runs directly."""
        return self.orchestrated and self.context is not None

    @property
    def prose_text(self) -> str:
        """What the model executes: the section after Context, or the whole body when direct."""
        if self.runs_orchestrated and self.prose is not None:
            return self.prose.text
        return self.body

    def default_for(self, argument: str) -> str | None:
        arg = self.arguments.get(argument)
        return arg.default if arg else None


def parse_skill(text: str, path: str = "SKILL.md") -> SkillFile:
    """Parse one SKILL.md's text; raises SkillFileError naming ``path`` and the line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise SkillFileError(path, 1, "expected front matter: the file must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise SkillFileError(path, 1, "front matter opened here is never closed with a '---' line")
    meta, key_lines = _front_matter("\n".join(lines[1:end]), path)
    body_start = end + 2  # 1-based line number of the first body line
    body = "\n".join(lines[end + 1 :])
    sections = _sections(lines[end + 1 :], body_start)
    return _build(meta, key_lines, path, body, sections)


def load_skill(path: Path) -> SkillFile:
    """Read and parse one SKILL.md."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillFileError(str(path), None, f"cannot read: {exc}") from None
    return parse_skill(text, str(path))


def load_skill_dir(folder: Path) -> dict[str, SkillFile]:
    """Every ``*/SKILL.md`` under ``folder`` by skill name; two skills with one name is an error."""
    found: dict[str, SkillFile] = {}
    for file in sorted(folder.glob("*/SKILL.md")):
        skill = load_skill(file)
        if skill.name in found:
            raise SkillFileError(
                str(file), 1, f"skill {skill.name!r} is also defined in {found[skill.name].path}"
            )
        found[skill.name] = skill
    return found


def _front_matter(text: str, path: str) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise SkillFileError(path, line, f"front matter is not valid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode | type(None)):
        raise SkillFileError(path, 2, "front matter must be a mapping of keys to values")
    key_lines = {}
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            key_lines[str(key.value)] = key.start_mark.line + 2
    return data, key_lines


def _sections(lines: list[str], first_line: int) -> tuple[Section, ...]:
    heads: list[tuple[int, int, str]] = []
    fenced = False
    for offset, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            heads.append((offset, len(match.group(1)), match.group(2)))
    sections = []
    for i, (offset, level, title) in enumerate(heads):
        stop = next((o for o, lv, _ in heads[i + 1 :] if lv <= level), len(lines))
        raw = lines[offset + 1 : stop]
        skipped = next((n for n, text in enumerate(raw) if text.strip()), len(raw))
        text = "\n".join(raw[skipped:]).rstrip()
        sections.append(Section(title, level, first_line + offset, text, first_line + offset + 1 + skipped))
    return tuple(sections)


def _bullets(section: Section) -> tuple[Bullet, ...]:
    found = []
    fenced = False
    for offset, line in enumerate(section.text.splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _BULLET.match(line)
        if match:
            found.append(Bullet(match.group(2), section.text_line + offset))
    return tuple(found)


def _build(
    meta: dict[str, Any], key_lines: dict[str, int], path: str, body: str, sections: tuple[Section, ...]
) -> SkillFile:
    def line(key: str) -> int:
        return key_lines.get(key, 2)

    name = meta.get("name")
    if name is None:
        raise SkillFileError(path, 2, "front matter needs a name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SkillFileError(path, line("name"), f"name must be letters, digits, - and _, got {name!r}")
    description = meta.get("description", "")
    if not isinstance(description, str):
        raise SkillFileError(path, line("description"), "description must be text")
    flags = {}
    for flag in _FLAGS:
        value = meta.get(flag, False)
        if not isinstance(value, bool):
            raise SkillFileError(path, line(flag), f"{flag} must be true or false, got {value!r}")
        flags[flag] = value
    arguments = _arguments(meta.get("arguments"), path, line("arguments"))
    contexts = [s for s in sections if s.level == 2 and s.title.strip().lower() == "context"]
    if len(contexts) > 1:
        raise SkillFileError(
            path, contexts[1].line, f"a second '## Context' section (the first is at line {contexts[0].line})"
        )
    context = contexts[0] if contexts else None
    bullets: tuple[Bullet, ...] = ()
    prose = None
    if context is not None and flags["orchestrated"]:
        bullets = _bullets(context)
        if not bullets:
            raise SkillFileError(path, context.line, "'## Context' lists no needs: write one per '- ' bullet")
        after = [s for s in sections if s.line > context.line and s.level <= 2]
        if not after:
            raise SkillFileError(path, context.line, "nothing to execute: add a section after '## Context'")
        prose = after[0]
    return SkillFile(
        name=name,
        description=description.strip(),
        path=path,
        orchestrated=flags["orchestrated"],
        internal=flags["internal"],
        disable_model_invocation=flags["disable-model-invocation"],
        arguments=MappingProxyType(arguments),
        extra=MappingProxyType({k: v for k, v in meta.items() if k not in _KNOWN}),
        body=body.strip("\n"),
        sections=sections,
        context=context,
        bullets=bullets,
        prose=prose,
    )


def _arguments(raw: Any, path: str, line: int) -> dict[str, Argument]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SkillFileError(path, line, "arguments must map each argument's name to its description")
    found = {}
    for name, spec in raw.items():
        if isinstance(spec, str) or spec is None:
            found[str(name)] = Argument(str(name), spec or "")
        elif isinstance(spec, dict) and set(spec) <= {"description", "default"}:
            default = spec.get("default")
            found[str(name)] = Argument(
                str(name), str(spec.get("description", "")), None if default is None else str(default)
            )
        else:
            raise SkillFileError(
                path, line, f"argument {name!r}: expected a description or {{description, default}}"
            )
    return found
