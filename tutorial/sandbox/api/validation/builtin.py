"""The Kubernetes 1.32 OpenAPI definitions of the built-in kinds (data/, see its README.md).

Loaded once, lazily (the TUI never pays for them). `definition_for` finds a kind's schema;
`components` gives a group/version's schemas in OpenAPI v3 form for /openapi/v3, so
`kubectl explain pods` and `kubectl explain deployment.spec.template` answer with the
upstream descriptions.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "kubernetes-1.32-definitions.json.gz"
REF_V2, REF_V3 = "#/definitions/", "#/components/schemas/"


@functools.lru_cache(maxsize=1)
def definitions() -> dict[str, dict]:
    """Definition name (io.k8s.api.core.v1.Pod) -> schema, with $refs in v2 form."""
    return json.loads(gzip.decompress(DATA.read_bytes()))["definitions"]


@functools.lru_cache(maxsize=1)
def _by_gvk() -> dict[tuple[str, str, str], str]:
    found = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            found.setdefault((gvk.get("group", ""), gvk["version"], gvk["kind"]), name)
    return found


def definition_for(group: str, version: str, kind: str) -> str | None:
    """The definition name of a built-in kind, or None when 1.32 has no such kind."""
    return _by_gvk().get((group, version, kind))


def ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref")
    return ref[len(REF_V2):] if isinstance(ref, str) and ref.startswith(REF_V2) else None


def _closure(names: list[str]) -> list[str]:
    defs, seen, todo = definitions(), set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        todo.extend(_refs(defs[name]))
    return sorted(seen)


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"][len(REF_V2):]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def to_v3(node):
    """A v2 schema in the form the v3 endpoint shows: v3 refs, a $ref with siblings wrapped in allOf."""
    if isinstance(node, list):
        return [to_v3(v) for v in node]
    if not isinstance(node, dict):
        return node
    is_ref = isinstance(node.get("$ref"), str)  # JSONSchemaProps also has a *property* named $ref
    out = {k: to_v3(v) for k, v in node.items() if not (is_ref and k == "$ref")}
    if is_ref:
        ref = {"$ref": REF_V3 + node["$ref"][len(REF_V2):]}
        return dict(out, allOf=[ref]) if out else ref
    return out


@functools.lru_cache(maxsize=64)
def components(group: str, version: str, kinds: tuple[str, ...]) -> dict[str, dict]:
    """The v3 `components/schemas` of the given kinds of one group/version, and all they refer to."""
    names = [n for n in (definition_for(group, version, k) for k in kinds) if n]
    return {name: to_v3(definitions()[name]) for name in _closure(names)}


OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@functools.lru_cache(maxsize=1)
def object_meta_components() -> dict[str, dict]:
    """ObjectMeta and what it refers to, in v3 form: custom kinds' documents point their metadata here."""
    return {name: to_v3(definitions()[name]) for name in _closure([OBJECT_META])}


def with_object_meta(schema: dict) -> dict:
    """A CRD's schema as the API server publishes it: metadata is a reference to ObjectMeta."""
    props = dict(schema.get("properties") or {})
    meta = definitions()["io.k8s.api.core.v1.Pod"]["properties"]["metadata"]
    props["metadata"] = {"allOf": [{"$ref": REF_V3 + OBJECT_META}], "description": meta.get("description", "")}
    return dict(schema, properties=props)


@functools.lru_cache(maxsize=64)
def digest(group: str, version: str, kinds: tuple[str, ...]) -> str:
    """A stable digest of components(...) for the /openapi/v3 index hashes (computed once)."""
    data = json.dumps(components(group, version, kinds), sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()
