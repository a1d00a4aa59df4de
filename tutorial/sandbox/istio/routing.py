"""How the simulated Envoy picks a response for one request: Gateway listener -> HTTPRoute rule -> backend.

Istio programs Gateway API routes so that a missing backend or a wrong backend port answers 500
(cluster_not_found_response_code), a listener without a matching route answers 404, and a
backend without ready endpoints answers 503 "no healthy upstream" (FACTS.md section b).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tutorial.sandbox.istio import binding, matching
from tutorial.sandbox.istio.model import World, key, meta, selector_matches


@dataclass
class Decision:
    """What the proxy does: an HTTP status, or forward to a ready backend Service."""

    status: int
    body: str = ""
    service: dict | None = None
    route: str = ""
    picked: "matching.Picked | None" = None   # listener, route, rule and match used
    backend_ref: dict = field(default_factory=dict)  # the weighted backendRef chosen


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


def pick_rule(world: World, gateway: dict, port: int, host: str, method: str, path: str,
              headers: dict[str, str], query: dict[str, str]) -> tuple[dict, dict] | None:
    """The (route, rule) Envoy would use, by Gateway API precedence; None means 404."""
    picked = matching.pick(world, gateway, port, host, method, path, headers, query)
    return (picked.route, picked.rule) if picked else None


def _backend(world: World, route: dict, rule: dict) -> Decision:
    refs = [r for r in rule.get("backendRefs") or [] if int(r.get("weight", 1)) > 0]
    if not refs:
        return Decision(500)
    ref = random.choices(refs, weights=[int(r.get("weight", 1)) for r in refs])[0]
    decision = backend_decision(world, route, ref)
    decision.backend_ref = ref
    return decision


def backend_decision(world: World, route: dict, ref: dict) -> Decision:
    """Forward to one backendRef: 500 when it cannot be used, 503 without ready endpoints."""
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
    picked = matching.pick(world, gateway, port, host, method, path, headers, query)
    if picked is None:
        return Decision(404)
    if _redirects(picked.rule):
        return Decision(0, picked=picked)  # answered by the redirect filter, no backend
    decision = _backend(world, picked.route, picked.rule)
    decision.picked = picked
    return decision


def _redirects(rule: dict) -> bool:
    return any(f.get("type") == "RequestRedirect" for f in rule.get("filters") or [])


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
