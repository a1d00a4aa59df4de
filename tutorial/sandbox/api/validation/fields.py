"""Field validation of built-in kinds against the Kubernetes 1.32 schemas, as the API server decodes.

The server decodes a typed object strictly: a field the Go type lacks is unknown
(`unknown field "spec.template.spec.containers[0].imagePullPolice"`), a key given twice is a
duplicate (`duplicate field "spec.replicas"`), both reported in document order; with
fieldValidation=Strict they refuse the write, with Warn (the server's default) they become
Warning headers, with Ignore nothing is said; either way unknown fields are dropped. A value of
the wrong JSON type is never decodable: `json: cannot unmarshal string into Go struct field
DeploymentSpec.spec.replicas of type int32` (the first one found, like the Go decoder).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tutorial.sandbox.api.validation.builtin import definitions, ref_name

_ANY = {"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"}
_SCALAR_OR_NUMBER = {"io.k8s.apimachinery.pkg.util.intstr.IntOrString", "io.k8s.apimachinery.pkg.api.resource.Quantity"}
_GO_SCALARS = {("integer", "int32"): "int32", ("integer", "int64"): "int64", ("number", "double"): "float64",
               ("boolean", ""): "bool", ("string", ""): "string", ("string", "byte"): "[]uint8"}


class Pairs(list):
    """A JSON object kept as its (key, value) pairs, so duplicate keys stay visible."""


def parse_pairs(raw: bytes) -> Any:
    """The body as nested Pairs (None when it is not JSON, e.g. YAML or protobuf)."""
    try:
        return json.loads(raw, object_pairs_hook=Pairs)
    except (ValueError, UnicodeDecodeError):
        return None


def as_pairs(value: Any) -> Any:
    if isinstance(value, dict):
        return Pairs((k, as_pairs(v)) for k, v in value.items())
    if isinstance(value, list):
        return [as_pairs(v) for v in value]
    return value


@dataclasses.dataclass
class Findings:
    problems: list[str] = dataclasses.field(default_factory=list)   # unknown/duplicate, in document order
    unknown: list[list] = dataclasses.field(default_factory=list)   # paths (keys and indexes) to drop
    apply_paths: list[str] = dataclasses.field(default_factory=list)  # the same, as server-side apply names them
    type_error: str | None = None


def _go_type(schema: dict) -> str:
    name = ref_name(schema)
    if name:
        parts = name.split(".")
        return f"{parts[-2]}.{parts[-1]}"
    kind, fmt = schema.get("type", ""), schema.get("format", "")
    if kind == "array":
        return "[]" + _go_type(schema.get("items") or {})
    if kind == "object":
        return "map[string]" + _go_type(schema.get("additionalProperties") or {"type": "string"})
    return _GO_SCALARS.get((kind, fmt)) or _GO_SCALARS.get((kind, "")) or "interface {}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, Pairs) or not isinstance(value, list) else "array"


class _Walker:
    def __init__(self, findings: Findings):
        self.f = findings

    def mismatch(self, value: Any, schema: dict, ctx: tuple[str, str], decl: dict) -> None:
        if self.f.type_error is None:
            struct, field = ctx
            self.f.type_error = (f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                                 f"{struct}.{field} of type {_go_type(decl)}")

    def value(self, value: Any, decl: dict, path: list, ctx: tuple[str, str], smd: str = "") -> None:
        """Walk value against decl (a property schema, maybe a $ref); ctx = (Go struct, field path)."""
        if value is None:
            return
        name = ref_name(decl)
        schema = definitions().get(name, {}) if name else decl
        if name in _ANY or (not schema.get("type") and not schema.get("properties")):
            return
        if name in _SCALAR_OR_NUMBER:
            if isinstance(value, (list, Pairs, bool)):
                self.mismatch(value, schema, ctx, decl)
            return
        kind = schema.get("type")
        if kind == "object" or schema.get("properties"):
            return self.object(value, schema, decl, name, path, ctx, smd)
        if kind == "array":
            if not isinstance(value, list) or isinstance(value, Pairs):
                return self.mismatch(value, schema, ctx, decl)
            keys = decl.get("x-kubernetes-list-map-keys") or schema.get("x-kubernetes-list-map-keys") or []
            for n, item in enumerate(value):
                self.value(item, schema.get("items") or {}, path + [n], ctx, smd + _apply_index(item, keys, n))
            return
        if not _scalar_ok(value, kind):
            self.mismatch(value, schema, ctx, decl)

    def object(self, value: Any, schema: dict, decl: dict, name: str | None, path: list, ctx: tuple[str, str],
               smd: str) -> None:
        """A struct (named properties) or a map (additionalProperties)."""
        if not isinstance(value, Pairs):
            return self.mismatch(value, schema, ctx, decl)
        if schema.get("properties"):
            return self.fields(value, schema, path, name.split(".")[-1] if name else ctx[0], ctx[1], smd)
        extra = schema.get("additionalProperties")
        for key, sub in value:
            if isinstance(extra, dict):
                self.value(sub, extra, path + [key], ctx, f"{smd}.{key}")

    def fields(self, obj: Pairs, schema: dict, path: list, struct: str, field: str, smd: str = "") -> None:
        props, seen = schema.get("properties") or {}, set()
        for key, sub in obj:
            where = _render(path + [key])
            if key not in props:
                self.f.problems.append(f'unknown field "{where}"')
                self.f.unknown.append(path + [key])
                self.f.apply_paths.append(f"{smd}.{key}")
            elif key in seen:
                self.f.problems.append(f'duplicate field "{where}"')
            else:
                self.value(sub, props[key], path + [key], (struct, f"{field}.{key}".lstrip(".")), f"{smd}.{key}")
            seen.add(key)


def _apply_index(item: Any, keys: list[str], n: int) -> str:
    """A list item as server-side apply names it: [name="web"] by its map keys, else [n]."""
    found = dict(item) if isinstance(item, Pairs) else {}
    if keys and all(k in found for k in keys):
        return "[" + ",".join(f"{k}={json.dumps(found[k])}" for k in keys) + "]"
    return f"[{n}]"


def _scalar_ok(value: Any, kind: str | None) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float)
                                                                            and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _render(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def check(definition: str, body: Any) -> Findings:
    """Unknown and duplicate fields and the first type error of body (Pairs) against a kind's schema."""
    findings = Findings()
    schema = definitions()[definition]
    if isinstance(body, Pairs):
        _Walker(findings).fields(body, schema, [], definition.split(".")[-1], "")
    return findings


def duplicates(body: Any, path: list | None = None) -> list[str]:
    """Keys given twice anywhere in a body (Pairs), without a schema: patches and custom resources."""
    path = path or []
    found: list[str] = []
    if isinstance(body, Pairs):
        seen: set = set()
        for key, sub in body:
            if key in seen:
                found.append(f'duplicate field "{_render(path + [key])}"')
            else:
                found += duplicates(sub, path + [key])
            seen.add(key)
    elif isinstance(body, list):
        for n, item in enumerate(body):
            found += duplicates(item, path + [n])
    return found


def drop(obj: Any, paths: list[list]) -> None:
    """Remove the unknown fields (they cannot be decoded, so the server never stores them)."""
    for path in sorted(paths, key=len, reverse=True):
        node = obj
        for part in path[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if isinstance(node, dict):
            node.pop(path[-1], None)
