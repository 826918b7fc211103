"""SKILL.md files: YAML front matter, then markdown sections.

Parsing is pure (text in, value out) and every problem names the file and line, because a
skill author fixes a typo in the file, not in a stack trace. Headings inside fenced code
blocks are prose, not sections: the seed's own examples put ``## Context`` inside fences.

Front matter is read as leniently as the agent tools these files come from read it: an
unquoted ``: `` inside a value (``description: Daily ritual: plan the day``) is part of the
value, the flags may sit under ``metadata:``, and ``name`` defaults to the folder's name. A
folder is loaded skill by skill (:func:`load_skills`), so a file that still cannot be read is
named and the others run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
_KNOWN = ("name", "description", "arguments", "argument-hint", *_FLAGS)
_PLAIN_VALUE = re.compile(r"^(?P<head>\s*[A-Za-z0-9_][\w-]*:[ \t]+)(?P<value>[^'\"\[{|>&*!%@`#\s].*?)\s*$")
_TRUTH = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


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
    steps: tuple[Section, ...] = ()
    argument_hint: str = ""

    @property
    def runs_orchestrated(self) -> bool:
        """Orchestrated only with the flag *and* a Context section; otherwise it runs directly."""
        return self.orchestrated and self.context is not None

    @property
    def prose_text(self) -> str:
        """What is executed: the whole body after Context, every section in order (a short
        ``## Validate`` first, then the session, then the sections that write), or the whole
        body when the skill runs directly. The seed's "first section" describes its example."""
        if self.runs_orchestrated and self.prose is not None:
            return self.prose.text
        return self.body

    def default_for(self, argument: str) -> str | None:
        arg = self.arguments.get(argument)
        return arg.default if arg else None


def parse_skill(text: str, path: str = "SKILL.md", default_name: str | None = None) -> SkillFile:
    """Parse one SKILL.md's text; raises SkillFileError naming ``path`` and the line. Without
    a ``name``, the skill is called ``default_name`` (its folder's name) when one is given."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise SkillFileError(path, 1, "expected front matter: the file must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise SkillFileError(path, 1, "front matter opened here is never closed with a '---' line")
    meta, key_lines = _front_matter("\n".join(lines[1:end]), path)
    if default_name and "name" not in meta:
        meta["name"] = default_name
    body_start = end + 2  # 1-based line number of the first body line
    body = "\n".join(lines[end + 1 :])
    sections = _sections(lines[end + 1 :], body_start)
    return _build(meta, key_lines, path, body, sections, lines)


def load_skill(path: Path) -> SkillFile:
    """Read and parse one SKILL.md."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillFileError(str(path), None, f"cannot read: {exc}") from None
    return parse_skill(text, str(path), default_name=path.parent.name)


@dataclass(frozen=True)
class LoadedSkills:
    """A folder's skills by name, and each file that could not be read, by its folder's name."""

    skills: dict[str, SkillFile] = field(default_factory=dict)
    problems: dict[str, SkillFileError] = field(default_factory=dict)


def load_skills(folder: Path) -> LoadedSkills:
    """Every ``*/SKILL.md`` under ``folder``, one at a time: a file that cannot be read, or a
    second skill of one name, is kept as a problem under its folder's name; the rest load."""
    loaded = LoadedSkills()
    for file in sorted(folder.glob("*/SKILL.md")):
        try:
            skill = load_skill(file)
        except SkillFileError as exc:
            loaded.problems[file.parent.name] = exc
            continue
        if skill.name in loaded.skills:
            first = loaded.skills[skill.name].path
            problem = SkillFileError(str(file), 1, f"skill {skill.name!r} is also defined in {first}")
            loaded.problems[file.parent.name] = problem
            continue
        loaded.skills[skill.name] = skill
    return loaded


def load_skill_dir(folder: Path) -> dict[str, SkillFile]:
    """Every ``*/SKILL.md`` under ``folder`` by skill name, strictly: the first file that
    cannot be read, or a second skill of one name, is raised."""
    loaded = load_skills(folder)
    if loaded.problems:
        raise next(iter(loaded.problems.values()))
    return loaded.skills


def lenient(text: str) -> str:
    """Pure: front matter with each plain value that holds ``: `` quoted, line for line, as
    agent tools read ``description: Daily ritual: plan the day``."""
    out = []
    for line in text.splitlines():
        match = _PLAIN_VALUE.match(line)
        if match and ": " in match.group("value"):
            out.append(match.group("head") + json.dumps(match.group("value"), ensure_ascii=False))
        else:
            out.append(line)
    return "\n".join(out)


def _yaml(text: str) -> tuple[yaml.Node | None, Any]:
    return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)


def _front_matter(text: str, path: str) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        node, data = _yaml(text)
    except yaml.YAMLError as exc:
        try:
            node, data = _yaml(lenient(text))
        except yaml.YAMLError:
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


def _flag(meta: dict[str, Any], flag: str, path: str, line: int) -> bool:
    """A flag at the top or under ``metadata:`` (the top wins): true/false, or yes/no as text."""
    nested = meta.get("metadata")
    value = meta.get(flag, nested.get(flag, False) if isinstance(nested, dict) else False)
    if isinstance(value, str) and value.strip().lower() in _TRUTH:
        value = _TRUTH[value.strip().lower()]
    if not isinstance(value, bool):
        raise SkillFileError(path, line, f"{flag} must be true or false, got {value!r}")
    return value


def _build(
    meta: dict[str, Any],
    key_lines: dict[str, int],
    path: str,
    body: str,
    sections: tuple[Section, ...],
    lines: list[str],
) -> SkillFile:
    def line(key: str) -> int:
        return key_lines.get(key, key_lines.get("metadata", 2))

    name = meta.get("name")
    if name is None:
        raise SkillFileError(path, 2, "front matter needs a name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SkillFileError(path, line("name"), f"name must be letters, digits, - and _, got {name!r}")
    description = meta.get("description", "")
    if not isinstance(description, str):
        raise SkillFileError(path, line("description"), "description must be text")
    flags = {flag: _flag(meta, flag, path, line(flag)) for flag in _FLAGS}
    hint = meta.get("argument-hint") or ""
    hint = " ".join(str(h) for h in hint) if isinstance(hint, list) else str(hint)
    arguments = _arguments(meta.get("arguments"), path, line("arguments"))
    contexts = [s for s in sections if s.level == 2 and s.title.strip().lower() == "context"]
    if len(contexts) > 1:
        raise SkillFileError(
            path, contexts[1].line, f"a second '## Context' section (the first is at line {contexts[0].line})"
        )
    context = contexts[0] if contexts else None
    bullets: tuple[Bullet, ...] = ()
    prose = None
    steps: tuple[Section, ...] = ()
    if context is not None and flags["orchestrated"]:
        bullets = _bullets(context)
        if not bullets:
            raise SkillFileError(path, context.line, "'## Context' lists no needs: write one per '- ' bullet")
        steps = tuple(s for s in sections if s.line > context.line and s.level <= 2)
        if not steps:
            raise SkillFileError(path, context.line, "nothing to execute: add a section after '## Context'")
        text = "\n".join(lines[steps[0].line - 1 :]).strip("\n")
        prose = Section(steps[0].title, steps[0].level, steps[0].line, text, steps[0].line)
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
        steps=steps,
        argument_hint=hint.strip(),
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
