"""Checks of a custom object against its CRD schema that come before and around the CEL rules.

Wrong JSON types are reported the way the API server's OpenAPI validator words them
(`spec.port: Invalid value: "string": spec.port in body must be of type integer: "string"`).
Duplicates in list-type map/set lists are named as the real server does. Like the real server, CEL rules are not run when the object already has a blocking error
(wrong type, unsupported enum value, required field missing, too long, too many items): it says
so with one more cause instead.
"""

from __future__ import annotations

import json
from typing import Any

from tutorial.sandbox.api.validation import crdrules

Cause = tuple[str, str]
BLOCKED: Cause = ("<nil>", 'Invalid value: "null": some validation rules were not checked because the object was '
                           "invalid; correct the existing errors to complete validation")
_BLOCKING = ("Unsupported value", "Required value", "Too long", "Too many")
_JSON = {"string": str, "boolean": bool, "object": dict, "array": list}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    for name, kind in _JSON.items():
        if isinstance(value, kind):
            return name
    return "null"


def _type_ok(value: Any, schema: dict) -> bool:
    want = schema.get("type")
    if not want or value is None or schema.get("x-kubernetes-int-or-string"):
        return True
    got = _json_type(value)
    return got == want or (want == "number" and got == "integer")


def type_causes(value: Any, schema: dict, path: str = "") -> list[Cause]:
    """Values whose JSON type is not the schema's, as TypeInvalid causes."""
    if not isinstance(schema, dict):
        return []
    if not _type_ok(value, schema):
        here = path or "<root>"
        got = _json_type(value)
        return [(here, f'Invalid value: "{got}": {here} in body must be of type {schema["type"]}: "{got}"')]
    causes: list[Cause] = []
    if isinstance(value, dict):
        props, extra = schema.get("properties") or {}, schema.get("additionalProperties")
        for key, sub in value.items():
            if not path and key == "metadata":
                continue
            node = props.get(key, extra if isinstance(extra, dict) else None)
            if node is not None:
                causes += type_causes(sub, node, f"{path}.{key}" if path else key)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for n, item in enumerate(value):
            causes += type_causes(item, schema["items"], f"{path}[{n}]")
    return causes


def _go_value(value: Any) -> str:
    """A list item as Go's %#v prints the unstructured value in a Duplicate value cause."""
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}:{_go_value(v)}" for k, v in sorted(value.items()))
        return "map[string]interface {}{" + inner + "}"
    return json.dumps(value)


def list_causes(value: Any, schema: dict, path: str = "") -> list[Cause]:
    """Duplicates in x-kubernetes-list-type map (by its keys) and set lists: `Duplicate value: ...`."""
    causes: list[Cause] = []
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        kind, keys, seen = schema.get("x-kubernetes-list-type"), schema.get("x-kubernetes-list-map-keys"), []
        for n, item in enumerate(value):
            ident = {k: item.get(k) for k in keys if k in item} if kind == "map" and keys and \
                isinstance(item, dict) else item
            if kind in ("map", "set") and ident in seen:
                causes.append((f"{path}[{n}]", f"Duplicate value: {_go_value(ident)}"))
            seen.append(ident)
            causes += list_causes(item, schema["items"], f"{path}[{n}]")
    elif isinstance(value, dict):
        props, extra = schema.get("properties") or {}, schema.get("additionalProperties")
        for key, sub in value.items():
            node = props.get(key, extra if isinstance(extra, dict) else None)
            if node is not None and not (not path and key == "metadata"):
                causes += list_causes(sub, node, f"{path}.{key}" if path else key)
    return causes


def blocking(causes: list[Cause]) -> bool:
    """True when a cause is of a kind that stops the API server from running CEL rules."""
    return any(m.startswith(_BLOCKING) or "in body must be of type" in m for _, m in causes)


def crd_causes(schema: dict, obj: dict, old: dict | None, structural: list[Cause],
               notes: list | None = None) -> list[Cause]:
    """Every cause for obj: structural ones (given), wrong types, then CEL rules unless blocked."""
    causes = type_causes(obj, schema) + list(structural) + list_causes(obj, schema)
    if blocking(causes):
        return causes + [BLOCKED]
    return causes + crdrules.check_object(schema, obj, old, notes)
