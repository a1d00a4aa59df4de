"""What every REST verb of the sandbox API server shares: the parsed request, errors as Status, answers.

The bottom of the API layer's request path: the verbs (rest.py, rest_write.py, watchstream.py...)
and the HTTP side (handler.py) import it, it imports none of them. Handler is the interface the
verbs use of the connection serving a request; bodies are decoded in bodies.py.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from typing import Any, BinaryIO, Protocol

from tutorial.sandbox.api import kinds
from tutorial.sandbox.api.resources import Registry, ResourceType
from tutorial.sandbox.storage.objects import StoreError


class Handler(Protocol):
    """What the REST verbs use of the HTTP exchange serving a request; handler.Handler provides it.

    A Protocol, so the verbs never import the HTTP layer that calls them.
    """

    api: Any  # the ApiServer (server.py): store, registry, admission, faults, stopping, watch counters
    headers: Any  # the request's headers (an email.message.Message)
    connection: socket.socket
    rfile: BinaryIO
    wfile: BinaryIO
    close_connection: bool

    def send_json(self, code: int, data: object) -> None: ...

    def send_bytes(self, code: int, payload: bytes, ctype: str, headers: dict | None = None) -> None: ...

    def send_response(self, code: int, message: str | None = None) -> None: ...

    def send_header(self, keyword: str, value: str) -> None: ...

    def end_headers(self) -> None: ...

    def start_stream(self) -> None: ...

    def send_chunk(self, data: bytes) -> None: ...

    def end_stream(self) -> None: ...


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


def current_to_read(h: Handler, req: Request) -> dict:
    """The stored object itself (read-only: no deep copy of, say, a CRD's schema), 404 when there is none."""
    obj = h.api.store.peek(req.rt.storage_gr, req.namespace, req.name)
    if obj is None:
        raise not_found(req)
    return obj


def to_json(value: Any) -> bytes:
    """The body Handler.send_json writes."""
    return json.dumps(value, separators=(",", ":")).encode()


def out_json(h: Handler, req: Request, obj: dict) -> bytes:
    """to_json(out(req, obj)) for a stored object (left unchanged): the store keeps a large object's
    encoding while it is stored, used when out() would change nothing (same apiVersion and kind)."""
    if req.rt.group != "events.k8s.io" and obj.get("kind") == req.rt.kind \
            and obj.get("apiVersion") == req.rt.api_version_for(req.version):
        return h.api.store.encoded(obj, to_json)
    return to_json(out(req, dict(obj)))
