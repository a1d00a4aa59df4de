"""The simulated gateway Envoy: one request in, one response out, as Istio 1.27 programs it.

Routing is `routing.decide` (listener isolation, hostname intersection, precedence); this module
applies the HTTPRoute filters Istio translates to Envoy route configuration:

- RequestRedirect: scheme, hostname, port, path (ReplaceFullPath / ReplacePrefixMatch), 301/302;
  a port left out is the scheme's well-known one when the scheme changes, else the listener's,
  and a well-known port is left out of the Location, as Envoy writes it.
- URLRewrite (hostname, path), RequestHeaderModifier and ResponseHeaderModifier (set/add/remove),
  RequestMirror (the mirror receives a copy; the client gets the primary's answer), and
  RequestHeaderModifier on a backendRef (Istio's HTTPRouteBackendRequestHeaderModification).
- timeouts.request / timeouts.backendRequest: past them Envoy answers 504 "upstream request timeout".
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field

from tutorial.sandbox.istio import echo, emojivoto, routing
from tutorial.sandbox.istio.model import World

WELL_KNOWN = {"http": 80, "https": 443}
TIMEOUT_BODY = "upstream request timeout"
_DURATION = re.compile(r"(\d+)(ms|h|m|s)")


@dataclass
class Request:
    """What arrived at a listener; headers keep order and repeats, names as sent."""

    method: str
    target: str                     # path with query, as on the request line
    headers: list[tuple[str, str]]
    scheme: str = "http"
    port: int = 80
    client: str = ""
    body: bytes = b""

    @property
    def host(self) -> str:
        return self.header("host") or ""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def send(self, handler) -> None:
        """Write this answer through an http.server request handler (no body for HEAD)."""
        handler.send_response(self.status)
        for name, value in self.headers:
            handler.send_header(name, value)
        handler.send_header("content-length", str(len(self.body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(self.body)


def handle(world: World, address: str, port: int, req: Request, gateway: dict | None = None) -> Response:
    """Route one request and answer it like Istio's gateway Envoy (of `gateway` when the request came
    straight to its pod, as through a port-forward, rather than to an address)."""
    from urllib.parse import parse_qsl

    query = dict(parse_qsl(req.query, keep_blank_values=True))
    lowered = {k.lower(): v for k, v in req.headers}
    if gateway is not None:
        decision = routing.decide_for_gateway(world, gateway, port, req.host or "localhost", req.method, req.path,
                                              lowered, query)
    else:
        decision = routing.decide(world, address, port, req.host, req.method, req.path, lowered, query)
    if decision.picked is None:
        return _local(decision.status, decision.body)
    rule = decision.picked.rule
    filters = rule.get("filters") or []
    redirect = next((f.get("requestRedirect") or {} for f in filters if f.get("type") == "RequestRedirect"), None)
    if redirect is not None:
        return _redirect(redirect, decision.picked.match, req)
    upstream = _rewrite(filters, decision.picked.match, req)
    _mirror(world, decision.picked.route, filters, upstream)
    upstream = _modify_request(decision.backend_ref.get("filters") or [], upstream)
    if decision.service is None:
        return _local(decision.status, decision.body)
    response = _timed(rule.get("timeouts") or {}, lambda: _serve(world, decision, upstream))
    for f in filters:
        if f.get("type") == "ResponseHeaderModifier":
            response.headers = modify_headers(response.headers, f.get("responseHeaderModifier") or {})
    response.headers.append(("x-envoy-upstream-service-time", "1"))
    return response


def _local(status: int, body: str = "") -> Response:
    """A response Envoy makes itself (no route 404, no cluster 500, no endpoints 503)."""
    data = body.encode()
    return Response(status, [("content-type", "text/plain")] if data else [], data)


def replace_path(path: str, match: dict, spec: dict) -> str:
    """ReplaceFullPath, or ReplacePrefixMatch of the matched PathPrefix (no doubled slashes)."""
    if spec.get("type") == "ReplaceFullPath":
        return str(spec.get("replaceFullPath") or "/")
    if spec.get("type") != "ReplacePrefixMatch":
        return path
    prefix = str(((match.get("path") or {}).get("value")) or "/").rstrip("/")
    rest = path[len(prefix):] if path.startswith(prefix) else path
    replacement = str(spec.get("replacePrefixMatch") or "/")
    if not rest:
        return replacement
    return replacement.rstrip("/") + rest if rest.startswith("/") else replacement.rstrip("/") + "/" + rest


def _redirect(spec: dict, match: dict, req: Request) -> Response:
    scheme = spec.get("scheme") or req.scheme
    host = spec.get("hostname") or strip_port(req.host)
    if spec.get("port"):
        port = int(spec["port"])
    elif spec.get("scheme"):
        port = WELL_KNOWN.get(scheme, req.port)
    else:
        port = req.port
    authority = host if WELL_KNOWN.get(scheme) == port else f"{host}:{port}"
    path = replace_path(req.path, match, spec.get("path") or {})
    location = f"{scheme}://{authority}{path}" + (f"?{req.query}" if req.query else "")
    return Response(int(spec.get("statusCode") or 302), [("location", location)], b"")


def _rewrite(filters: list[dict], match: dict, req: Request) -> Request:
    """The request as the backend sees it: URLRewrite and RequestHeaderModifier applied."""
    out = Request(req.method, req.target, list(req.headers), req.scheme, req.port, req.client, req.body)
    for f in filters:
        if f.get("type") == "URLRewrite":
            spec = f.get("urlRewrite") or {}
            if spec.get("hostname"):
                out.headers = modify_headers(out.headers, {"set": [{"name": "host", "value": spec["hostname"]}]})
            if spec.get("path"):
                new_path = replace_path(out.path, match, spec["path"])
                out.target = new_path + (f"?{out.query}" if out.query else "")
    return _modify_request(filters, out)


def _modify_request(filters: list[dict], req: Request) -> Request:
    for f in filters:
        if f.get("type") == "RequestHeaderModifier":
            req.headers = modify_headers(req.headers, f.get("requestHeaderModifier") or {})
    return req


def modify_headers(headers: list[tuple[str, str]], spec: dict) -> list[tuple[str, str]]:
    """HTTPHeaderFilter: set replaces, add appends another value, remove drops (names case-insensitive)."""
    out = list(headers)
    for item in spec.get("set") or []:
        name = str(item.get("name", ""))
        out = [(k, v) for k, v in out if k.lower() != name.lower()] + [(name, str(item.get("value", "")))]
    for item in spec.get("add") or []:
        out.append((str(item.get("name", "")), str(item.get("value", ""))))
    removed = {str(n).lower() for n in spec.get("remove") or []}
    return [(k, v) for k, v in out if k.lower() not in removed]


def _mirror(world: World, route: dict, filters: list[dict], req: Request) -> None:
    """Send a copy to each RequestMirror backend (its percent/fraction of requests); answers are dropped."""
    for f in filters:
        if f.get("type") != "RequestMirror":
            continue
        spec = f.get("requestMirror") or {}
        if random.random() * 100 >= _mirror_percent(spec):
            continue
        target = routing.backend_decision(world, route, spec.get("backendRef") or {})
        if target.service is not None and routing.backend_app(world, target.service) != "emojivoto-web":
            echo.respond(world, target.service, req, mirrored=True)


def _mirror_percent(spec: dict) -> float:
    if spec.get("percent") is not None:
        return float(spec["percent"])
    fraction = spec.get("fraction")
    if fraction:
        return 100.0 * int(fraction.get("numerator", 0)) / max(1, int(fraction.get("denominator", 100)))
    return 100.0


def parse_duration(text: str | None) -> float | None:
    """A Gateway API Duration ("1h2m3s4ms", "500ms") in seconds; "0s" means no timeout."""
    if not text:
        return None
    seconds = sum(int(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit] for n, unit in _DURATION.findall(text))
    return seconds or None


def _timed(timeouts: dict, serve) -> Response:
    """Serve, unless the backend would answer after the route's request or backendRequest timeout."""
    limits = [t for t in (parse_duration(timeouts.get("request")), parse_duration(timeouts.get("backendRequest")))
              if t is not None]
    response = serve()
    delay = getattr(response, "delay", 0.0)
    limit = min(limits) if limits else None
    if limit is not None and delay > limit:
        time.sleep(limit)
        return Response(504, [("content-type", "text/plain")], TIMEOUT_BODY.encode())
    if delay:
        time.sleep(delay)
    return response


def _serve(world: World, decision: routing.Decision, req: Request) -> Response:
    """The backend's own answer: the simulated Emojivoto web app, or the echo server."""
    svc = decision.service
    if routing.backend_app(world, svc) == "emojivoto-web":
        from urllib.parse import parse_qsl

        query = dict(parse_qsl(req.query, keep_blank_values=True))
        status, ctype, body = emojivoto.respond(req.method, req.path, query, decision.route)
        return Response(status, [("content-type", ctype)], body.encode("utf-8"))
    return echo.respond(world, svc, req)


def strip_port(host: str) -> str:
    """example.org:8080 -> example.org (IPv6 literals keep their brackets)."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host
