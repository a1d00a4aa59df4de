"""What every REST verb of the sandbox API server shares: the parsed request, errors as Status, bodies.

Split out of server.py so the verbs (rest.py, rest_write.py, watchstream.py) and the HTTP plumbing
(server.py) can all use it without importing each other.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import yaml

from tutorial.lessons.safeyaml import JsonishLoader, safe_load
from tutorial.sandbox import protobuf, resources
from tutorial.sandbox.resources import Registry, ResourceType
from tutorial.sandbox.store import StoreError

if TYPE_CHECKING:
    from tutorial.sandbox.server import Handler


class ApiError(Exception):
    """An error answered as a Kubernetes Status."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def from_store_error(e: StoreError, rt: ResourceType | None, name: str = "") -> ApiError:
    """A store error as the ApiError the real server answers for it."""
    # like the real server: Invalid names the Kind, the other errors name the resource (plural)
    name = getattr(e, "name", "") or name
    details = {"name": name, "kind": (rt.kind if e.code == 422 else rt.plural) if rt else ""}
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
    if sub and sub not in rt.subresources:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource ({rt.plural}/{sub})")
    if namespace and not rt.namespaced:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return rt, version, namespace, name, sub


def decode_body(req: Request) -> object:
    """The request body as JSON data, whatever the content type; raises 400/415."""
    ctype = (req.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
    if ctype == "application/vnd.kubernetes.protobuf":
        try:
            return protobuf.decode(req.body)
        except protobuf.ProtobufError as e:
            raise ApiError(415, "UnsupportedMediaType", str(e)) from None
    text = req.body.decode("utf-8", errors="replace")
    try:
        if ctype in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
            data = safe_load(text, JsonishLoader)
        elif ctype.startswith("application/") and ctype.endswith("json"):
            data = json.loads(text)
        else:
            raise ApiError(415, "UnsupportedMediaType",
                           f'the body of the request was in an unknown format - accepted media types include: '
                           f'application/json, application/yaml, application/vnd.kubernetes.protobuf (got "{ctype}")')
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ApiError(400, "BadRequest", f"the request body is not valid JSON or YAML: {e}") from None
    except RecursionError:
        raise ApiError(400, "BadRequest", "the request body is nested too deeply") from None
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
        return resources.event_to_events_v1(obj)
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
