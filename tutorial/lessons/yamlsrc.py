"""Parse YAML into plain Python values that remember their line numbers.

The lint must name the line of every problem, so mappings and lists are returned as `LMap` and
`LList` (dict/list subclasses) carrying the line of themselves, of each key and of each item.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from tutorial.lessons.safeyaml import BoundedLoader, YamlLimitError


class LMap(dict):
    """A mapping with `.line` (1-based) and `.key_lines[key]`."""

    line: int = 1
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LList(list):
    """A list with `.line` (1-based) and `.item_lines[i]`."""

    line: int = 1
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


@dataclass(frozen=True)
class YamlIssue:
    """A problem found while reading YAML: 1-based line, optional field path, message."""

    line: int
    message: str
    field: str = ""


def _mark_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else 1


def syntax_issue(exc: yaml.YAMLError, text: str) -> YamlIssue:
    """Turn a PyYAML error into one issue with the line PyYAML reports."""
    if isinstance(exc, YamlLimitError):
        return YamlIssue(_mark_line(exc), f"YAML refused: {exc.problem}")
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return YamlIssue(line, f"character {exc.character!r} is not allowed in YAML; remove it")
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    detail = f"{problem} ({context})" if context else problem
    hint = ""
    if "\\t" in detail or "'\\t'" in repr(detail):
        hint = "; indent with spaces, never tabs"
    elif "mapping values are not allowed" in detail or "expected <block end>" in detail:
        hint = "; check the indentation of this line and the one before"
    return YamlIssue(_mark_line(exc), f"YAML syntax error: {detail}{hint}")


class _Converter:
    """Walk a composed node graph, building LMap/LList and collecting issues."""

    def __init__(self, loader: BoundedLoader):
        self.loader = loader
        self.issues: list[YamlIssue] = []
        self._active: set[int] = set()

    def convert(self, node: yaml.Node, path: str):
        if id(node) in self._active:
            self.issues.append(YamlIssue(node.start_mark.line + 1,
                                         "a YAML alias refers to itself; remove the recursion", path))
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path)
            return self._scalar(node, path)
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, path: str):
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.issues.append(YamlIssue(node.start_mark.line + 1,
                                         f"cannot read this value: {getattr(exc, 'problem', exc)}",
                                         path))
            return None

    def _mapping(self, node: yaml.MappingNode, path: str) -> LMap:
        out = LMap()
        out.line, out.key_lines = node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(YamlIssue(line, "keys must be plain words, not lists or "
                                             "mappings", path))
                continue
            key = self._scalar(key_node, path)
            key = key if isinstance(key, str) else key_node.value
            sub = f"{path}.{key}" if path else str(key)
            if key in out:
                self.issues.append(YamlIssue(line, f"duplicate key (first on line "
                                             f"{out.key_lines[key]}); keep only one", sub))
                continue
            out.key_lines[key] = line
            out[key] = self.convert(value_node, sub)
        return out

    def _sequence(self, node: yaml.SequenceNode, path: str) -> LList:
        out = LList()
        out.line, out.item_lines = node.start_mark.line + 1, []
        for index, item in enumerate(node.value):
            out.item_lines.append(item.start_mark.line + 1)
            out.append(self.convert(item, f"{path}[{index}]"))
        return out


def load_located(text: str):
    """Parse one YAML document. Returns (value, issues); value is None on a syntax error."""
    try:
        loader = BoundedLoader(text)
    except yaml.YAMLError as exc:  # the reader rejects control characters up front
        return None, [syntax_issue(exc, text)]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        converter = _Converter(loader)
        value = converter.convert(node, "")
        return value, converter.issues
    except yaml.YAMLError as exc:
        return None, [syntax_issue(exc, text)]
    except RecursionError:
        return None, [YamlIssue(1, "YAML nested too deeply; simplify the file")]
    finally:
        loader.dispose()
