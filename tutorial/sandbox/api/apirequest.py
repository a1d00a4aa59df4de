"""What every REST verb of the sandbox API server shares: the parsed request, errors as Status, bodies.

Split out of server.py so the verbs (rest.py, rest_write.py, watchstream.py) and the HTTP plumbing
(server.py) can all use it without importing each other.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import yaml

from tutorial.lessons.safeyaml import JsonishLoader, Limits
from tutorial.sandbox.api import kinds, protobuf
from tutorial.sandbox.api.resources import Registry, ResourceType
from tutorial.sandbox.storage.objects import StoreError

if TYPE_CHECKING:
    from tutorial.sandbox.api.server import Handler


class ApiError(Exception):
    """An error answered as a Kubernetes Status."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details or code == 404:
        # kubectl (debug) reads details of every 404: never leave it out; fields in StatusDetails' order
        order = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
        body["details"] = {k: details[k] for k in sorted(details or {}, key=lambda k: order.index(k)
                                                           if k in order else len(order))}
    body["code"] = code  # after details, in the order the real server writes a Status's fields
    return body


def from_store_error(e: StoreError, rt: ResourceType | None, name: str = "") -> ApiError:
    """A store error as the ApiError the real server answers for it."""
    # like the real server: Invalid names the Kind, the other errors name the resource (plural)
    name = getattr(e, "name", "") or name
    details = {"name": name, "kind": (rt.kind if e.code == 422 else rt.plural) if rt else ""}
    if getattr(e, "status_details", None):  # errors that know their own details (admission policy denials)
        details.update(e.status_details)
    if rt and rt.group:
        details["group"] = rt.group
    causes = getattr(e, "causes", None)
    if causes:
        details["causes"] = [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes]
    return ApiError(e.code, e.reason, e.message, details)


@dataclasses.dataclass
class Request:
    method: str
    rt: ResourceType
    version: str
    namespace: str | None
    name: str | None
    sub: str | None
    query: dict
    headers: object
    body: bytes

    def q(self, key: str, default: str = "") -> str:
        return self.query.get(key, [default])[-1]

    @property
    def dry_run(self) -> bool:
        return bool(self.query.get("dryRun"))


def parse_resource_path(parts: list[str], registry: Registry):
    """Map /api/v1/... or /apis/G/V/... segments to (rt, version, namespace, name, sub)."""
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        group, version, rest = parts[1], parts[2], parts[3:]
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    rt = registry.lookup(group, version, rest[0])
    if rt is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub == "ephemeralcontainers" and rt.gr == ("", "pods"):
        raise ApiError(404, "NotFound", "pods/ephemeralcontainers is not simulated by the sandbox: its containers "
                                        "are simulated, so kubectl debug cannot attach to them; use kubectl logs, "
                                        "get or describe instead")
    if sub and sub not in rt.subresources:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource ({rt.plural}/{sub})")
    if namespace and not rt.namespaced:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return rt, version, namespace, name, sub


class _JsonishLoader(JsonishLoader):
    """The bounded loader (safeyaml.py), noting whether the body used aliases at all.

    Its caps are a backstop set above the API server's own limits, so that requestcheck.py answers
    first, in the real server's words ("excessive aliasing", "exceeded max depth").
    """

    limits = Limits(alias_nodes=10**12, alias_chars=10**15, depth=1000)  # the walk in requestcheck bounds the work
    anchors_seen = False

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.anchors_seen = True  # aliases expand when copied: the expanded size is checked
        return super().compose_node(parent, index)


def decode_body(req: Request) -> object:
    """The request body as JSON data, whatever the content type; raises 400/415."""
    ctype = (req.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
    if ctype == "application/vnd.kubernetes.protobuf":
        try:
            return protobuf.decode(req.body)
        except protobuf.ProtobufError as e:
            raise ApiError(415, "UnsupportedMediaType", str(e)) from None
    from tutorial.sandbox.api import requestcheck  # imports this module: a late import breaks the cycle

    text = req.body.decode("utf-8", errors="replace")
    try:
        if ctype in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
            data = _load_yaml(text, req)
        elif ctype.startswith("application/") and ctype.endswith("json"):
            try:
                data = json.loads(text)
            except RecursionError:
                raise requestcheck.too_deep(req.rt.kind, req.body) from None
            requestcheck.check_depth(data, req.rt.kind, req.body)
        else:
            raise ApiError(415, "UnsupportedMediaType",
                           f'the body of the request was in an unknown format - accepted media types include: '
                           f'application/json, application/yaml, application/vnd.kubernetes.protobuf (got "{ctype}")')
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ApiError(400, "BadRequest", f"the request body is not valid JSON or YAML: {e}") from None
    except RecursionError:
        raise ApiError(400, "BadRequest", "the request body is nested too deeply") from None
    return data


def _load_yaml(text: str, req: Request) -> object:
    """YAML as JSON data, refusing excessive alias expansion and nesting before building anything."""
    from tutorial.sandbox.api import requestcheck

    loader = _JsonishLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:  # deeper than Python composes: past the server's depth limit anyway
            raise requestcheck.too_deep(req.rt.kind, req.body) from None
        requestcheck.check_yaml_node(node, req.rt.kind, req.body)
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    if loader.anchors_seen and len(json.dumps(data, separators=(",", ":"))) > requestcheck.MAX_BODY_BYTES:
        raise requestcheck.too_large()
    return data


def object_body(req: Request) -> dict:
    """The request body as one Kubernetes object; 400 when it is anything else."""
    data = decode_body(req)
    if not isinstance(data, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object (a Kubernetes resource)")
    if not isinstance(data.get("metadata", {}), dict):
        raise ApiError(400, "BadRequest", "metadata must be an object")
    return data


def content_type(req: Request) -> str:
    return (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def accepts(h: Handler, what: str) -> bool:
    """True when the client's first Accept choice asks for `as=<what>` (Table, PartialObjectMetadata...)."""
    first = (h.headers.get("Accept") or "").split(",")[0]
    return f"as={what}" in first.replace(" ", "")


def out(req: Request, obj: dict) -> dict:
    """An object as the requested group/version shows it."""
    if req.rt.group == "events.k8s.io":
        return kinds.event_to_events_v1(obj)
    obj["apiVersion"] = req.rt.api_version_for(req.version)
    obj["kind"] = req.rt.kind
    return obj


def partial(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def not_found(req: Request, name: str | None = None) -> ApiError:
    name = name or req.name or ""
    details = {"name": name, "kind": req.rt.plural}
    if req.rt.group:
        details["group"] = req.rt.group
    return ApiError(404, "NotFound", f'{req.rt.label} "{name}" not found', details)


def current(h: Handler, req: Request) -> dict:
    """The stored object the request's path names; 404 when there is none."""
    obj = h.api.store.get(req.rt.storage_gr, req.namespace, req.name)
    if obj is None:
        raise not_found(req)
    return obj
