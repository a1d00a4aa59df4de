"""Parse YAML into plain Python values that remember their line numbers.

The lint must name the line of every problem, so mappings and lists are returned as `LMap` and
`LList` (dict/list subclasses) carrying the line of themselves, of each key and of each item.
"""

from __future__ import annotations

import bisect
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


class LineOf:
    """The 1-based line of a mark, counting only '\\n' as editors and grep do (PyYAML also
    counts U+2028, U+2029 and U+0085, which would shift every later FILE:LINE)."""

    def __init__(self, text: str):
        self._breaks = [i for i, ch in enumerate(text) if ch == "\n"]

    def __call__(self, mark) -> int:
        return bisect.bisect_left(self._breaks, mark.index) + 1


def _mark_line(exc: yaml.YAMLError, line_of=None) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return 1
    return line_of(mark) if line_of is not None else mark.line + 1


def syntax_issue(exc: yaml.YAMLError, text: str) -> YamlIssue:
    """Turn a PyYAML error into one issue with the line of its mark."""
    line_of = LineOf(text)
    if isinstance(exc, YamlLimitError):
        return YamlIssue(_mark_line(exc, line_of), f"YAML refused: {exc.problem}")
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
    return YamlIssue(_mark_line(exc, line_of), f"YAML syntax error: {detail}{hint}")


class _Converter:
    """Walk a composed node graph, building LMap/LList and collecting issues."""

    def __init__(self, loader: BoundedLoader, line: LineOf):
        self.loader, self.line = loader, line
        self.issues: list[YamlIssue] = []
        self._active: set[int] = set()

    def convert(self, node: yaml.Node, path: str):
        if id(node) in self._active:
            self.issues.append(YamlIssue(self.line(node.start_mark),
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
            self.issues.append(YamlIssue(self.line(node.start_mark),
                                         f"cannot read this value: {getattr(exc, 'problem', exc)}",
                                         path))
            return None

    def _mapping(self, node: yaml.MappingNode, path: str) -> LMap:
        out = LMap()
        out.line, out.key_lines = self.line(node.start_mark), {}
        for key_node, value_node in node.value:
            line = self.line(key_node.start_mark)
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
        out.line, out.item_lines = self.line(node.start_mark), []
        for index, item in enumerate(node.value):
            out.item_lines.append(self.line(item.start_mark))
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
        converter = _Converter(loader, LineOf(text))
        value = converter.convert(node, "")
        return value, converter.issues
    except yaml.YAMLError as exc:
        return None, [syntax_issue(exc, text)]
    except RecursionError:
        return None, [YamlIssue(1, "YAML nested too deeply; simplify the file")]
    finally:
        loader.dispose()
