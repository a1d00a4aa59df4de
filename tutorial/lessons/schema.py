"""Generate the JSON Schema (draft 2020-12) for lesson files from spec.py and checkspec.py.

`python -m tutorial.lessons.schema > tutorial/lessons/lesson.schema.json` refreshes the shipped
file; a test keeps the two identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tutorial.lessons.checkspec import CHECK_KINDS, COMMON_FIELDS
from tutorial.lessons.spec import (OBJECTS, SLUG_PATTERN, Const, Field, ListOf, MapOf, ObjSpec,
                                   Ref, Scalar)

SCHEMA_PATH = Path(__file__).with_name("lesson.schema.json")


def _type(typ: Any) -> dict:
    if isinstance(typ, Const):
        return {"const": typ.value}
    if isinstance(typ, Scalar):
        if typ.name == "slug":
            return {"type": "string", "pattern": SLUG_PATTERN}
        return {"type": typ.name}
    if isinstance(typ, ListOf):
        out = {"type": "array", "items": _type(typ.item)}
        if typ.min_items:
            out["minItems"] = typ.min_items
        return out
    if isinstance(typ, MapOf):
        return {"type": "object", "propertyNames": {"pattern": typ.key_pattern},
                "additionalProperties": _type(typ.value)}
    return {"$ref": f"#/$defs/{typ.name}"}


def _field(f: Field) -> dict:
    out = _type(f.type)
    if f.doc:
        out = {**out, "description": f.doc}
    if f.default is not None and not isinstance(f.type, Ref):
        out = {**out, "default": list(f.default) if isinstance(f.default, tuple) else f.default}
    return out


def _object(spec: ObjSpec) -> dict:
    out: dict = {"type": "object",
                 "properties": {k: _field(f) for k, f in spec.fields.items()},
                 "additionalProperties": False}
    required = [k for k, f in spec.fields.items() if f.required]
    if required:
        out["required"] = required
    if spec.one_of:
        out["allOf"] = [{"oneOf": [{"required": [k]} for k in group]} for group in spec.one_of]
    if spec.min_props:
        out["minProperties"] = spec.min_props
    return out


def _check() -> dict:
    branches = []
    for name, kind in CHECK_KINDS.items():
        then = _object(ObjSpec({**COMMON_FIELDS, **kind.fields}, kind.one_of))
        then["description"] = f"passes when {kind.passes_when}"
        branches.append({"if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                         "then": then})
    return {"type": "object", "required": ["kind"],
            "properties": {"kind": {"enum": list(CHECK_KINDS)}}, "allOf": branches}


def build_schema() -> dict:
    defs = {name: _object(spec) for name, spec in OBJECTS.items() if name != "lesson"}
    defs["check"] = _check()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "gateway-tutorial lesson, format version 1", **_object(OBJECTS["lesson"]),
            "$defs": defs}


def render() -> str:
    return json.dumps(build_schema(), indent=2) + "\n"


def load_schema() -> dict:
    """The shipped schema, as a dict."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


if __name__ == "__main__":
    print(render(), end="")
