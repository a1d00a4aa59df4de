"""Patch semantics: strategic merge patch, JSON merge patch (RFC 7386), JSON patch (RFC 6902).

Strategic merge merges lists by their Kubernetes merge keys (containers by name, container ports
by containerPort, service ports by port, ...) and consumes every directive ($patch,
$setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...) so none is ever stored.
"""

from __future__ import annotations

from typing import Any

from tutorial.sandbox.storage.objects import copy_json

# list field name -> merge key; "ports" is decided per list (containerPort vs port).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "imagePullSecrets": "name",
    "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid", "secrets": "name",
    "topologySpreadConstraints": "topologyKey", "readinessGates": "conditionType",
    "volumeDevices": "devicePath", "resourceClaims": "name",
}
MERGED_PRIMITIVE_LISTS = {"finalizers"}


class PatchError(Exception):
    """A patch that cannot be applied; .code is the HTTP status to answer with."""

    def __init__(self, message: str, code: int = 422):
        super().__init__(message)
        self.message, self.code = message, code


def _merge_key(field: str, items: list) -> str | None:
    if field == "ports":
        dicts = [i for i in items if isinstance(i, dict)]
        if any("containerPort" in i for i in dicts):
            return "containerPort"
        return "port"
    return MERGE_KEYS.get(field)


def strip_directives(value: Any) -> Any:
    """A copy of value with every $-directive removed (what a replaced subtree stores)."""
    if isinstance(value, dict):
        return {k: strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [strip_directives(v) for v in value
                if not (isinstance(v, dict) and v.get("$patch") == "delete")]
    return value


def strategic_merge(original: Any, patch: Any) -> Any:
    """Apply a strategic merge patch to original (neither is modified)."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object", 400)
    return _merge_map(copy_json(original) if isinstance(original, dict) else {}, patch)


def _merge_map(orig: dict, patch: dict) -> dict:
    if patch.get("$patch") == "replace":
        return strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if patch.get("$patch") == "delete":
        return {}
    orders, retain = {}, patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            drop = set(map(_hashable, value or []))
            orig[field] = [v for v in orig.get(field) or [] if _hashable(v) not in drop]
        elif key.startswith("$"):
            continue
        elif value is None:
            orig.pop(key, None)
        elif isinstance(value, dict) and value.get("$patch") == "delete":
            orig.pop(key, None)
        elif isinstance(value, dict):
            base = orig.get(key)
            orig[key] = _merge_map(base if isinstance(base, dict) else {}, value)
        elif isinstance(value, list):
            orig[key] = _merge_list(key, orig.get(key), value)
        else:
            orig[key] = value
    for field, order in orders.items():
        if isinstance(orig.get(field), list):
            orig[field] = _reorder(field, orig[field], order)
    if isinstance(retain, list):
        orig = {k: v for k, v in orig.items() if k in retain}
    return orig


def _hashable(v: Any) -> Any:
    return repr(v) if isinstance(v, (dict, list)) else v


def _merge_list(field: str, orig: Any, patch: list) -> list:
    orig = orig if isinstance(orig, list) else []
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return strip_directives([i for i in patch if not (isinstance(i, dict) and "$patch" in i)])
    if field in MERGED_PRIMITIVE_LISTS:
        return orig + [v for v in patch if v not in orig]
    key = _merge_key(field, patch + orig)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return strip_directives(patch)
    result = [copy_json(i) for i in orig]
    for item in patch:
        idx = next((n for n, o in enumerate(result)
                    if isinstance(o, dict) and key in item and o.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                result.pop(idx)
        elif idx is None:
            result.append(strip_directives(item))
        else:
            result[idx] = _merge_map(result[idx], item)
    return result


def _reorder(field: str, items: list, order: list) -> list:
    """Order items as $setElementOrder says; items it does not name keep their relative place after."""
    key = _merge_key(field, items + order)
    if key is None:
        return items
    rank = {(o.get(key) if isinstance(o, dict) else o): n for n, o in enumerate(order)}
    named = sorted((i for i in items if isinstance(i, dict) and i.get(key) in rank),
                   key=lambda i: rank[i.get(key)])
    rest = [i for i in items if not (isinstance(i, dict) and i.get(key) in rank)]
    return named + rest


def json_merge(original: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy_json(patch)
    result = copy_json(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}: it must start with '/'", 400)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    cur = doc
    for p in parts[:-1]:
        try:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        except (KeyError, IndexError, ValueError, TypeError):
            raise PatchError(f"path {path!r} does not exist in the object") from None
    return cur


def _index(container: list, token: str, path: str, adding: bool) -> int:
    if token == "-" and adding:
        return len(container)
    try:
        idx = int(token)
    except ValueError:
        raise PatchError(f"invalid list index in {path!r}") from None
    if idx < 0 or idx > len(container) - (0 if adding else 1):
        raise PatchError(f"list index out of range in {path!r}")
    return idx


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    try:
        return parent[int(parts[-1])] if isinstance(parent, list) else parent[parts[-1]]
    except (KeyError, IndexError, ValueError, TypeError):
        raise PatchError(f"path {path!r} does not exist in the object") from None


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    if isinstance(parent, list):
        return parent.pop(_index(parent, parts[-1], path, False))
    if not isinstance(parent, dict) or parts[-1] not in parent:
        raise PatchError(f"cannot remove {path!r}: it does not exist")
    return parent.pop(parts[-1])


def _add(doc: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    if isinstance(parent, list):
        idx = _index(parent, parts[-1], path, not replace)
        if replace:
            parent[idx] = value
        else:
            parent.insert(idx, value)
    elif isinstance(parent, dict):
        if replace and parts[-1] not in parent:
            raise PatchError(f"cannot replace {path!r}: it does not exist")
        parent[parts[-1]] = value
    else:
        raise PatchError(f"path {path!r} does not point into an object or list")
    return doc


def json_patch(original: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch: add, remove, replace, move, copy, test."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations", 400)
    doc = copy_json(original)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation {op!r}: it needs 'op' and 'path'", 400)
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"JSON patch operation {kind} on {path!r} needs a 'value'", 400)
        if kind == "add":
            doc = _add(doc, path, copy_json(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            doc = _add(doc, path, copy_json(op["value"]), replace=True)
        elif kind in ("move", "copy"):
            value = _remove(doc, op.get("from", "")) if kind == "move" else copy_json(_get(doc, op.get("from", "")))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError(f"test operation failed: {path!r} is not {op['value']!r}")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}", 400)
    return doc


# ---- server-side apply: a simplified field ownership ----
def fieldset(value: Any, field: str = "") -> dict:
    """The fields an applied configuration sets, in the FieldsV1 shape (f:, k:, v: keys)."""
    if isinstance(value, dict):
        return {f"f:{k}": fieldset(v, k) for k, v in value.items()}
    if isinstance(value, list) and value:
        if all(isinstance(i, dict) for i in value):
            key = _merge_key(field, value)
            if key is None or not all(key in i for i in value):
                return {}  # an atomic list: owned as a whole
            return {"k:" + _json_key({key: i[key]}): dict(fieldset(i, ""), **{".": {}}) for i in value}
        if field in MERGED_PRIMITIVE_LISTS:
            return {"v:" + _json_key(i): {} for i in value}
    return {}


def _json_key(value: Any) -> str:
    import json
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def fieldset_removed(prev: dict, new: dict) -> dict:
    """The part of prev that new no longer sets (what an apply that dropped fields removes)."""
    out = {}
    for key, sub in prev.items():
        if key in (".", "?"):
            continue
        if key not in new and (not sub or "." in sub):
            out[key] = {".": {}}  # a leaf or a list item this manager owned: remove it whole
        elif key not in new:
            # a map others may have filled too: remove our children, then the map if it is empty
            out[key] = dict(fieldset_removed(sub, {}), **{"?": {}})
        elif sub:
            inner = fieldset_removed(sub, new[key])
            if inner:
                out[key] = inner
    return out


def remove_fields(obj: Any, removed: dict) -> None:
    """Delete from obj (in place) every field the removed fieldset names."""
    import json
    for key, sub in removed.items():
        whole = "." in sub
        if key.startswith("f:") and isinstance(obj, dict):
            name = key[2:]
            if whole:
                obj.pop(name, None)
            elif name in obj:
                remove_fields(obj[name], sub)
                if "?" in sub and obj[name] in ({}, []):
                    del obj[name]
        elif key.startswith("k:") and isinstance(obj, list):
            want = json.loads(key[2:])
            for item in [i for i in obj if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())]:
                if whole:
                    obj.remove(item)
                else:
                    remove_fields(item, sub)
        elif key.startswith("v:") and isinstance(obj, list):
            value = json.loads(key[2:])
            while value in obj:
                obj.remove(value)
