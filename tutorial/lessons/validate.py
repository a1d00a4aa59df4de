"""Structural validation of one parsed lesson against spec.OBJECTS and the check kinds.

Returns a cleaned copy holding only well-typed known fields (each LMap gets `.path`, its field
path), so the semantic checks and the model builder never meet a wrong type.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from tutorial.lessons.checkspec import CHECK_KINDS, COMMON_FIELDS
from tutorial.lessons.spec import (OBJECTS, Const, Field, ListOf, MapOf, ObjSpec, Ref, Scalar,
                                   describe, expected, type_ok)
from tutorial.lessons.yamlsrc import LList, LMap, YamlIssue

BAD = object()  # marks a value that failed validation


def suggest(word: str, choices) -> str:
    """ " (did you mean 'x'?)" for the closest choice, or "" when nothing is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Validator:
    def __init__(self) -> None:
        self.issues: list[YamlIssue] = []

    def problem(self, line: int, path: str, message: str) -> None:
        self.issues.append(YamlIssue(line, message, path))

    def value(self, value: Any, typ: Any, path: str, line: int) -> Any:
        """Validate one value against a type; return the cleaned value or BAD."""
        if isinstance(typ, (Scalar, Const)):
            if type_ok(typ, value):
                return value
            hint = ""
            if typ == Scalar("string") and isinstance(value, (bool, int, float)):
                hint = " (put it in quotes)"
            self.problem(line, path, f"got {describe(value)}, expected {expected(typ)}{hint}")
            return BAD
        if isinstance(typ, ListOf):
            return self._list(value, typ, path, line)
        if isinstance(typ, MapOf):
            return self._map(value, typ, path, line)
        return self.object(value, typ.name, path, line)

    def _list(self, value: Any, typ: ListOf, path: str, line: int) -> Any:
        if not isinstance(value, list):
            self.problem(line, path, f"got {describe(value)}, expected {expected(typ)}")
            return BAD
        if len(value) < typ.min_items:
            self.problem(line, path, f"the list is empty, expected at least {typ.min_items} "
                         f"item(s)")
        out = LList()
        out.line, out.item_lines = getattr(value, "line", line), []
        for i, item in enumerate(value):
            item_line = value.line_of(i) if isinstance(value, LList) else line
            cleaned = self.value(item, typ.item, f"{path}[{i}]", item_line)
            if cleaned is not BAD:
                out.append(cleaned)
                out.item_lines.append(item_line)
        return out

    def _map(self, value: Any, typ: MapOf, path: str, line: int) -> Any:
        if not isinstance(value, LMap):
            self.problem(line, path, f"got {describe(value)}, expected {expected(typ)}")
            return BAD
        out = _new_map(value, path)
        for key, item in value.items():
            key_line = value.line_of(key)
            if not (isinstance(key, str) and re.match(typ.key_pattern, key)):
                self.problem(key_line, _join(path, str(key)), f"bad name, expected lowercase "
                             f"letters, digits, '_' or '-' matching {typ.key_pattern}")
                continue
            cleaned = self.value(item, typ.value, _join(path, key), key_line)
            if cleaned is not BAD:
                out[key] = cleaned
                out.key_lines[key] = key_line
        return out

    def object(self, value: Any, name: str, path: str, line: int) -> Any:
        if not isinstance(value, LMap):
            what = "a check (a mapping with 'kind')" if name == "check" else expected(Ref(name))
            self.problem(line, path, f"got {describe(value)}, expected {what}")
            return BAD
        if name == "check":
            return self._check(value, path)
        return self.fields(value, OBJECTS[name], path)

    def _check(self, value: LMap, path: str) -> Any:
        kind = value.get("kind")
        spec_fields = dict(COMMON_FIELDS)
        one_of: tuple = ()
        if isinstance(kind, str) and kind in CHECK_KINDS:
            spec_fields.update(CHECK_KINDS[kind].fields)
            one_of = CHECK_KINDS[kind].one_of
        elif "kind" in value:
            self.problem(value.line_of("kind"), _join(path, "kind"),
                         f"unknown check kind {kind!r}{suggest(kind, CHECK_KINDS)}; "
                         f"expected one of: {', '.join(CHECK_KINDS)}")
            return BAD
        else:
            self.problem(value.line, _join(path, "kind"),
                         f"missing required key, expected one of: {', '.join(CHECK_KINDS)}")
            return BAD
        return self.fields(value, ObjSpec(spec_fields, one_of), path,
                           what=f"check kind {kind!r}")

    def fields(self, value: LMap, spec: ObjSpec, path: str, what: str = "") -> LMap:
        """Check keys (unknown, missing, one-of) and each field's type."""
        out = _new_map(value, path)
        for key, item in value.items():
            key_line = value.line_of(key)
            sub = _join(path, str(key))
            field: Field | None = spec.fields.get(key)
            if field is None:
                self.problem(key_line, sub, f"unknown key{suggest(key, spec.fields)}; "
                             f"expected one of: {', '.join(spec.fields)}"
                             + (f" (for {what})" if what else ""))
                continue
            cleaned = self.value(item, field.type, sub, key_line)
            if cleaned is not BAD:
                out[key] = cleaned
                out.key_lines[key] = key_line
        self._required(value, spec, path)
        return out

    def _required(self, value: LMap, spec: ObjSpec, path: str) -> None:
        for key, field in spec.fields.items():
            if field.required and key not in value:
                self.problem(value.line, _join(path, key),
                             f"missing required key, expected {expected(field.type)}")
        for group in spec.one_of:
            present = [k for k in group if k in value]
            if len(present) != 1:
                wrong = "both " + " and ".join(present) if present else "neither"
                self.problem(value.line, path or "(top level)",
                             f"{wrong} given, expected exactly one of: {', '.join(group)}")
        if spec.min_props and len(value) < spec.min_props:
            self.problem(value.line, path, f"empty, expected at least one of: "
                         f"{', '.join(spec.fields)}")


def _new_map(source: LMap, path: str) -> LMap:
    out = LMap()
    out.line, out.key_lines, out.path = source.line, {}, path
    return out


def validate_lesson(data: Any) -> tuple[Any, list[YamlIssue]]:
    """Validate a parsed lesson document; return (cleaned LMap or BAD, issues)."""
    validator = Validator()
    if not isinstance(data, LMap):
        validator.problem(getattr(data, "line", 1), "",
                          f"the file holds {describe(data)}, expected a lesson (a mapping with "
                          f"format_version, id, title, order, summary, steps)")
        return BAD, validator.issues
    cleaned = validator.fields(data, OBJECTS["lesson"], "")
    return cleaned, validator.issues
