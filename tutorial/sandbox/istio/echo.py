"""A simulated echo backend, like the Gateway API conformance echo server (echo-basic).

Every Service that is not Emojivoto's web app answers with JSON saying what it received - method,
path, host, headers - and which pod in which namespace served it, so header and rewrite filters
can be watched with curl. Like echo-basic it answers /status/NNN with that status, waits for
?delay=DURATION, copies X-Echo-Set-Header entries into the response, and logs "Echoing back
request made to PATH to client (ADDR)" - shown by `kubectl logs` on the pod, which is how a
RequestMirror's copy can be seen.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from typing import Any

from tutorial.sandbox.istio.model import World, key

LOG_LINES = 200
_GO_DURATION = re.compile(r"([0-9.]+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def canonical(name: str) -> str:
    """Go's CanonicalMIMEHeaderKey: x-header-set -> X-Header-Set."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _serving_pod(world: World, svc: dict) -> dict:
    """The targetRef (namespace, name, uid) of a ready endpoint of the Service, chosen like kube-proxy."""
    ns, name = key(svc)
    addresses = world.ready_addresses(ns, name)
    target = dict(random.choice(addresses).get("targetRef") or {}) if addresses else {}
    target.setdefault("namespace", ns)
    return target


def _go_duration(text: str) -> float:
    return sum(float(n) * _UNITS[u] for n, u in _GO_DURATION.findall(text))


def upstream_headers(req: Any) -> list[tuple[str, str]]:
    """What Istio's gateway Envoy adds on the way to the backend."""
    added = [("X-Forwarded-Proto", req.scheme), ("X-Request-Id", str(uuid.uuid4())),
             ("X-Envoy-Attempt-Count", "1")]
    if req.client:
        added.insert(0, ("X-Forwarded-For", req.client))
    return list(req.headers) + added


def body_for(req: Any, namespace: str, pod: str) -> dict:
    headers: dict[str, list[str]] = {}
    for name, value in upstream_headers(req):
        if name.lower() != "host":
            headers.setdefault(canonical(name), []).append(value)
    return {"path": req.target, "host": req.host, "method": req.method, "proto": "HTTP/1.1",
            "headers": headers, "namespace": namespace, "ingress": "", "service": "", "pod": pod}


def respond(world: World, svc: dict, req: Any, mirrored: bool = False):
    """The echo server's answer (a Response with a `delay` in seconds); mirrored copies are only logged."""
    from tutorial.sandbox.istio.envoy import Response

    target = _serving_pod(world, svc)
    namespace, pod = target["namespace"], target.get("name", "")
    log(target, f"Echoing back request made to {req.target} to client ({req.client})")
    if mirrored:
        return None
    status = re.fullmatch(r"/status/(\d\d\d)", req.target)
    if req.target.startswith("/status/"):
        return Response(int(status.group(1)) if status else 400)
    from urllib.parse import parse_qs

    delay = _go_duration((parse_qs(req.query).get("delay") or [""])[0])
    data = json.dumps(body_for(req, namespace, pod), indent=1).encode()
    headers = [("content-type", "application/json"), ("x-content-type-options", "nosniff")]
    headers += _echo_set_headers(req)
    response = Response(200, headers, data)
    response.delay = delay
    return response


def _echo_set_headers(req: Any) -> list[tuple[str, str]]:
    out = []
    for name, value in req.headers:
        if name.lower() == "x-echo-set-header":
            for pair in value.split(","):
                header, _, val = pair.strip().partition(":")
                out.append((header, val))
    return out


def log(target: dict, line: str) -> None:
    """A line in the serving pod's log (`kubectl logs`), kept in memory: logging changes no object."""
    from tutorial.sandbox.kubelet import servedlogs

    if target.get("uid"):
        servedlogs.append(target["uid"], line)
