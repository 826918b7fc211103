"""YAML to plain data with the 1-based line of every path, duplicate keys caught (PyYAML
accepts them silently), so every later error can point at its line."""

from __future__ import annotations

import difflib
from types import MappingProxyType
from typing import Any

import yaml

from overture.errors import SequenceFileError
from overture.sequences.model import Loc


def _kind(value: Any) -> str:
    """A value's type as a YAML author would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _dotted(loc: Loc) -> str:
    """("steps", 2, "on_failure") -> "steps[2].on_failure"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(file)"


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _freeze(value: Any) -> Any:
    """Read-only copy of step inputs: mappings become proxies, lists become tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


class _Composer:
    """YAML nodes to plain data, remembering each path's 1-based line and duplicate keys."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines: dict[Loc, int] = {}
        self.errors: list[SequenceFileError] = []
        self._loader = yaml.SafeLoader(text)

    def load(self) -> Any:
        try:
            node = self._loader.get_single_node()
            return None if node is None else self._plain(node, (), frozenset())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            line = mark.line + 1 if mark is not None else None
            problem = f"YAML syntax error: {problem}"
            raise SequenceFileError(self.path, line, "(yaml)", problem) from None
        except yaml.YAMLError as exc:
            raise SequenceFileError(self.path, None, "(yaml)", f"YAML error: {exc}") from None
        finally:
            self._loader.dispose()

    def _fail(self, loc: Loc, node: yaml.Node, problem: str) -> None:
        line = node.start_mark.line + 1
        self.errors.append(SequenceFileError(self.path, line, _dotted(loc), problem))

    def _plain(self, node: yaml.Node, loc: Loc, active: frozenset[int]) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, loc)
        if id(node) in active:
            self._fail(loc, node, "recursive alias")
            return None
        inner = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            return [self._plain(item, (*loc, i), inner) for i, item in enumerate(node.value)]
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._fail(loc, key_node, "mapping keys must be plain words")
                continue
            key = self._scalar(key_node, loc)
            sub = (*loc, key if isinstance(key, str) else str(key))
            line = key_node.start_mark.line + 1
            if key in first_line:
                problem = f"duplicate key {key!r} (first on line {first_line[key]})"
                self._fail(sub, key_node, problem)
                continue
            first_line[key] = line
            self.lines[sub] = line
            out[key] = self._plain(value_node, sub, inner)
        return out

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self._fail(loc, node, f"cannot read this value: {exc}")
            return None
