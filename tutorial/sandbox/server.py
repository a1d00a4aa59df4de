"""The sandbox API server: plain HTTP on loopback that real kubectl and the kubernetes client accept.

Built on the standard library's ThreadingHTTPServer: kubectl and client-go only need HTTP/1.1
(keep-alive, chunked watch streams), so no extra dependency is worth it. One daemon thread per
connection; every answer that is not a success is a Kubernetes Status.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import random
import re
import select
import socket
import string
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from tutorial.sandbox import discovery, openapi, patch, protobuf, resources, tables
from tutorial.sandbox.admission import DEFAULT as DEFAULT_ADMISSION, Admission
from tutorial.sandbox.resources import Registry, ResourceType, attach_crd_sync
from tutorial.sandbox.store import NAMESPACES, Store, StoreError, copy_json, now_iso

log = logging.getLogger(__name__)
BOOKMARK_INTERVAL = 5.0
DEFAULT_WATCH_SECONDS = 1800


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


def _from_store_error(e: StoreError, rt: ResourceType | None, name: str = "") -> ApiError:
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


class _JsonishLoader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings, as Kubernetes' YAML-to-JSON conversion does."""


_JsonishLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


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
            data = yaml.load(text, Loader=_JsonishLoader)  # noqa: S506 - a SafeLoader subclass
        elif ctype.startswith("application/") and ctype.endswith("json"):
            data = json.loads(text)
        else:
            raise ApiError(415, "UnsupportedMediaType",
                           f'the body of the request was in an unknown format - accepted media types include: '
                           f'application/json, application/yaml, application/vnd.kubernetes.protobuf (got "{ctype}")')
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ApiError(400, "BadRequest", f"the request body is not valid JSON or YAML: {e}") from None
    return data


def _object_body(req: Request) -> dict:
    data = decode_body(req)
    if not isinstance(data, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object (a Kubernetes resource)")
    if not isinstance(data.get("metadata", {}), dict):
        raise ApiError(400, "BadRequest", "metadata must be an object")
    return data


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many kubectl processes may connect at once

    def handle_error(self, request, client_address) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class ApiServer:
    """A loopback Kubernetes API server over a Store; start() binds, url tells where."""

    def __init__(self, store: Store, registry: Registry, host: str = "127.0.0.1", port: int = 0,
                 faults=None, admission: Admission | None = None):
        self.store, self.registry, self.faults = store, registry, faults
        self.admission = admission or DEFAULT_ADMISSION
        self.host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._unsync = None
        self.stopping = threading.Event()
        self.bookmark_interval = BOOKMARK_INTERVAL
        self._connections: set = set()
        self._conn_lock = threading.Lock()
        self.open_watches = 0  # streams being served now; watch_changed notifies on every change
        self.watch_changed = threading.Condition()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ApiServer":
        self._unsync = attach_crd_sync(self.store, self.registry)
        ensure_system_namespaces(self.store)
        self.stopping.clear()
        handler = type("BoundHandler", (Handler,), {"api": self})
        self._httpd = _HTTPServer((self.host, self._port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"sandbox-api-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection (clients see the server go away)."""
        self.stopping.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._conn_lock:
            conns, self._connections = list(self._connections), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client
        if self._unsync:
            self._unsync()
        if self._thread:
            self._thread.join(5)


class Handler(BaseHTTPRequestHandler):
    """One HTTP request; routes to discovery, openapi or the REST verbs."""

    protocol_version = "HTTP/1.1"
    api: ApiServer

    def setup(self) -> None:
        super().setup()
        # answers go out in several writes; without NODELAY, Nagle + delayed ACK add ~40 ms each
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.api._conn_lock:
            self.api._connections.add(self.connection)

    def finish(self) -> None:
        with self.api._conn_lock:
            self.api._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass  # the peer is gone

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from the base class
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_OPTIONS(self):
        self._serve("OPTIONS")

    def do_HEAD(self):
        self._read_body()
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        self._streaming = False
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return self.send_json(400, status_body(400, "BadRequest", "the request body could not be read"))
        faults = self.api.faults
        if faults is not None and faults.unreachable():
            self.close_connection = True  # as if nothing listened: no answer at all
            return
        try:
            self._route(method, body)
        except ApiError as e:
            self.send_json(e.code, status_body(e.code, e.reason, e.message, e.details))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - a bug must become a 500, never a dead server
            log.exception("sandbox API server: unexpected error on %s %s", method, self.path)
            if getattr(self, "_streaming", False):
                self.close_connection = True  # mid-stream: the only honest signal left is to hang up
                return
            self.send_json(500, status_body(500, "InternalError", f"sandbox API server error: {e}"))

    def _route(self, method: str, body: bytes) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        if self._plain(method, parts):
            return
        faults = self.api.faults
        if faults is not None and faults.api_error_now():
            raise ApiError(500, "InternalError", "an error on the server (simulated fault flaky-api) "
                                                 "has prevented the request from succeeding")
        if len(parts) >= 3 and ((parts[0] == "api" and parts[1] == "v1") or (parts[0] == "apis" and len(parts) >= 4)):
            rt, version, ns, name, sub = parse_resource_path(parts, self.api.registry)
            req = Request(method, rt, version, ns, name, sub, query, self.headers, body)
            return dispatch(self, req)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _plain(self, method: str, parts: list[str]) -> bool:
        """Non-resource endpoints: health, version, discovery, openapi. True when answered."""
        reg = self.api.registry
        if method != "GET":
            return False
        if parts in (["healthz"], ["readyz"], ["livez"]):
            self.send_text(200, "ok")
        elif parts == ["version"]:
            self.send_json(200, discovery.VERSION_INFO)
        elif parts == ["api"]:
            self.send_json(200, discovery.api_versions(f"{self.api.host}:{self.api.port}"))
        elif parts == ["apis"]:
            self.send_json(200, discovery.api_group_list(reg))
        elif len(parts) == 2 and parts[0] == "apis" and parts[1] in reg.group_versions():
            self.send_json(200, dict(discovery.api_group(parts[1], reg.group_versions()[parts[1]]),
                                     kind="APIGroup", apiVersion="v1"))
        elif parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
            group, version = ("", "v1") if parts[0] == "api" else (parts[1], parts[2])
            doc = discovery.api_resource_list(reg, group, version)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self.send_json(200, doc)
        elif parts[:2] == ["openapi", "v3"]:
            self._openapi(parts[2:])
        elif parts[:2] == ["openapi", "v2"] or parts == ["swagger.json"]:
            self.send_bytes(200, openapi.v2_protobuf(), openapi.V2_PROTOBUF_TYPE)
        else:
            return False
        return True

    def _openapi(self, rest_parts: list[str]) -> None:
        reg = self.api.registry
        if not rest_parts:
            return self.send_json(200, openapi.root_doc(reg, self.api.store))
        if rest_parts[0] == "api" and len(rest_parts) == 2:
            doc = openapi.group_version_doc(reg, "", rest_parts[1], self.api.store)
        elif rest_parts[0] == "apis" and len(rest_parts) == 3:
            doc = openapi.group_version_doc(reg, rest_parts[1], rest_parts[2], self.api.store)
        else:
            doc = None
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self.send_json(200, doc)

    # ---- writing answers ----
    def send_json(self, code: int, data: object) -> None:
        self.send_bytes(code, json.dumps(data, separators=(",", ":")).encode(), "application/json")

    def send_text(self, code: int, text: str) -> None:
        self.send_bytes(code, text.encode(), "text/plain; charset=utf-8")

    def send_bytes(self, code: int, payload: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(payload)

    def start_stream(self) -> None:
        self._streaming = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

    def send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def ensure_system_namespaces(store: Store) -> None:
    """Create the namespaces every Kubernetes API server creates for itself, when missing."""
    rt = Registry.builtin().by_gr(NAMESPACES)
    for name in SYSTEM_NAMESPACES:
        if store.get(NAMESPACES, None, name) is None:
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            resources.builtin_defaults(rt, obj)
            try:
                store.create(NAMESPACES, obj)
            except StoreError:
                pass  # created concurrently


def random_suffix(n: int = 5) -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=n))


def encode_continue(ns: str | None, name: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([ns or "", name]).encode()).decode()


def decode_continue(token: str) -> tuple[str, str]:
    try:
        ns, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(ns), str(name)
    except (ValueError, TypeError):
        raise ApiError(400, "BadRequest", "the continue token is not valid; start the list again") from None


# ---- REST verbs ----
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_NAME_RULES = {
    "label": (re.compile(rf"{_LABEL}"), 63, "a lowercase RFC 1123 label must consist of lower case alphanumeric "
              "characters or '-', and must start and end with an alphanumeric character"),
    "subdomain": (re.compile(rf"{_LABEL}(\.{_LABEL})*"), 253, "a lowercase RFC 1123 subdomain must consist of "
                  "lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
}


def dispatch(h: Handler, req: Request) -> None:
    """Run one REST verb; store errors become Status answers naming the resource."""
    if req.sub in STREAMING:
        hint = ("reach a LoadBalancer Service at its EXTERNAL-IP (kubectl get svc -A) instead"
                if req.sub in ("portforward", "proxy") else "use kubectl get, describe or logs to inspect them")
        raise ApiError(400, "BadRequest", f"the sandbox simulates its containers, so {req.rt.plural}/{req.sub} is "
                                          f"not available; {hint}")
    verb = _verb(req)
    if verb not in req.rt.verbs and not req.sub:
        raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested "
                                                f"resource ({req.rt.label} only supports {', '.join(req.rt.verbs)})")
    if req.rt.namespaced and req.name and not req.namespace and req.rt.gr != NAMESPACES:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    try:
        _VERBS[verb](h, req)
    except StoreError as e:
        raise _from_store_error(e, req.rt, req.name or "") from None
    except patch.PatchError as e:
        raise ApiError(e.code, "BadRequest" if e.code == 400 else "Invalid", e.message) from None
    except (TypeError, AttributeError, ValueError, KeyError) as e:
        if verb in ("get", "list", "watch"):
            raise
        # a body whose fields have unexpected types: the client's mistake, not a server error
        log.debug("malformed %s body for %s: %r", verb, req.rt.label, e)
        raise ApiError(400, "BadRequest", f"the {req.rt.kind} in the request is malformed ({e}); check the "
                                          "field types against the Kubernetes API reference") from None


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


def _accepts(h: Handler, what: str) -> bool:
    first = (h.headers.get("Accept") or "").split(",")[0]
    return f"as={what}" in first.replace(" ", "")


def out(req: Request, obj: dict) -> dict:
    """An object as the requested group/version shows it."""
    if req.rt.group == "events.k8s.io":
        return resources.event_to_events_v1(obj)
    obj["apiVersion"] = req.rt.api_version_for(req.version)
    obj["kind"] = req.rt.kind
    return obj


def _partial(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def _not_found(req: Request, name: str | None = None) -> ApiError:
    name = name or req.name or ""
    details = {"name": name, "kind": req.rt.plural}
    if req.rt.group:
        details["group"] = req.rt.group
    return ApiError(404, "NotFound", f'{req.rt.label} "{name}" not found', details)


def _current(h: Handler, req: Request) -> dict:
    obj = h.api.store.get(req.rt.storage_gr, req.namespace, req.name)
    if obj is None:
        raise _not_found(req)
    return obj


STREAMING = {"exec", "attach", "portforward", "proxy"}
NO_GET = STREAMING | {"eviction", "token", "finalize"}


def do_get(h: Handler, req: Request) -> None:
    if req.sub in NO_GET:
        raise ApiError(405, "MethodNotAllowed", f"{req.rt.plural}/{req.sub} cannot be read with GET")
    obj = _current(h, req)
    if req.sub == "log":
        return h.send_text(200, resources.pod_log(obj, req.q("container") or None))
    if req.sub == "scale":
        return h.send_json(200, resources.scale_of(obj))
    obj = out(req, obj)
    if _accepts(h, "Table"):
        return h.send_json(200, tables.build_table(req.rt, [obj], obj["metadata"].get("resourceVersion")))
    h.send_json(200, _partial(obj) if _accepts(h, "PartialObjectMetadata") else obj)


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
    items, rv = h.api.store.list(req.rt.storage_gr, req.namespace, label_selector=req.q("labelSelector") or None,
                                 field_selector=req.q("fieldSelector") or None)
    items, token = _page(req, items)
    items = [out(req, i) for i in items]
    if _accepts(h, "Table"):
        return h.send_json(200, tables.build_table(req.rt, items, str(rv), token))
    meta = {"resourceVersion": str(rv)}
    if token:
        meta["continue"] = token
    if _accepts(h, "PartialObjectMetadataList"):
        return h.send_json(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": meta, "items": [_partial(i) for i in items]})
    h.send_json(200, {"kind": req.rt.kind + "List", "apiVersion": req.rt.api_version_for(req.version),
                      "metadata": meta, "items": items})


def _event_line(type_: str, obj: dict) -> bytes:
    return json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _watch_line(h: Handler, req: Request, type_: str, obj: dict) -> bytes:
    """One watch event; `kubectl get -w` asks for each object as a one-row Table."""
    obj = out(req, obj)
    if _accepts(h, "Table"):
        obj = tables.build_table(req.rt, [obj], obj["metadata"].get("resourceVersion"))
    return _event_line(type_, obj)


def do_watch(h: Handler, req: Request) -> None:
    """Newline-delimited JSON events until timeoutSeconds, a dropped-watch fault or server stop."""
    api, store = h.api, h.api.store
    try:
        timeout = float(req.q("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        rv_param = req.q("resourceVersion")
        since = int(rv_param) if rv_param not in ("", "0") else None
    except ValueError:
        raise ApiError(400, "BadRequest", "resourceVersion and timeoutSeconds must be numbers") from None
    selectors = {"label_selector": req.q("labelSelector") or None, "field_selector": req.q("fieldSelector") or None}
    initial: list[dict] = []
    if since is None:
        initial, since = store.list(req.rt.storage_gr, req.namespace, **selectors)
    try:
        w = store.watch(req.rt.storage_gr, req.namespace, since_rv=since, **selectors)
    except StoreError as e:  # 410 travels inside the stream, as client-go expects
        h.start_stream()
        h.send_chunk(_event_line("ERROR", status_body(e.code, e.reason, e.message)))
        return h.end_stream()
    h.start_stream()
    _count_watch(api, +1)
    try:
        for obj in initial:
            h.send_chunk(_watch_line(h, req, "ADDED", obj))
        _pump(h, req, w, time.monotonic() + timeout, req.q("allowWatchBookmarks") in ("true", "1"))
        h.end_stream()
    except OSError:
        h.close_connection = True  # the client went away
    finally:
        w.close()
        _count_watch(api, -1)


def _count_watch(api: ApiServer, delta: int) -> None:
    with api.watch_changed:
        api.open_watches += delta
        api.watch_changed.notify_all()


def _peer_closed(conn: socket.socket) -> bool:
    """True when the client has closed its side (readable, and a peek reads nothing)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _pump(h: Handler, req: Request, w, deadline: float, bookmarks: bool) -> None:
    api = h.api
    last_bookmark = time.monotonic()
    while not api.stopping.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or (api.faults is not None and api.faults.drop_watch_now()):
            return
        event = w.next(timeout=min(left, 1.0, api.bookmark_interval))
        if event is None and _peer_closed(h.connection):
            raise ConnectionResetError("the watch client went away")  # free the thread now, not at timeout
        if event is not None:
            h.send_chunk(_watch_line(h, req, event[0], event[1]))
        elif bookmarks and time.monotonic() - last_bookmark >= api.bookmark_interval:
            rv = api.store.resource_version
            if w._queue.empty():  # every event up to rv has been sent: the bookmark is truthful
                mark = {"kind": req.rt.kind, "apiVersion": req.rt.api_version_for(req.version),
                        "metadata": {"resourceVersion": str(rv)}}
                h.send_chunk(_event_line("BOOKMARK", mark))
            last_bookmark = time.monotonic()


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
    if req.rt.group == "rbac.authorization.k8s.io":
        return  # RBAC names may hold ':' (system:...) like the real API server allows
    rule = "label" if req.rt.gr in (NAMESPACES, ("", "services")) else "subdomain"
    pattern, max_len, text = _NAME_RULES[rule]
    if not pattern.fullmatch(name) or len(name) > max_len:
        cause = f'Invalid value: "{name}": {text} (e.g. \'my-name\')'
        raise ApiError(422, "Invalid", f'{req.rt.kind} "{name}" is invalid: metadata.name: {cause}',
                       {"name": name, "kind": req.rt.kind,
                        "causes": [{"reason": "FieldValueInvalid", "message": cause, "field": "metadata.name"}]})


def _check_shape(req: Request, obj: dict, old: dict | None = None) -> None:
    """422 with causes when the object is ill-typed (or, for a CRD update, drops a stored version)."""
    causes = resources.validate_shape(req.rt, obj)
    if not causes and old is not None and req.rt.gr == resources.CRDS:
        causes = resources.crd_update_causes(obj, old)
    if causes:
        name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
        name = name if isinstance(name, str) else ""
        raise ApiError(422, "Invalid", f'{req.rt.kind} "{name}" is invalid: '
                       + "; ".join(f"{f}: {m}" for f, m in causes),
                       {"name": name, "kind": req.rt.kind,
                        "causes": [{"reason": "FieldValueInvalid", "field": f, "message": m} for f, m in causes]})


def prepare_new(h: Handler, req: Request, obj: dict) -> dict:
    """A request body made ready for store.create: names, namespace, defaults, admission."""
    rt = req.rt
    if rt.group == "events.k8s.io":
        obj = resources.event_from_events_v1(obj)
    else:
        obj.update(apiVersion=rt.api_version_for(req.version), kind=rt.kind)
    _check_shape(req, obj)
    meta = obj.setdefault("metadata", {})
    for field in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation", "managedFields"):
        meta.pop(field, None)
    if not meta.get("name") and isinstance(meta.get("generateName"), str) and meta["generateName"]:
        meta["name"] = meta["generateName"] + random_suffix()
    if req.name and meta.get("name") and meta["name"] != req.name:
        raise ApiError(400, "BadRequest", f"the name of the object ({meta['name']}) does not match the name on "
                                          f"the URL ({req.name})")
    meta.setdefault("name", req.name or "")
    if not meta["name"]:
        raise ApiError(422, "Invalid", f"{rt.kind} is invalid: metadata.name: Required value: name or "
                                       "generateName is required",
                       {"kind": rt.kind, "causes": [{"reason": "FieldValueRequired", "field": "metadata.name",
                                                       "message": "Required value: name or generateName is required"}]})
    _check_name(req, meta["name"])
    _place(h, req, meta)
    if "status" in rt.subresources and rt.gr != NAMESPACES:
        obj.pop("status", None)
    resources.builtin_defaults(rt, obj)
    return h.api.admission.admit(rt.storage_gr, obj, None, h.api.store, crd=rt.crd,
                                 field_validation=req.q("fieldValidation"))


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


def do_create(h: Handler, req: Request) -> None:
    obj = _object_body(req)
    rt = req.rt
    if rt.verbs == resources.CREATE_ONLY:
        return h.send_json(201, resources.review_response(rt, obj))
    if req.sub:
        return _create_sub(h, req, obj)
    obj = prepare_new(h, req, obj)
    created = obj if req.dry_run else h.api.store.create(rt.storage_gr, obj)
    h.send_json(201, out(req, created))


def _create_sub(h: Handler, req: Request, obj: dict) -> None:
    """POST to a subresource: pods/eviction deletes the pod, serviceaccounts/token mints a token."""
    _current(h, req)
    if req.sub == "eviction":
        h.api.store.delete(req.rt.storage_gr, req.namespace, req.name)
        return h.send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                 "code": 201})
    if req.sub == "token":
        obj["status"] = {"token": "sandbox-token", "expirationTimestamp": "2099-01-01T00:00:00Z"}
        return h.send_json(201, obj)
    raise ApiError(405, "MethodNotAllowed", f"the sandbox cannot {req.sub} ({req.rt.plural}/{req.sub} is "
                                            "not simulated; use kubectl logs or get instead)")


PATCH_TYPES = {"application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml"}


def _write(h: Handler, req: Request, new: dict, old: dict) -> dict:
    """Store an updated object the way the (sub)resource in the path allows."""
    store, rt, gr = h.api.store, req.rt, req.rt.storage_gr
    if rt.group == "events.k8s.io":
        new = resources.event_from_events_v1(new)
    _check_shape(req, new, old)
    meta = new.setdefault("metadata", {})
    if meta.get("name", req.name) != req.name:
        raise ApiError(400, "BadRequest", f"the name of the object ({meta.get('name')}) does not match the name "
                                          f"on the URL ({req.name})")
    meta["name"] = req.name
    if rt.namespaced:
        meta["namespace"] = req.namespace
    if req.sub == "status":
        return store.update(gr, new, subresource="status")
    if req.sub == "scale":
        old = copy_json(old)
        old.setdefault("spec", {})["replicas"] = (new.get("spec") or {}).get("replicas", 1)
        old["metadata"]["resourceVersion"] = meta.get("resourceVersion") or old["metadata"]["resourceVersion"]
        return resources.scale_of(store.update(gr, old))
    if rt.gr == NAMESPACES:
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = req.name
    else:
        resources.keep_allocated(rt, new, old)
        resources.builtin_defaults(rt, new)
    if req.sub != "finalize":
        h.api.admission.admit(gr, new, old, store, crd=rt.crd, field_validation=req.q("fieldValidation"))
    result = store.update(gr, new)
    if "status" not in rt.subresources and "status" in new and new["status"] != result.get("status"):
        with_status = dict(result, status=new["status"])
        with_status["metadata"] = dict(result["metadata"])
        with_status["metadata"].pop("resourceVersion", None)
        result = store.update(gr, with_status, subresource="status")
    return result


def _respond_written(h: Handler, req: Request, result: dict, code: int = 200) -> None:
    h.send_json(code, result if req.sub == "scale" else out(req, result))


def do_replace(h: Handler, req: Request) -> None:
    obj = _object_body(req)
    old = _current(h, req)
    result = obj if req.dry_run else _write(h, req, obj, old)
    _respond_written(h, req, result)


def _content_type(req: Request) -> str:
    return (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def do_patch(h: Handler, req: Request) -> None:
    ctype = _content_type(req)
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
        old = _current(h, req)
        base = resources.scale_of(old) if req.sub == "scale" else out(req, copy_json(old))
        new = _patched(ctype, base, data)
        if not explicit_rv:
            new.setdefault("metadata", {})["resourceVersion"] = old["metadata"]["resourceVersion"]
        try:
            result = new if req.dry_run else _write(h, req, new, old)
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
    applied = _object_body(req)
    manager = req.q("fieldManager") or "unknown"
    meta = applied.setdefault("metadata", {})
    for field in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation", "managedFields"):
        meta.pop(field, None)
    old = h.api.store.get(req.rt.storage_gr, req.namespace, req.name)
    if old is None:
        if req.sub:
            raise _not_found(req)
        obj = prepare_new(h, req, copy_json(applied))
        obj["metadata"]["managedFields"] = [_managed_entry(req, manager, applied)]
        created = obj if req.dry_run else h.api.store.create(req.rt.storage_gr, obj)
        return h.send_json(201, out(req, created))
    if req.sub == "status":
        applied = {"status": applied.get("status") or {}}
    else:
        applied.pop("status", None)
    new = patch.strategic_merge(out(req, copy_json(old)), applied)
    entries = [e for e in old["metadata"].get("managedFields") or []
               if not (e.get("manager") == manager and e.get("operation") == "Apply")]
    previous = next((e for e in old["metadata"].get("managedFields") or []
                     if e.get("manager") == manager and e.get("operation") == "Apply"), None)
    entry = _managed_entry(req, manager, applied)
    if previous and isinstance(previous.get("fieldsV1"), dict):
        patch.remove_fields(new, patch.fieldset_removed(previous["fieldsV1"], entry["fieldsV1"]))
    new["metadata"]["managedFields"] = entries + [entry]
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
    result = new if req.dry_run else _write(h, req, new, old)
    _respond_written(h, req, result)


def _managed_entry(req: Request, manager: str, applied: dict) -> dict:
    body = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}
    body["metadata"] = {k: v for k, v in (applied.get("metadata") or {}).items() if k not in ("name", "namespace")}
    if not body["metadata"]:
        body.pop("metadata")
    return {"manager": manager, "operation": "Apply", "apiVersion": req.rt.api_version_for(req.version),
            "time": now_iso(), "fieldsType": "FieldsV1", "fieldsV1": patch.fieldset(body)}


PROTECTED_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


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
    old = _current(h, req)
    pre = opts.get("preconditions") or {}
    for field in ("uid", "resourceVersion"):
        if pre.get(field) and pre[field] != old["metadata"].get(field):
            raise ApiError(409, "Conflict", f"Precondition failed: {field} in precondition: {pre[field]}, "
                                            f"{field} in object meta: {old['metadata'].get(field)}")
    if req.rt.gr == NAMESPACES and req.name in PROTECTED_NAMESPACES:
        raise ApiError(403, "Forbidden", f'namespaces "{req.name}" is forbidden: this namespace may not be deleted',
                       {"name": req.name, "kind": "namespaces"})
    if req.dry_run or opts.get("dryRun"):
        return h.send_json(200, out(req, old))
    h.send_json(200, out(req, h.api.store.delete(req.rt.storage_gr, req.namespace, req.name)))


def do_deletecollection(h: Handler, req: Request) -> None:
    items, rv = h.api.store.list(req.rt.storage_gr, req.namespace,
                                 label_selector=req.q("labelSelector") or None,
                                 field_selector=req.q("fieldSelector") or None)
    deleted = []
    for item in items:
        meta = item["metadata"]
        if req.rt.gr == NAMESPACES and meta["name"] in PROTECTED_NAMESPACES:
            continue
        try:
            deleted.append(out(req, h.api.store.delete(req.rt.storage_gr, meta.get("namespace"), meta["name"])))
        except StoreError:
            continue  # deleted meanwhile
    h.send_json(200, {"kind": req.rt.kind + "List", "apiVersion": req.rt.api_version_for(req.version),
                      "metadata": {"resourceVersion": str(h.api.store.resource_version)}, "items": deleted})


_VERBS = {"get": do_get, "list": do_list, "watch": do_watch, "create": do_create, "update": do_replace,
          "patch": do_patch, "delete": do_delete, "deletecollection": do_deletecollection}
