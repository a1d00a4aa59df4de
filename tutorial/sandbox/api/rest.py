"""The REST verbs of the sandbox API server: dispatch, get, list (paged), create, delete, deletecollection.

Writes over existing objects (update, patch, apply) live in rest_write.py, watch streams in
watchstream.py. Every verb is a function (handler, request) that answers through the handler.
"""

from __future__ import annotations

import base64
import json
import logging

from tutorial.sandbox.api import (attach, execws, kinds, lifecycle, patch, podlogs, portforward, requestcheck, resources,
                                  spdystreams, tables, websocket)
from tutorial.sandbox.api.apirequest import (ApiError, Handler, Request, accepts, current, current_to_read, from_store_error,
                                             out, out_json, partial, to_json)
from tutorial.sandbox.api.bodies import object_body
from tutorial.sandbox.api.rest_write import do_patch, do_replace, prepare_new
from tutorial.sandbox.api.watchstream import do_watch
from tutorial.sandbox.storage.objects import NAMESPACES, StoreError

log = logging.getLogger(__name__)
STREAMING = {"exec", "attach", "portforward", "proxy"}
NO_GET = STREAMING | {"eviction", "token", "finalize"}
PROTECTED_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


def dispatch(h: Handler, req: Request) -> None:
    """Run one REST verb; store errors become Status answers naming the resource."""
    if req.sub in STREAMING and req.rt.gr == ("", "pods") and req.method in ("GET", "POST"):
        _admit_connect(h, req)
    upgrade = websocket.wants_upgrade(h.headers) or spdystreams.wants(h)
    if req.sub == "exec" and upgrade:
        return execws.serve(h, req)
    if req.sub == "portforward" and req.rt.plural == "pods":
        return portforward.serve(h, req)
    if req.sub == "attach" and req.rt.plural == "pods" and (upgrade or req.q("stdin")):
        return attach.serve(h, req)
    if req.sub in ("exec", "attach") and req.rt.plural == "pods":
        raise ApiError(400, "BadRequest", "Upgrade request required")
    if req.sub in STREAMING:
        raise ApiError(400, "BadRequest", f"{req.rt.plural}/{req.sub} is not simulated by the sandbox: it simulates "
                                          "its containers, so nothing runs inside them; reach a LoadBalancer Service "
                                          "at its EXTERNAL-IP (kubectl get svc -A), or use kubectl port-forward")
    verb = _verb(req)
    if verb not in req.rt.verbs and not req.sub:
        raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested "
                                                f"resource ({req.rt.label} only supports {', '.join(req.rt.verbs)})")
    if req.rt.namespaced and req.name and not req.namespace and req.rt.gr != NAMESPACES:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if verb in ("list", "watch", "deletecollection") and req.q("fieldSelector"):
        requestcheck.check_field_selector(req.rt.storage_gr, req.q("fieldSelector"),
                                          requestcheck.selectable_fields(h.api.store, req.rt))
    try:
        _VERBS[verb](h, req)
    except StoreError as e:
        raise from_store_error(e, req.rt, req.name or "") from None
    except patch.PatchError as e:
        raise ApiError(e.code, "BadRequest" if e.code == 400 else "Invalid", e.message) from None
    except (TypeError, AttributeError, ValueError, KeyError) as e:
        if verb in ("get", "list", "watch"):
            raise
        # a body whose fields have unexpected types: the client's mistake, not a server error
        log.debug("malformed %s body for %s: %r", verb, req.rt.label, e)
        raise ApiError(400, "BadRequest", f"the {req.rt.kind} in the request is malformed ({e}); check the "
                                          "field types against the Kubernetes API reference") from None


def _admit_connect(h: Handler, req: Request) -> None:
    """A CONNECT (exec, attach, port-forward) meets the admission policies with its options object."""
    option_kinds = {"exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions",
                    "proxy": "PodProxyOptions"}
    options: dict = {"kind": option_kinds[req.sub], "apiVersion": "v1"}
    for flag in ("stdin", "stdout", "stderr", "tty"):
        if req.q(flag) in ("true", "1"):
            options[flag] = True
    if req.q("container"):
        options["container"] = req.q("container")
    if req.query.get("command"):
        options["command"] = list(req.query["command"])
    try:
        h.api.admission.admit_request(req.rt.storage_gr, h.api.store, "CONNECT", sub=req.sub, options=options,
                                      name=req.name or "", namespace=req.namespace or "",
                                      warnings=getattr(h, "warnings", None))
    except StoreError as e:
        raise from_store_error(e, req.rt, req.name or "") from None


def _verb(req: Request) -> str:
    m = req.method
    if m == "GET":
        return ("watch" if req.q("watch") in ("true", "1") else "list") if req.name is None else "get"
    if m == "POST" and req.name is None:
        return "create"
    if m == "POST" and req.sub:
        return "create"
    if req.name is None and m == "DELETE":
        return "deletecollection"
    if req.name is None:
        raise ApiError(405, "MethodNotAllowed", f"{m} needs an object name in the path")
    return {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(m, "unknown")


def do_get(h: Handler, req: Request) -> None:
    if req.sub in NO_GET:
        raise ApiError(405, "MethodNotAllowed", f"{req.rt.plural}/{req.sub} cannot be read with GET")
    if req.sub == "log":
        return podlogs.serve(h, req, current(h, req))
    stored = current_to_read(h, req)  # the stored object: only read below
    if req.sub == "scale":
        return h.send_json(200, kinds.scale_of(stored))
    if not accepts(h, "Table") and not accepts(h, "PartialObjectMetadata"):
        return h.send_bytes(200, out_json(h, req, stored), "application/json")
    obj = out(req, dict(stored))
    if accepts(h, "Table"):
        return h.send_json(200, tables.build_table(req.rt, [obj], obj["metadata"].get("resourceVersion")))
    h.send_json(200, partial(obj))


def encode_continue(ns: str | None, name: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([ns or "", name]).encode()).decode()


def decode_continue(token: str) -> tuple[str, str]:
    try:
        ns, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(ns), str(name)
    except (ValueError, TypeError):
        raise ApiError(400, "BadRequest", "the continue token is not valid; start the list again") from None


def _page(req: Request, items: list[dict]) -> tuple[list[dict], str | None]:
    token = req.q("continue")
    if token:
        after = decode_continue(token)
        items = [i for i in items if (i["metadata"].get("namespace") or "", i["metadata"]["name"]) > after]
    try:
        limit = int(req.q("limit") or 0)
    except ValueError:
        raise ApiError(400, "BadRequest", "limit must be a whole number") from None
    if limit <= 0 or len(items) <= limit:
        return items, None
    last = items[limit - 1]["metadata"]
    return items[:limit], encode_continue(last.get("namespace"), last["name"])


def do_list(h: Handler, req: Request) -> None:
    meta_only = accepts(h, "PartialObjectMetadataList")  # the journal's snapshots: names, uids, labels
    items, rv = h.api.store.list(req.rt.storage_gr, req.namespace, label_selector=req.q("labelSelector") or None,
                                 field_selector=req.q("fieldSelector") or None, metadata_only=meta_only,
                                 stored=not meta_only)  # the stored objects: only read (out() on a dict() of each)
    items, token = _page(req, items)
    if not meta_only and not accepts(h, "Table"):
        return _send_list(h, req, items, rv, token)
    items = items if meta_only else [out(req, dict(i)) for i in items]
    if accepts(h, "Table"):
        return h.send_json(200, tables.build_table(req.rt, items, str(rv), token))
    meta = {"resourceVersion": str(rv)}
    if token:
        meta["continue"] = token
    h.send_json(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",  # meta_only
                      "metadata": meta, "items": [partial(i) for i in items]})


def _send_list(h: Handler, req: Request, stored: list[dict], rv: int, token: str | None) -> None:
    """The List of stored objects, byte for byte what send_json writes, each item's JSON from out_json."""
    meta = {"resourceVersion": str(rv)}
    if token:
        meta["continue"] = token
    head = to_json({"kind": req.rt.kind + "List", "apiVersion": req.rt.api_version_for(req.version), "metadata": meta})
    items = b",".join(out_json(h, req, obj) for obj in stored)
    h.send_bytes(200, head[:-1] + b',"items":[' + items + b"]}", "application/json")


def do_create(h: Handler, req: Request) -> None:
    obj = object_body(req)
    rt = req.rt
    if rt.verbs == resources.CREATE_ONLY:
        return h.send_json(201, kinds.review_response(rt, obj))
    if req.sub:
        return _create_sub(h, req, obj)
    obj = prepare_new(h, req, obj)
    try:
        created = obj if req.dry_run else h.api.store.create(rt.storage_gr, obj)
    except StoreError as e:  # AlreadyExists names the object the body named, not the (empty) URL name
        raise from_store_error(e, rt, obj["metadata"]["name"]) from None
    h.send_json(201, out(req, created))


def _create_sub(h: Handler, req: Request, obj: dict) -> None:
    """POST to a subresource: pods/eviction deletes the pod, serviceaccounts/token mints a token."""
    current(h, req)
    if req.sub == "eviction":
        h.api.store.delete(req.rt.storage_gr, req.namespace, req.name)
        return h.send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                 "code": 201})
    if req.sub == "token":
        obj["status"] = {"token": "sandbox-token", "expirationTimestamp": "2099-01-01T00:00:00Z"}
        return h.send_json(201, obj)
    raise ApiError(405, "MethodNotAllowed", f"the sandbox cannot {req.sub} ({req.rt.plural}/{req.sub} is "
                                            "not simulated; use kubectl logs or get instead)")


def _delete_options(req: Request) -> dict:
    if not req.body.strip():
        return {}
    try:
        opts = json.loads(req.body)
    except json.JSONDecodeError:
        raise ApiError(400, "BadRequest", "the DeleteOptions body is not valid JSON") from None
    return opts if isinstance(opts, dict) else {}


def do_delete(h: Handler, req: Request) -> None:
    opts = _delete_options(req)
    old = current(h, req)
    pre = opts.get("preconditions") or {}
    for field in ("uid", "resourceVersion"):
        if pre.get(field) and pre[field] != old["metadata"].get(field):
            raise ApiError(409, "Conflict", f"Precondition failed: {field} in precondition: {pre[field]}, "
                                            f"{field} in object meta: {old['metadata'].get(field)}")
    if req.rt.gr == NAMESPACES and req.name in PROTECTED_NAMESPACES:
        raise ApiError(403, "Forbidden", f'namespaces "{req.name}" is forbidden: this namespace may not be deleted',
                       {"name": req.name, "kind": "namespaces"})
    h.api.admission.admit_request(req.rt.storage_gr, h.api.store, "DELETE", old=old,
                                  warnings=getattr(h, "warnings", None))
    if req.dry_run or opts.get("dryRun"):
        return h.send_json(200, out(req, old))
    h.send_json(200, out(req, lifecycle.delete(h.api.store, req.rt.storage_gr, req.namespace, req.name, old, opts)))


def do_deletecollection(h: Handler, req: Request) -> None:
    opts = _delete_options(req)
    items, rv = h.api.store.list(req.rt.storage_gr, req.namespace,
                                 label_selector=req.q("labelSelector") or None,
                                 field_selector=req.q("fieldSelector") or None)
    deleted = []
    for item in items:
        meta = item["metadata"]
        if req.rt.gr == NAMESPACES and meta["name"] in PROTECTED_NAMESPACES:
            continue
        h.api.admission.admit_request(req.rt.storage_gr, h.api.store, "DELETE", old=item,
                                      warnings=getattr(h, "warnings", None))
        try:
            deleted.append(out(req, lifecycle.delete(h.api.store, req.rt.storage_gr, meta.get("namespace"),
                                                     meta["name"], item, opts)))
        except StoreError:
            continue  # deleted meanwhile
    h.send_json(200, {"kind": req.rt.kind + "List", "apiVersion": req.rt.api_version_for(req.version),
                      "metadata": {"resourceVersion": str(h.api.store.resource_version)}, "items": deleted})


_VERBS = {"get": do_get, "list": do_list, "watch": do_watch, "create": do_create, "update": do_replace,
          "patch": do_patch, "delete": do_delete, "deletecollection": do_deletecollection}
