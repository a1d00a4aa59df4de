"""Field ownership of every write: the managedFields a real API server records on create, update, patch.

A real server records, for each field manager, the fields it set (structured-merge-diff's FieldsV1).
A write that is not a server-side apply is an `Update` operation: its manager (`?fieldManager=`, else
the User-Agent's product, e.g. `kubectl-create`, `kubectl-edit`, `kubectl-client-side-apply`) takes
every field it added or changed, and every other manager loses those fields. The set of a create is
measured against the kind's zero value (Go's non-pointer structs metadata, spec, template... exist in
it, so they are not owned themselves; maps, list items and pointer structs that appear are, marked
`.: {}`). The lists' shapes (associative by key, set, atomic) come from the OpenAPI schema.
"""

from __future__ import annotations

import json
from typing import Any

from tutorial.sandbox.api.patch import MERGE_KEYS, MERGED_PRIMITIVE_LISTS
from tutorial.sandbox.storage.objects import now_iso
from tutorial.sandbox.api.validation import builtin

Path = tuple[str, ...]
ABSENT = object()
# Go non-pointer struct fields: present (empty) in a kind's zero value, so a create does not own them
# themselves (the OpenAPI v2 definitions do not say which fields are pointers; these are the common ones)
ZERO_STRUCTS = frozenset({"metadata", "spec", "status", "template", "strategy", "updateStrategy", "jobTemplate",
                          "containers"})  # PodSpec.containers has no omitempty: null in the zero value
# stripped before ownership is computed (apimachinery managedfields stripmeta.go)
STRIPPED_META = {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
                 "managedFields", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"}
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class Shape:
    """A schema node (a built-in definition or a CRD's structural schema) seen by list and map type."""

    def __init__(self, node: dict | None):
        defs = builtin.definitions()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            node = defs.get(node["$ref"].rsplit("/", 1)[-1])
        self.node = node if isinstance(node, dict) else None

    @classmethod
    def of_kind(cls, group: str, version: str, kind: str, crd_schema: dict | None) -> Shape:
        if crd_schema is not None:
            return cls(crd_schema)
        name = builtin.definition_for(group, version, kind)
        return cls(builtin.definitions().get(name) if name else None)

    def child(self, name: str) -> Shape:
        if self.node is None:
            return Shape({"$ref": "#/definitions/" + OBJECT_META} if name == "metadata" else None)
        props = self.node.get("properties") or {}
        if name in props:
            return Shape(props[name])
        if name == "metadata" and "properties" in self.node:
            return Shape({"$ref": "#/definitions/" + OBJECT_META})
        extra = self.node.get("additionalProperties")
        return Shape(extra if isinstance(extra, dict) else None)

    def item(self) -> Shape:
        return Shape(self.node.get("items") if self.node else None)

    def atomic_map(self) -> bool:
        return bool(self.node) and self.node.get("x-kubernetes-map-type") == "atomic"

    def list_kind(self, field: str, items: list) -> tuple[str, list[str]]:
        """('map', keys) | ('set', []) | ('atomic', [])."""
        node = self.node or {}
        kind = node.get("x-kubernetes-list-type")
        if kind == "map":
            return "map", list(node.get("x-kubernetes-list-map-keys") or [])
        if kind in ("set", "atomic") or self.node is not None and node.get("type") == "array":
            if kind is None and node.get("x-kubernetes-patch-merge-key"):
                return "map", [node["x-kubernetes-patch-merge-key"]]
            return kind or "atomic", []
        # no schema: the strategic-merge keys the sandbox knows
        if field in MERGE_KEYS and all(isinstance(i, dict) for i in items):
            return "map", [MERGE_KEYS[field]]
        return ("set", []) if field in MERGED_PRIMITIVE_LISTS else ("atomic", [])


# list-map key fields with a schema default (+default="TCP" on ContainerPort/ServicePort.protocol): an
# applied item that leaves them out is keyed with the default, like the item the server stores
KEY_DEFAULTS = {"protocol": "TCP"}


def item_key(item: Any, kind: str, keys: list[str]) -> str:
    if kind == "map" and isinstance(item, dict):
        values = {k: item[k] if k in item else KEY_DEFAULTS[k] for k in keys if k in item or k in KEY_DEFAULTS}
        return "k:" + json.dumps(values, separators=(",", ":"), sort_keys=True)
    return "v:" + json.dumps(item, separators=(",", ":"), sort_keys=True)


def _children(value: Any, shape: Shape, field: str) -> list[tuple[str, Any, Shape]] | None:
    """The granular children of a value as (path element, value, shape); None for a leaf."""
    if isinstance(value, dict) and value and not shape.atomic_map():
        return [("f:" + k, v, shape.child(k)) for k, v in value.items()]
    if isinstance(value, list) and value:
        kind, keys = shape.list_kind(field, value)
        if kind == "map" and all(isinstance(i, dict) for i in value):
            return [(item_key(i, kind, keys), i, shape.item()) for i in value]
        if kind == "set":
            return [(item_key(i, kind, keys), i, shape.item()) for i in value]
    return None


def all_nodes(value: Any, shape: Shape, prefix: Path, field: str = "") -> set[Path]:
    """Every path of a value's subtree, the value itself included (what an added subtree owns)."""
    found = {prefix}
    for element, sub, sub_shape in _children(value, shape, field) or []:
        found |= all_nodes(sub, sub_shape, prefix + (element,), element[2:])
    return found


def leaves(value: Any, shape: Shape, prefix: Path = (), field: str = "") -> set[Path]:
    """The paths an applied configuration sets: leaves and list items (maps are not owned themselves)."""
    kids = _children(value, shape, field)
    if kids is None:
        return {prefix}
    found = set()
    for element, sub, sub_shape in kids:
        path = prefix + (element,)
        if element[0] in "kv":
            found.add(path)
        found |= leaves(sub, sub_shape, path, element[2:])
    return found


def diff(old: Any, new: Any, shape: Shape, prefix: Path = (), field: str = "", zero: bool = True,
         zeros: frozenset = frozenset(ZERO_STRUCTS)) -> tuple[set, set]:
    """(added or changed paths, removed paths) from old to new; old ABSENT means not there.
    zero: this node is a Go zero-value struct (or the root), present even in an empty object;
    zeros: the field names of such structs for this kind."""
    if old is ABSENT:
        if not (zero and isinstance(new, (dict, list))):
            return all_nodes(new, shape, prefix, field), set()
        old = type(new)()
    new_kids = _children(new, shape, field)
    if new_kids is None:
        return ({prefix} if old != new else set()), set()
    if not isinstance(old, type(new)):
        return all_nodes(new, shape, prefix, field), set()
    before = {e: v for e, v, _ in _children(old, shape, field) or []}
    changed, removed = set(), set()
    for element, sub, sub_shape in new_kids:
        inner_zero = zero and element.startswith("f:") and element[2:] in zeros
        c, r = diff(before.pop(element, ABSENT), sub, sub_shape, prefix + (element,), element[2:], inner_zero, zeros)
        changed |= c
        removed |= r
    removed |= {prefix + (e,) for e in before}
    return changed, removed


def ownable(obj: dict, subresource: str | None, status_separate: bool) -> dict:
    """The part of an object whose fields are owned: no apiVersion/kind, no server-set metadata; the
    status only through /status (when the kind has that subresource), only the status there."""
    if subresource == "status":
        return {"status": obj["status"]} if "status" in obj else {}
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    if status_separate:
        out.pop("status", None)
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k not in STRIPPED_META}
        if not out["metadata"]:
            del out["metadata"]
    return out


def from_fields(fields: Any, prefix: Path = ()) -> set[Path]:
    """FieldsV1 -> the set of owned paths (a node with `.` or without children is owned itself)."""
    found = set()
    for key, sub in (fields or {}).items() if isinstance(fields, dict) else []:
        if key == ".":
            continue
        path = prefix + (key,)
        inner = {k: v for k, v in (sub or {}).items() if k != "."} if isinstance(sub, dict) else {}
        if not inner or "." in (sub or {}):
            found.add(path)
        found |= from_fields(inner, path)
    return found


def to_fields(paths: set[Path]) -> dict:
    """The owned paths as FieldsV1: nested keys, `.: {}` on an owned node that has children."""
    root: dict = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return _sorted(root)


def _sorted(node: dict) -> dict:
    return {k: _sorted(node[k]) for k in sorted(node)}


def manager_name(query_manager: str, user_agent: str) -> str:
    """?fieldManager=, else the User-Agent up to its first "/" (apiserver handlers managerOrUserAgent)."""
    return query_manager or (user_agent or "").split("/")[0]


def record_update(entries: list[dict], manager: str, api_version: str, subresource: str | None,
                  changed: set[Path], removed: set[Path]) -> list[dict]:
    """managedFields after an Update: the manager's entry gains changed, every other one loses them."""
    out, mine, gone = [], None, changed | removed
    for entry in entries:
        owned = from_fields(entry.get("fieldsV1"))
        same = (entry.get("manager"), entry.get("operation"), entry.get("apiVersion"), entry.get("subresource")) \
            == (manager, "Update", api_version, subresource)
        if same:
            mine = owned - removed
            continue
        owned = {p for p in owned if not any(p[:len(g)] == g for g in gone)}
        if owned:
            out.append(dict(entry, fieldsV1=to_fields(owned)))
    mine = (mine or set()) | changed
    if mine:
        entry = {"manager": manager, "operation": "Update", "apiVersion": api_version, "time": now_iso(),
                 "fieldsType": "FieldsV1", "fieldsV1": to_fields(mine)}
        if subresource:
            entry["subresource"] = subresource
        out.append(entry)
    return out
