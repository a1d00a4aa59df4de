"""OpenAPI v3 documents: operations kubectl needs to defer validation to us, and the kinds' schemas.

kubectl reads /openapi/v3, then the group/version document; a PATCH operation that carries
x-kubernetes-group-version-kind and a fieldValidation parameter makes it send
?fieldValidation=Strict and leave validation to the server. The schemas (Kubernetes 1.32's for
built-in kinds, see tutorial/sandbox/api/validation/builtin.py; the CRDs' own) serve `kubectl explain`.

As kube-openapi's handler3 does, a document asked for by its current hash is answered as public and
immutable for a year (so kubectl's HTTP cache keeps it: each later kubectl reads it from disk instead
of fetching and parsing some 300 KB again), and one asked for by a stale hash is redirected (301)
to its current URL.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
import weakref

from tutorial.sandbox.api.admission import CRDS, crd_schema
from tutorial.sandbox.api.apirequest import ApiError
from tutorial.sandbox.api.resources import Registry, ResourceType
from tutorial.sandbox.api.validation import builtin as openapi_defs

_FIELD_VALIDATION = {
    "name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True},
    "description": "fieldValidation instructs the server on how to handle objects in the request "
                   "containing unknown or duplicate fields.",
}


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _operations(rt: ResourceType, version: str) -> dict:
    gvk = {"group": rt.group, "version": version, "kind": rt.kind}
    prefix = "/" + _gv_path(rt.group, version)
    ns = "/namespaces/{namespace}" if rt.namespaced else ""
    item = f"{prefix}{ns}/{rt.plural}/{{name}}"
    collection = f"{prefix}{ns}/{rt.plural}"
    ok = {"200": {"description": "OK"}}
    params = [_FIELD_VALIDATION]
    paths = {collection: {}, item: {}}
    if "create" in rt.verbs:
        paths[collection]["post"] = {"x-kubernetes-group-version-kind": gvk, "parameters": params,
                                     "x-kubernetes-action": "post", "responses": ok}
    if "patch" in rt.verbs:
        paths[item]["patch"] = {"x-kubernetes-group-version-kind": gvk, "parameters": params,
                                "x-kubernetes-action": "patch", "responses": ok}
        paths[item]["put"] = {"x-kubernetes-group-version-kind": gvk, "parameters": params,
                              "x-kubernetes-action": "put", "responses": ok}
    if "get" in rt.verbs:
        paths[item]["get"] = {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "get",
                              "responses": ok}
    return {p: ops for p, ops in paths.items() if ops}


def _builtin_kinds(types: list[ResourceType]) -> tuple[str, ...]:
    return tuple(sorted({rt.kind for rt in types if not rt.crd}))


def group_version_doc(registry: Registry, group: str, version: str, store=None, builtin: bool = True) -> dict | None:
    """The document for one group/version: operations, plus the schemas of its kinds (Kubernetes 1.32
    definitions for built-in kinds, the CRD's own for custom ones) so `kubectl explain` works."""
    types = registry.in_group_version(group, version)
    if not types:
        return None
    paths: dict = {}
    schemas: dict = dict(openapi_defs.components(group, version, _builtin_kinds(types))) if builtin else {}
    for rt in sorted(types, key=lambda t: t.plural):
        paths.update(_operations(rt, version))
        schema = crd_schema(store, rt.gr, f"{group}/{version}") if (rt.crd and store is not None) else None
        if schema:
            name = ".".join(reversed(group.split("."))) + f".{version}.{rt.kind}"
            schemas.update(openapi_defs.object_meta_components())
            schemas[name] = dict(openapi_defs.with_object_meta(schema), **{"x-kubernetes-group-version-kind": [
                {"group": group, "version": version, "kind": rt.kind}]})
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": schemas}}


_DIGESTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # registry -> {fingerprint: digest}


def _hash(registry: Registry, group: str, version: str, store=None) -> str:
    """The document's digest, computed again only when what it is made of changed: the kinds served
    in the group/version and the spec of each CRD behind them (a stored spec never changes in place;
    a /status update keeps it, so the CRD's Established status does not cost a new digest). Every
    kubectl apply reads the /openapi/v3 index, which holds the digest of every group/version;
    building each document to hash it cost 8-30 ms of the server's CPU per apply."""
    types = sorted(registry.in_group_version(group, version), key=lambda rt: (rt.plural, rt.kind))
    specs = tuple(_crd_spec(store, rt) for rt in types)
    key = (group, version, tuple((rt.plural, rt.kind, id(spec)) for rt, spec in zip(types, specs)), id(store))
    known = _DIGESTS.setdefault(registry, {})
    kept = known.get(key)
    if kept is not None and all(a is b for a, b in zip(kept[1], specs)):  # the very specs (ids are reused)
        return kept[0]
    # the built-in schemas never change in a process: their digest is computed once
    doc = group_version_doc(registry, group, version, store, builtin=False) or {}
    data = json.dumps(doc, sort_keys=True) + openapi_defs.digest(group, version, _builtin_kinds(types))
    digest = hashlib.sha256(data.encode()).hexdigest()[:32].upper()
    if len(known) > 512:  # CRDs replaced many times over: forget the old fingerprints
        known.clear()
    known[key] = (digest, specs)
    return digest


def _crd_spec(store, rt: ResourceType) -> dict | None:
    """The stored spec of the CRD defining rt (its schema is in the document); None for built-ins."""
    if not rt.crd or store is None:
        return None
    crd = store.peek(CRDS, None, f"{rt.plural}.{rt.group}")  # read only: no copy of the schema
    return (crd or {}).get("spec")


def root_doc(registry: Registry, store=None) -> dict:
    """The /openapi/v3 index: one entry per served group/version, hashed so caches refresh."""
    paths = {}
    for group, versions in sorted(registry.group_versions().items()):
        for version in versions:
            path = _gv_path(group, version)
            digest = _hash(registry, group, version, store)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def answer(registry: Registry, store, rest_parts: list[str], query: dict) -> tuple[int, bytes, dict]:
    """(code, JSON body, headers) for GET /openapi/v3[/PATH]; ApiError 404 for a group/version not served."""
    if not rest_parts:
        return 200, _json(root_doc(registry, store)), {}
    if rest_parts[0] == "api" and len(rest_parts) == 2:
        group, version = "", rest_parts[1]
    elif rest_parts[0] == "apis" and len(rest_parts) == 3:
        group, version = rest_parts[1], rest_parts[2]
    else:
        group = version = None
    doc = group_version_doc(registry, group, version, store) if version else None
    if doc is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    digest = _hash(registry, group, version, store)
    headers = {"Etag": f'"{digest}"', "Vary": "Accept"}
    asked = (query.get("hash") or [""])[0]
    if asked and asked != digest:  # an older version of the document: where the current one is
        location = f"/openapi/v3/{_gv_path(group, version)}?hash={digest}"
        return 301, b"", dict(headers, Location=location)
    if asked:
        year = email.utils.formatdate(time.time() + 365 * 86400, usegmt=True)
        headers.update({"Cache-Control": "public, immutable", "Expires": year})
    return 200, _json(doc), headers


def _json(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _pb_string(field: int, text: str) -> bytes:
    data = text.encode()
    return bytes([field << 3 | 2, len(data)]) + data


def v2_protobuf() -> bytes:
    """An empty OpenAPI v2 document in gnostic protobuf: kubectl falls back to v2 for kinds v3 does not
    know, and an empty schema lets it go on to its real error (no matches for kind ... install CRDs)."""
    info = _pb_string(1, "Kubernetes") + _pb_string(2, "v1.32.0")
    return _pb_string(1, "2.0") + bytes([2 << 3 | 2, len(info)]) + info


V2_PROTOBUF_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
