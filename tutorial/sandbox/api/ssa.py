"""Server-side apply field ownership: conflicts between appliers and `--force-conflicts`.

Each Apply manager owns the fields of its last applied configuration (managedFields, FieldsV1).
When a manager applies a value to a field another Apply manager owns and the values differ, the real
server refuses with 409 Conflict ("Apply failed with 1 conflict: conflict with "other": .spec.replicas");
with force=true the applier takes the field over and the other manager loses it. Fields written by
plain updates (create, edit, client-side apply: fieldowners.py) conflict the same way, their
manager named with its version (`conflict with "kubectl-client-side-apply" using apps/v1`).
"""

from __future__ import annotations

import json

from tutorial.sandbox.api import fieldowners
from tutorial.sandbox.api.apirequest import ApiError


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


def resolve(entries: list[dict], applied: set, old: dict, merged: dict, force: bool,
            allowed: set | None = None) -> list[dict]:
    """Other managers' entries after this apply; 409 on conflicts unless forced (then they lose those fields).

    entries: the other managers' managedFields (Apply and Update alike); applied: the paths this apply
    sets; old/merged: the object before and after; allowed: conflicts forced anyway (kubectl's upgrade
    from client-side apply: fields whose live value is still the last-applied one).
    """
    conflicts, kept, taken = [], [], set()
    for entry in entries:
        theirs = fieldowners.from_fields(entry.get("fieldsV1"))
        both = applied & theirs
        inner = {q[:n] for q in applied | theirs for n in range(1, len(q))}  # nodes with owned children
        clashing = sorted(p for p in both if p not in inner and value_at(old, p) != value_at(merged, p))
        if clashing and not force:
            conflicts.extend((entry, p) for p in clashing)
        taken |= set(clashing)
    if conflicts and allowed is not None and all(p in allowed for _, p in conflicts):
        conflicts = []
    if conflicts:
        raise conflict_error([(e, p) for e, p in conflicts if allowed is None or p not in allowed])
    for entry in entries:
        theirs = fieldowners.from_fields(entry.get("fieldsV1")) - taken  # co-owned fields stay
        if theirs:
            kept.append(dict(entry, fieldsV1=fieldowners.to_fields(theirs)))
    return kept


def manager_text(entry: dict) -> str:
    """A manager as the conflict message names it (managedfields internal/conflict.go printManager)."""
    text = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion', '')}"
    return text


def conflict_error(found: list[tuple[dict, tuple]]) -> ApiError:
    """409 Conflict worded as the real field manager words it, with a cause per field."""
    conflicts = [(manager_text(e), p) for e, p in found]
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {m}", "field": path_text(p)}
              for m, p in conflicts]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {manager}: {path_text(path)}"
    else:
        lines = []
        for manager in sorted({m for m, _ in conflicts}):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {path_text(p)}" for m, p in conflicts if m == manager)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})
