"""Server-side apply field ownership: conflicts between appliers and `--force-conflicts`.

Each Apply manager owns the fields of its last applied configuration (managedFields, FieldsV1).
When a manager applies a value to a field another Apply manager owns and the values differ, the real
server refuses with 409 Conflict ("Apply failed with 1 conflict: conflict with "other": .spec.replicas");
with force=true the applier takes the field over and the other manager loses it. Fields written by
plain updates (create, edit, client-side apply) carry no ownership in the sandbox, so they never
conflict here (a real server would also name those managers).
"""

from __future__ import annotations

import json

from tutorial.sandbox.api.apirequest import ApiError


def leaves(fields: dict, prefix: tuple = ()) -> list[tuple]:
    """The owned leaf paths of a FieldsV1 set: tuples of its keys (f:name, k:{...}, v:...)."""
    found = []
    for key, sub in fields.items():
        if key in (".", "?"):
            continue
        path = prefix + (key,)
        inner = {k: v for k, v in (sub or {}).items() if k != "."}
        found.extend(leaves(inner, path) if inner else [path])
    return found


def value_at(obj: object, path: tuple) -> object:
    """The value a FieldsV1 path names in an object, or a marker when it is absent."""
    for key in path:
        if key.startswith("f:") and isinstance(obj, dict) and key[2:] in obj:
            obj = obj[key[2:]]
        elif key.startswith("k:") and isinstance(obj, list):
            want = json.loads(key[2:])
            obj = next((i for i in obj if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())),
                       _ABSENT)
        elif key.startswith("v:") and isinstance(obj, list):
            obj = json.loads(key[2:]) if json.loads(key[2:]) in obj else _ABSENT
        else:
            return _ABSENT
    return obj


_ABSENT = object()


def path_text(path: tuple) -> str:
    """A path as structured-merge-diff prints it: .spec.containers[name="web"].image."""
    out = ""
    for key in path:
        if key.startswith("f:"):
            out += "." + key[2:]
        elif key.startswith("k:"):
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(key[2:]).items()) + "]"
        else:
            out += f"[={key[2:]}]"
    return out


def resolve(entries: list[dict], mine: dict, old: dict, merged: dict, force: bool) -> list[dict]:
    """Other managers' entries after this apply; 409 on conflicts unless forced (then they lose those fields).

    entries: the other managers' managedFields; mine: this apply's FieldsV1; old/merged: the object
    before and after the apply.
    """
    applied = leaves(mine)
    conflicts, kept = [], []
    for entry in entries:
        fields = entry.get("fieldsV1") if isinstance(entry.get("fieldsV1"), dict) else {}
        theirs = set(leaves(fields)) if entry.get("operation") == "Apply" else set()
        clashing = [p for p in applied if p in theirs and value_at(old, p) != value_at(merged, p)]
        if clashing and not force:
            conflicts.extend((entry.get("manager", ""), p) for p in clashing)
        entry = dict(entry, fieldsV1=_without(fields, set(clashing) if force else set()))  # co-owned stay
        if leaves(entry["fieldsV1"]) or entry.get("operation") != "Apply":
            kept.append(entry)
    if conflicts:
        raise conflict_error(conflicts)
    return kept


def _without(fields: dict, paths: set) -> dict:
    """A copy of a FieldsV1 set minus the given leaf paths (emptied maps dropped)."""
    if not paths:
        return fields
    out = {}
    for key, sub in fields.items():
        inner = _without(sub, {p[1:] for p in paths if p[:1] == (key,) and len(p) > 1}) if sub else sub
        if (key,) in paths or (sub and not inner):
            continue
        out[key] = inner
    return out


def conflict_error(conflicts: list[tuple[str, tuple]]) -> ApiError:
    """409 Conflict worded as the real field manager words it, with a cause per field."""
    causes = [{"reason": "FieldManagerConflict", "message": f'conflict with "{m}"', "field": path_text(p)}
              for m, p in conflicts]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f'Apply failed with 1 conflict: conflict with "{manager}": {path_text(path)}'
    else:
        lines = []
        for manager in sorted({m for m, _ in conflicts}):
            lines.append(f'conflicts with "{manager}":')
            lines.extend(f"- {path_text(p)}" for m, p in conflicts if m == manager)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})
