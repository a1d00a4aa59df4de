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

from tutorial.sandbox.istio.model import PODS, World, key

LOG_ANNOTATION = "sandbox.gateway-tutorial/log"
LOG_LINES = 200
_GO_DURATION = re.compile(r"([0-9.]+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def canonical(name: str) -> str:
    """Go's CanonicalMIMEHeaderKey: x-header-set -> X-Header-Set."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _serving_pod(world: World, svc: dict) -> tuple[str, str]:
    """(namespace, pod name) of a ready endpoint of the Service, chosen at random like kube-proxy."""
    ns, name = key(svc)
    addresses = world.ready_addresses(ns, name)
    if not addresses:
        return ns, ""
    target = random.choice(addresses).get("targetRef") or {}
    return target.get("namespace") or ns, target.get("name") or ""


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


def respond(world: World, store: Any, svc: dict, req: Any, mirrored: bool = False):
    """The echo server's answer (a Response with a `delay` in seconds); mirrored copies are only logged."""
    from tutorial.sandbox.istio.envoy import Response

    namespace, pod = _serving_pod(world, svc)
    if pod:
        log(store, namespace, pod, f"Echoing back request made to {req.target} to client ({req.client})")
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


def log(store: Any, namespace: str, pod: str, line: str) -> None:
    """Append a line to the pod's simulated log (what `kubectl logs` prints), keeping the last lines."""
    if store is None:  # answered through the API from another process: no store to log in
        return
    for _ in range(3):  # a controller may write the pod at the same time: retry on conflict
        obj = store.get(PODS, namespace, pod)
        if obj is None:
            return
        annotations = obj["metadata"].setdefault("annotations", {})
        lines = (annotations.get(LOG_ANNOTATION, "").splitlines() + [line])[-LOG_LINES:]
        annotations[LOG_ANNOTATION] = "\n".join(lines) + "\n"
        try:
            store.update(PODS, obj)
            return
        except Exception:  # noqa: BLE001 - a conflict: read again and retry
            continue
