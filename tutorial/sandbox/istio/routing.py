"""How the simulated Envoy picks a response for one request: Gateway listener -> HTTPRoute rule -> backend.

Istio programs Gateway API routes so that a missing backend or a wrong backend port answers 500
(cluster_not_found_response_code), a listener without a matching route answers 404, and a
backend without ready endpoints answers 503 "no healthy upstream" (FACTS.md section b).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from tutorial.sandbox.istio import binding
from tutorial.sandbox.istio.model import World, hosts_match, key, meta, selector_matches


@dataclass
class Decision:
    """What the proxy does: an HTTP status, or forward to a ready backend Service."""

    status: int
    body: str = ""
    service: dict | None = None
    route: str = ""


def gateway_addresses(world: World, gateway: dict) -> list[dict]:
    """The addresses istiod publishes for a Gateway once it is programmed (empty until then)."""
    from tutorial.sandbox.istio import status

    prog, addresses = status.programmed(world, gateway)
    return addresses if prog["status"] == "True" else []


def gateways_at(world: World, address: str, port: int) -> list[dict]:
    """Istio-managed Gateways reachable at `address` that listen on `port`.

    An address counts when istiod would publish it now or when the Gateway's status already lists
    it (the sandbox's port-forward puts a synthetic address there to route "as this Gateway").
    """
    out = []
    for gw in world.gateways:
        published = [a.get("value") for a in (gw.get("status") or {}).get("addresses") or []]
        addrs = published + [a.get("value") for a in gateway_addresses(world, gw)]
        if address in addrs and binding.istio_manages(world, gw) and any(
                lst.port == port for lst in binding.listeners_of(gw)):
            out.append(gw)
    return sorted(out, key=lambda g: (meta(g).get("creationTimestamp", ""), key(g)))


def _path_ok(match: dict, path: str) -> tuple[bool, int, int]:
    """(matches, type rank, length): Exact beats PathPrefix beats RegularExpression."""
    spec = match.get("path") or {"type": "PathPrefix", "value": "/"}
    kind, value = spec.get("type", "PathPrefix"), spec.get("value", "/")
    if kind == "Exact":
        return path == value, 3, len(value)
    if kind == "RegularExpression":
        return re.fullmatch(value, path) is not None, 1, len(value)
    prefix = value.rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or prefix == "", 2, len(prefix)


def _match_ok(match: dict, method: str, path: str, headers: dict[str, str], query: dict[str, str]):
    ok, rank, length = _path_ok(match, path)
    if match.get("method") and match["method"] != method:
        ok = False
    for h in match.get("headers") or []:
        if headers.get(h.get("name", "").lower()) != h.get("value"):
            ok = False
    for q in match.get("queryParams") or []:
        if query.get(q.get("name", "")) != q.get("value"):
            ok = False
    weight = (rank, length, bool(match.get("method")), len(match.get("headers") or []),
              len(match.get("queryParams") or []))
    return ok, weight


def _route_hosts_ok(route: dict, listener_host: str, host: str) -> tuple[bool, int]:
    names = (route.get("spec") or {}).get("hostnames") or []
    candidates = names or [listener_host or "*"]
    if listener_host and not any(hosts_match(listener_host, n) for n in candidates):
        return False, 0
    for name in candidates:
        if name == "*" or (name.startswith("*.") and host.endswith(name[1:])) or name.lower() == host:
            return True, 0 if name.startswith("*") else 1
    return False, 0


def pick_rule(world: World, gateway: dict, port: int, host: str, method: str, path: str,
              headers: dict[str, str], query: dict[str, str]) -> tuple[dict, dict] | None:
    """The (route, rule) Envoy would use, by Gateway API precedence; None means 404."""
    attached = binding.attached_routes(world, gateway)
    best = None
    for lst in binding.listeners_of(gateway):
        if lst.port != port or lst.protocol_error:
            continue
        for route in attached.get(lst.name) or []:
            host_ok, host_rank = _route_hosts_ok(route, lst.hostname, host)
            if not host_ok:
                continue
            for rule in (route.get("spec") or {}).get("rules") or [{}]:
                for match in rule.get("matches") or [{}]:
                    ok, weight = _match_ok(match, method, path, headers, query)
                    order = (host_rank, *weight)
                    age = (meta(route).get("creationTimestamp", ""), key(route))
                    if ok and (best is None or order > best[0] or (order == best[0] and age < best[1])):
                        best = (order, age, route, rule)
    return (best[2], best[3]) if best else None


def _backend(world: World, route: dict, rule: dict) -> Decision:
    refs = [r for r in rule.get("backendRefs") or [] if int(r.get("weight", 1)) > 0]
    if not refs:
        return Decision(500)
    ref = random.choices(refs, weights=[int(r.get("weight", 1)) for r in refs])[0]
    route_ns = key(route)[0]
    ns = ref.get("namespace") or route_ns
    group, kind, name = ref.get("group", ""), ref.get("kind", "Service"), ref.get("name", "")
    if group not in ("", "core") or kind != "Service":
        return Decision(500)
    if ns != route_ns and not binding.grant_allows(world, route_ns, ns, group, kind, name):
        return Decision(500)
    svc = world.services.get((ns, name))
    ports = [int(p.get("port") or 0) for p in ((svc or {}).get("spec") or {}).get("ports") or []]
    if svc is None or int(ref.get("port") or 0) not in ports:
        return Decision(500)
    if not world.ready_addresses(ns, name):
        return Decision(503, "no healthy upstream")
    return Decision(200, service=svc, route=f"{route_ns}/{meta(route).get('name')}")


def decide(world: World, address: str, port: int, host: str, method: str, path: str,
           headers: dict[str, str], query: dict[str, str]) -> Decision:
    """The proxy's answer for one request arriving at address:port."""
    for gateway in gateways_at(world, address, port):
        return decide_for_gateway(world, gateway, port, host or address, method, path, headers, query)
    return Decision(404)


def decide_for_gateway(world: World, gateway: dict, port: int, host: str, method: str, path: str,
                       headers: dict[str, str], query: dict[str, str]) -> Decision:
    """The answer of one Gateway's proxy on a listener port (a port-forward to its Service lands here)."""
    host = host.split(":", 1)[0].lower()
    picked = pick_rule(world, gateway, port, host, method, path, headers, query)
    return _backend(world, *picked) if picked else Decision(404)


def backend_app(world: World, svc: dict) -> str:
    """"emojivoto-web" when the Service selects Emojivoto web pods, else "generic"."""
    selector = (svc.get("spec") or {}).get("selector") or {}
    if not selector:
        return "generic"
    ns = key(svc)[0]
    for pod in world.pods:
        if key(pod)[0] == ns and selector_matches({"matchLabels": selector}, meta(pod).get("labels") or {}):
            images = [c.get("image", "") for c in (pod.get("spec") or {}).get("containers") or []]
            if any("emojivoto-web" in i for i in images):
                return "emojivoto-web"
    return "generic"
