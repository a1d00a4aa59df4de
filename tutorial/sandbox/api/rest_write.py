"""Writing objects through the sandbox API server: new-object checks, update, patch, server-side apply.

prepare_new makes a create body ready for the store (names, namespace, defaults, admission);
do_replace and do_patch write over an existing object the way its (sub)resource path allows.
"""

from __future__ import annotations

import random
import string

from tutorial.sandbox.api import fieldowners, kinds, lifecycle, owners_write, patch, requestcheck, resources, ssa
from tutorial.sandbox.api.apirequest import ApiError, Handler, Request, content_type, current, not_found, out
from tutorial.sandbox.api.bodies import decode_body, object_body
from tutorial.sandbox.api.validation import writes
from tutorial.sandbox.storage.objects import NAMESPACES, StoreError, copy_json, now_iso

APPLY = "application/apply-patch+yaml"
PATCH_TYPES = {"application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
# the server sets these; whatever a client sends for them is dropped
_SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation", "managedFields")


def random_suffix(n: int = 5) -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=n))


def _check_namespace(h: Handler, req: Request, namespace: str) -> None:
    ns = h.api.store.get(NAMESPACES, None, namespace)
    if ns is None:
        raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found',
                       {"name": namespace, "kind": "namespaces"})
    if ns["metadata"].get("deletionTimestamp"):
        raise ApiError(403, "Forbidden",
                       f'{req.rt.label} "{req.name or ""}" is forbidden: unable to create new content in namespace '
                       f"{namespace} because it is being terminated",
                       {"name": req.name or "", "kind": req.rt.plural,
                        "causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                    "message": f"namespace {namespace} is being terminated"}]})


def _check_name(req: Request, name: str) -> None:
    """422 when the name breaks the kind's rule (DNS-1035 for Services, ...), in the real server's words."""
    problems = requestcheck.name_problems(req.rt.gr, name)
    if problems:
        causes = [f'Invalid value: "{name}": {p}' for p in problems]
        shown = causes[0] if len(causes) == 1 else "[" + ", ".join(f"metadata.name: {c}" for c in causes) + "]"
        prefix = "" if len(causes) > 1 else "metadata.name: "
        details = {"name": name, "kind": req.rt.kind,
                   "causes": [{"reason": "FieldValueInvalid", "message": c, "field": "metadata.name"} for c in causes]}
        if req.rt.group:
            details["group"] = req.rt.group
        raise ApiError(422, "Invalid", f'{req.rt.kind} "{name}" is invalid: {prefix}{shown}', details)


def _check_shape(req: Request, obj: dict, old: dict | None = None) -> None:
    """422 with causes when the object is ill-typed (or, for a CRD update, drops a stored version)."""
    causes = kinds.validate_shape(req.rt, obj)
    if not causes and old is not None and req.rt.gr == resources.CRDS:
        causes = kinds.crd_update_causes(obj, old)
    if causes:
        name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
        name = name if isinstance(name, str) else ""
        raise ApiError(422, "Invalid", f'{req.rt.kind} "{name}" is invalid: '
                       + "; ".join(f"{f}: {m}" for f, m in causes),
                       {"name": name, "kind": req.rt.kind,
                        "causes": [{"reason": "FieldValueInvalid", "field": f, "message": m} for f, m in causes]})


def _decode_check(h: Handler, req: Request, obj: dict, raw: bytes | None, old: dict | None = None) -> None:
    """Built-in kinds: unknown/duplicate fields per fieldValidation, wrong types (validation/writes.py)."""
    if not req.rt.crd and req.sub != "scale":
        apply = req.method == "PATCH" and content_type(req) == APPLY
        patch_body = req.body if req.method == "PATCH" and not apply else None
        writes.check_builtin(req.rt.group, req.version, req.rt.kind, obj, raw, req.q("fieldValidation"),
                             getattr(h, "warnings", None), old, apply=apply, patch=patch_body)


def prepare_new(h: Handler, req: Request, obj: dict) -> dict:
    """A request body made ready for store.create: names, namespace, defaults, admission."""
    rt = req.rt
    _decode_check(h, req, obj, req.body)
    if rt.group == "events.k8s.io":
        obj = kinds.event_from_events_v1(obj)
    else:
        requestcheck.check_type(rt, req.version, obj)
        obj.update(apiVersion=rt.api_version_for(req.version), kind=rt.kind)
    _check_shape(req, obj)
    meta = obj.setdefault("metadata", {})
    for field in _SERVER_FIELDS:
        meta.pop(field, None)
    _name_new(req, meta)
    _place(h, req, meta)
    if "status" in rt.subresources and rt.gr != NAMESPACES:
        obj.pop("status", None)
    kinds.builtin_defaults(rt, obj)
    lifecycle.initial_status(rt.gr, obj)
    obj = h.api.admission.admit(rt.storage_gr, obj, None, h.api.store, crd=rt.crd,
                                field_validation=req.q("fieldValidation"), warnings=getattr(h, "warnings", None),
                                duplicates=writes.body_duplicates(req.body) if rt.crd else None)
    owners_write.own_create(h, req, obj)
    return obj


def _name_new(req: Request, meta: dict) -> None:
    """Give a new object its name (from generateName or the URL) and check it."""
    if not meta.get("name") and isinstance(meta.get("generateName"), str) and meta["generateName"]:
        meta["name"] = meta["generateName"] + random_suffix()
    if req.name and meta.get("name") and meta["name"] != req.name:
        raise ApiError(400, "BadRequest", f"the name of the object ({meta['name']}) does not match the name on "
                                          f"the URL ({req.name})")
    meta.setdefault("name", req.name or "")
    if not meta["name"]:
        kind = req.rt.kind
        raise ApiError(422, "Invalid", f"{kind} is invalid: metadata.name: Required value: name or "
                                       "generateName is required",
                       {"kind": kind, "causes": [{"reason": "FieldValueRequired", "field": "metadata.name",
                                                  "message": "Required value: name or generateName is required"}]})
    _check_name(req, meta["name"])


def _place(h: Handler, req: Request, meta: dict) -> None:
    """Set or check metadata.namespace against the URL; the namespace must exist and be active."""
    if not req.rt.namespaced:
        meta.pop("namespace", None)
        return
    ns = req.namespace or meta.get("namespace") or "default"
    if meta.get("namespace") and meta["namespace"] != ns:
        raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                                          "sent on the request")
    meta["namespace"] = ns
    _check_namespace(h, req, ns)


def _write(h: Handler, req: Request, new: dict, old: dict, dry: bool = False, applied: bool = False) -> dict:
    """Store an updated object the way the (sub)resource in the path allows (applied: a server-side
    apply, whose managedFields are already set; any other write is recorded as an Update).

    With dry (dryRun=All) everything but the store write happens: a real API server validates a
    dry-run update (schema, CEL rules, admission) exactly as a real one, and refuses it the same way.
    """
    store, rt, gr = h.api.store, req.rt, req.rt.storage_gr
    _decode_check(h, req, new, req.body if req.method == "PUT" else None, old)
    if rt.group == "events.k8s.io":
        new = kinds.event_from_events_v1(new)
    _check_shape(req, new, old)
    meta = new.setdefault("metadata", {})
    if meta.get("name", req.name) != req.name:
        raise ApiError(400, "BadRequest", f"the name of the object ({meta.get('name')}) does not match the name "
                                          f"on the URL ({req.name})")
    meta["name"] = req.name
    if rt.namespaced:
        meta["namespace"] = req.namespace
    if req.sub == "status":
        h.api.admission.admit_status(gr, new, old, store, crd=rt.crd)
        if not applied:
            owners_write.own_update(h, req, new, old)
        return new if dry else store.update(gr, new, subresource="status")
    if req.sub == "scale":
        return new if dry else _write_scale(h, req, new, old)
    if rt.gr == NAMESPACES:
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = req.name
    else:
        kinds.keep_allocated(rt, new, old)
        kinds.builtin_defaults(rt, new)
    if req.sub != "finalize":
        h.api.admission.admit(gr, new, old, store, crd=rt.crd, field_validation=req.q("fieldValidation"),
                              warnings=getattr(h, "warnings", None),
                              duplicates=writes.body_duplicates(req.body) if rt.crd else None)
    if not applied:
        owners_write.own_update(h, req, new, old)
    if dry:
        return new
    return _keep_status(h, req, new, store.update(gr, new))


def _write_scale(h: Handler, req: Request, new: dict, old: dict) -> dict:
    """A write to /scale changes only spec.replicas of the object; the answer is a Scale."""
    before, old = old, copy_json(old)
    old.setdefault("spec", {})["replicas"] = (new.get("spec") or {}).get("replicas", 1)
    old["metadata"]["resourceVersion"] = new["metadata"].get("resourceVersion") or old["metadata"]["resourceVersion"]
    owners_write.own_update(h, req, old, before)
    return kinds.scale_of(h.api.store.update(req.rt.storage_gr, old))


def _keep_status(h: Handler, req: Request, new: dict, result: dict) -> dict:
    """Kinds without a status subresource take the status from the body too (the main write drops it)."""
    if "status" not in req.rt.subresources and "status" in new and new["status"] != result.get("status"):
        with_status = dict(result, status=new["status"])
        with_status["metadata"] = dict(result["metadata"])
        with_status["metadata"].pop("resourceVersion", None)
        result = h.api.store.update(req.rt.storage_gr, with_status, subresource="status")
    return result


def _respond_written(h: Handler, req: Request, result: dict, code: int = 200) -> None:
    h.send_json(code, result if req.sub == "scale" else out(req, result))


def do_replace(h: Handler, req: Request) -> None:
    obj = object_body(req)
    old = current(h, req)
    if req.rt.group != "events.k8s.io" and not req.sub:
        requestcheck.check_type(req.rt, req.version, obj)
    result = _write(h, req, obj, old, dry=req.dry_run)
    _respond_written(h, req, result)


def do_patch(h: Handler, req: Request) -> None:
    """JSON, merge and strategic-merge patches (retried on a conflict unless the body pins a resourceVersion)."""
    ctype = content_type(req)
    if ctype == "application/apply-patch+yaml":
        return _server_side_apply(h, req)
    if ctype not in PATCH_TYPES or (ctype == "application/strategic-merge-patch+json" and req.rt.crd):
        raise ApiError(415, "UnsupportedMediaType",
                       f'the body of the request was in an unknown format - accepted media types include: '
                       f'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml'
                       f'{"" if req.rt.crd else ", application/strategic-merge-patch+json"} (got "{ctype}")')
    data = decode_body(req)
    explicit_rv = isinstance(data, dict) and bool((data.get("metadata") or {}).get("resourceVersion"))
    for attempt in range(5):
        old = current(h, req)
        base = kinds.scale_of(old) if req.sub == "scale" else out(req, copy_json(old))
        new = _patched(ctype, base, data)
        if not explicit_rv:
            new.setdefault("metadata", {})["resourceVersion"] = old["metadata"]["resourceVersion"]
        try:
            result = _write(h, req, new, old, dry=req.dry_run)
            return _respond_written(h, req, result)
        except StoreError as e:
            if e.code != 409 or explicit_rv or attempt == 4:
                raise


def _patched(ctype: str, base: dict, data: object) -> dict:
    if ctype == "application/json-patch+json":
        new = patch.json_patch(base, data)
    elif ctype == "application/merge-patch+json":
        if not isinstance(data, dict):
            raise ApiError(400, "BadRequest", "a merge patch must be a JSON object")
        new = patch.json_merge(base, data)
    else:
        new = patch.strategic_merge(base, data)
    if not isinstance(new, dict):
        raise ApiError(422, "Invalid", "the patch would turn the object into something that is not an object")
    return new


def _server_side_apply(h: Handler, req: Request) -> None:
    """application/apply-patch+yaml: create when absent, else merge the applied configuration in.

    Ownership is simplified: each field manager's last applied fields are kept in managedFields,
    and fields it applied before but no longer applies are removed.
    """
    applied = object_body(req)
    manager = req.q("fieldManager") or "unknown"
    meta = applied.setdefault("metadata", {})
    for field in _SERVER_FIELDS:
        meta.pop(field, None)
    old = h.api.store.get(req.rt.storage_gr, req.namespace, req.name)
    if old is None:
        return _apply_create(h, req, applied, manager)
    if req.sub == "status":
        applied = {"status": applied.get("status") or {}}
    else:
        applied.pop("status", None)
    new = _apply_merge(h, req, old, applied, manager)
    result = _write(h, req, new, old, dry=req.dry_run, applied=True)
    _respond_written(h, req, result)


def _apply_create(h: Handler, req: Request, applied: dict, manager: str) -> None:
    """Server-side apply of an object that does not exist yet: create it, owned by the manager."""
    if req.sub:
        raise not_found(req)
    obj = prepare_new(h, req, copy_json(applied))
    obj["metadata"]["managedFields"] = [owners_write.apply_entry(h, req, manager, applied)]
    created = obj if req.dry_run else h.api.store.create(req.rt.storage_gr, obj)
    h.send_json(201, out(req, created))


def _apply_merge(h: Handler, req: Request, old: dict, applied: dict, manager: str) -> dict:
    """The stored object with the applied configuration merged in and the manager's dropped fields removed."""
    new = patch.strategic_merge(out(req, copy_json(old)), applied)
    managed = old["metadata"].get("managedFields") or []
    mine = lambda e: e.get("manager") == manager and e.get("operation") == "Apply"  # noqa: E731
    previous = next((e for e in managed if mine(e)), None)
    entry = owners_write.apply_entry(h, req, manager, applied)
    if previous and isinstance(previous.get("fieldsV1"), dict):
        patch.remove_fields(new, patch.fieldset_removed(previous["fieldsV1"], entry["fieldsV1"]))
    entries = ssa.resolve([e for e in managed if not mine(e)], fieldowners.from_fields(entry["fieldsV1"]), old, new,
                          force=req.q("force") == "true", allowed=owners_write.last_applied_allowance(h, req, old,
                                                                                                    manager))
    new["metadata"]["managedFields"] = entries + [entry]
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
    owners_write.sync_last_applied(new, old, applied, manager)
    return new
