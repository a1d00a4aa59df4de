"""The REST write path's side of field ownership: which manager wrote, with which schema, into managedFields.

Create, update, patch, /scale and /status writes record an `Update` entry (fieldowners.py); a
server-side apply records an `Apply` entry. For the manager `kubectl`, the API server also eases the
move from client-side apply (managedfields internal/lastappliedmanager.go, lastappliedupdater.go):
conflicts on fields whose live value is still the one in the `last-applied-configuration`
annotation are forced, and that annotation is kept in step with what kubectl applies.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tutorial.sandbox.api import fieldowners
from tutorial.sandbox.api.admission import crd_schema
from tutorial.sandbox.api.ssa import value_at
from tutorial.sandbox.storage.objects import now_iso

if TYPE_CHECKING:
    from tutorial.sandbox.api.apirequest import Handler, Request

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _manager(req: Request) -> str:
    agent = req.headers.get("User-Agent") if hasattr(req.headers, "get") else ""
    return fieldowners.manager_name(req.q("fieldManager"), agent or "")


def _shape(h: Handler, req: Request, api_version: str) -> fieldowners.Shape:
    schema = crd_schema(h.api.store, req.rt.storage_gr, api_version) if req.rt.crd else None
    return fieldowners.Shape.of_kind(req.rt.group, req.version, req.rt.kind, schema or ({} if req.rt.crd else None))


def _zeros(req: Request) -> frozenset:
    """Custom resources are unstructured: only metadata exists in their zero value."""
    return frozenset({"metadata"}) if req.rt.crd else fieldowners.ZERO_STRUCTS


def own_create(h: Handler, req: Request, obj: dict) -> None:
    """A new object's managedFields: its creator owns every field it set (and the defaults)."""
    api_version = req.rt.api_version_for(req.version)
    body = fieldowners.ownable(obj, None, "status" in req.rt.subresources)
    changed, _ = fieldowners.diff(fieldowners.ABSENT, body, _shape(h, req, api_version), zeros=_zeros(req))
    obj["metadata"]["managedFields"] = fieldowners.record_update([], _manager(req), api_version, None, changed, set())


def own_update(h: Handler, req: Request, new: dict, old: dict) -> None:
    """managedFields after an update or patch: the writer takes what it changed from every other manager.

    Entries the request itself carries are used when it sends any (that is how a client edits
    managedFields, e.g. kubectl's client-side-apply upgrade), else the stored ones."""
    api_version = req.rt.api_version_for(req.version)
    sub = req.sub if req.sub in ("status", "scale") else None
    given = (new.get("metadata") or {}).get("managedFields")
    entries = given if isinstance(given, list) and given else old["metadata"].get("managedFields") or []
    separate = "status" in req.rt.subresources
    before = fieldowners.ownable(old, "status" if sub == "status" else None, separate)
    after = fieldowners.ownable(new, "status" if sub == "status" else None, separate)
    changed, removed = fieldowners.diff(before, after, _shape(h, req, api_version), zeros=_zeros(req))
    new.setdefault("metadata", {})["managedFields"] = fieldowners.record_update(
        [e for e in entries if isinstance(e, dict)], _manager(req), api_version, sub, changed, removed)


def apply_entry(h: Handler, req: Request, manager: str, applied: dict) -> dict:
    """The Apply entry of a server-side apply: the leaves and list items of the applied configuration."""
    api_version = req.rt.api_version_for(req.version)
    body = fieldowners.ownable(applied, "status" if req.sub == "status" else None, False)
    paths = fieldowners.leaves(body, _shape(h, req, api_version)) - {()}
    entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": now_iso(),
             "fieldsType": "FieldsV1", "fieldsV1": fieldowners.to_fields(paths)}
    if req.sub == "status":
        entry["subresource"] = "status"
    return entry


def _last_applied(obj: dict) -> dict | None:
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def last_applied_allowance(h: Handler, req: Request, old: dict, manager: str) -> set | None:
    """For manager `kubectl`: the fields of the last-applied annotation whose live value still matches."""
    last = _last_applied(old) if manager == "kubectl" else None
    if last is None or last.get("apiVersion") != req.rt.api_version_for(req.version):
        return None
    paths = fieldowners.leaves(fieldowners.ownable(last, None, False), _shape(h, req, last["apiVersion"]))
    return {p for p in paths if value_at(last, p) == value_at(old, p)}


def sync_last_applied(new: dict, old: dict, applied: dict, manager: str) -> None:
    """Server-side apply by `kubectl` rewrites an existing last-applied annotation to what it applied."""
    if manager != "kubectl" or not ((old.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED):
        return
    body = json.loads(json.dumps(applied))
    annotations = (body.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            body["metadata"].pop("annotations")
    text = json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n"  # Go's json.Encoder
    new["metadata"].setdefault("annotations", {})[LAST_APPLIED] = text
