"""Which listeners an HTTPRoute attaches to, and whether its backends resolve (Istio 1.27 rules).

Pure functions over a `World`: the status writer and the data plane both use them, so what
`kubectl describe httproute` says and what the simulated gateway answers always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tutorial.sandbox.istio.model import (GROUP, ISTIO_CONTROLLER, World, hosts_match, key, meta,
                                          namespace_labels, selector_matches)

HTTPROUTE_KIND = f"{GROUP}/v1/HTTPRoute"
SUPPORTED_PROTOCOLS = ("HTTP", "HTTPS", "TLS", "TCP", "HBONE")
# When every listener rejects a parentRef, the most telling reason is reported.
_PRIORITY = {"NotAllowedByListeners": 3, "NoMatchingListenerHostname": 2, "NoMatchingParent": 1}


@dataclass
class Listener:
    """One listener of a Gateway as Istio sees it."""

    gateway: dict
    index: int
    name: str
    port: int
    protocol: str
    hostname: str
    allowed: dict
    protocol_error: str | None
    supported_kinds: list[dict]
    kinds_valid: bool

    @property
    def gateway_key(self) -> tuple[str, str]:
        return key(self.gateway)


@dataclass
class ParentResult:
    """The outcome for one parentRef: accepted listeners, or why none accepted it."""

    ref: dict
    gateway_key: tuple[str, str]
    listeners: list[str] = field(default_factory=list)
    denied: tuple[str, str] | None = None  # (reason, message)


def protocol_error(protocol: str) -> str | None:
    """Istio's listenerProtocolToIstio message for a protocol it will not program, else None."""
    if protocol in ("HTTP", "HTTPS"):
        return None
    if protocol in ("TLS", "TCP"):
        return (f'protocol "{protocol}" is supported, but only when '
                "PILOT_ENABLE_ALPHA_GATEWAY_API=true is configured")
    if protocol == "HBONE":
        return f'protocol "{protocol}" is only supported for waypoint proxies'
    upper = protocol.upper()
    if upper in SUPPORTED_PROTOCOLS:
        return f'protocol "{protocol}" is unsupported. hint: "{upper}" (uppercase) may be supported'
    return f'protocol "{protocol}" is unsupported'


def _supported_kinds(listener: dict) -> tuple[list[dict], bool]:
    if listener.get("protocol") in ("HTTP", "HTTPS"):
        supported = [{"group": GROUP, "kind": "HTTPRoute"}, {"group": GROUP, "kind": "GRPCRoute"}]
    else:
        supported = []
    wanted = (listener.get("allowedRoutes") or {}).get("kinds") or []
    if not wanted:
        return supported, True
    pick = [s for s in supported
            if any(s["kind"] == w.get("kind") and s["group"] == (w.get("group") or GROUP) for w in wanted)]
    return pick, len(pick) == len(wanted)


def listeners_of(gateway: dict) -> list[Listener]:
    out = []
    for i, raw in enumerate((gateway.get("spec") or {}).get("listeners") or []):
        kinds, valid = _supported_kinds(raw)
        protocol = str(raw.get("protocol") or "")
        out.append(Listener(gateway=gateway, index=i, name=str(raw.get("name") or ""),
                            port=int(raw.get("port") or 0), protocol=protocol,
                            hostname=str(raw.get("hostname") or ""),
                            allowed=raw.get("allowedRoutes") or {},
                            protocol_error=protocol_error(protocol),
                            supported_kinds=kinds, kinds_valid=valid))
    return out


def allowed_namespaces(world: World, listener: Listener) -> list[str]:
    """Namespaces a listener admits routes from: ["*"], its own, or those its selector picks."""
    spec = listener.allowed.get("namespaces") or {}
    origin = spec.get("from") or "Same"
    if origin == "All":
        return ["*"]
    if origin != "Selector":
        return [key(listener.gateway)[0]]
    selector = spec.get("selector")
    if selector is None:
        return ["*"]
    return sorted(n for n in world.namespaces if selector_matches(selector, namespace_labels(world, n)))


def _reject(listener: Listener, ref: dict, hostnames: list[str], route_ns: str,
            world: World) -> tuple[str, str] | None:
    """Istio's referenceAllowed: None when this listener accepts the route."""
    if ref.get("port") and int(ref["port"]) != listener.port:
        return "NoMatchingParent", f"port {ref['port']} not found"
    if ref.get("sectionName") and ref["sectionName"] != listener.name:
        return "NoMatchingParent", f'sectionName "{ref["sectionName"]}" not found'
    host = listener.hostname or "*"
    namespaces = allowed_namespaces(world, listener) or ["~"]
    host_matched = False
    for route_host in hostnames or ["*"]:
        if hosts_match(host, route_host):
            host_matched = True
            if "*" in namespaces or route_ns in namespaces:
                break
    else:
        if host_matched:
            return ("NotAllowedByListeners", f'hostnames matched parent hostname "{listener.hostname}", '
                    f'but namespace "{route_ns}" is not allowed by the parent')
        return "NoMatchingListenerHostname", f'no hostnames matched parent hostname "{listener.hostname}"'
    if not any(k["kind"] == "HTTPRoute" for k in listener.supported_kinds):
        return "NotAllowedByListeners", f"kind {HTTPROUTE_KIND} is not allowed"
    return None


def istio_manages(world: World, gateway: dict) -> bool:
    """True for Gateways whose class is Istio's own managed controller."""
    return world.class_controller((gateway.get("spec") or {}).get("gatewayClassName", "")) == ISTIO_CONTROLLER


def normalized_ref(ref: dict) -> dict:
    """A parentRef with the CRD defaults filled in (group, kind); namespace left as written."""
    out = dict(ref)
    out.setdefault("group", GROUP)
    out.setdefault("kind", "Gateway")
    return out


def bind_route(world: World, route: dict) -> list[ParentResult]:
    """One ParentResult per parentRef that resolves to a Gateway Istio manages."""
    route_ns = key(route)[0]
    spec = route.get("spec") or {}
    hostnames = [str(h) for h in spec.get("hostnames") or []]
    results = []
    for raw in spec.get("parentRefs") or []:
        ref = normalized_ref(raw)
        if ref["group"] != GROUP or ref["kind"] != "Gateway":
            continue
        gw = world.gateway(ref.get("namespace") or route_ns, ref.get("name", ""))
        if gw is None or not istio_manages(world, gw):
            continue
        result = ParentResult(ref=ref, gateway_key=key(gw))
        denials = []
        for listener in listeners_of(gw):
            reason = _reject(listener, ref, hostnames, route_ns, world)
            if reason is None:
                result.listeners.append(listener.name)
            else:
                denials.append(reason)
        if not result.listeners:
            result.denied = max(denials, key=lambda d: _PRIORITY.get(d[0], 0), default=(
                "NoMatchingParent", "no listeners"))
        results.append(result)
    return results


def backend_error(world: World, route: dict) -> tuple[str, str] | None:
    """The first backendRef problem of a route as (reason, message), as Istio's buildDestination."""
    route_ns = key(route)[0]
    for rule in (route.get("spec") or {}).get("rules") or []:
        for ref in rule.get("backendRefs") or []:
            problem = _backend_problem(world, ref, route_ns)
            if problem:
                return problem
    return None


def _backend_problem(world: World, ref: dict, route_ns: str) -> tuple[str, str] | None:
    name, target_ns = str(ref.get("name") or ""), ref.get("namespace")
    group, kind = ref.get("group", ""), ref.get("kind", "Service")
    if target_ns and target_ns != route_ns and not grant_allows(world, route_ns, target_ns, group, kind, name):
        return ("RefNotPermitted", f'backendRef {name}/{target_ns} not accessible to a HTTPRoute in '
                f'namespace "{route_ns}" (missing a ReferenceGrant?)')
    namespace = target_ns or route_ns
    if group in ("", "core") and kind == "Service":
        if "." in name:
            return ("InvalidDestination",
                    "service name invalid; the name of the Service must be used, not the hostname.")
        if (namespace, name) not in world.services:
            return "BackendNotFound", f"backend({name}.{namespace}.svc.cluster.local) not found"
        return None
    if (group, kind) in (("networking.istio.io", "Hostname"), ("multicluster.x-k8s.io", "ServiceImport")):
        return None
    return "InvalidKind", f'referencing unsupported backendRef: group "{group}" kind "{kind}"'


def grant_allows(world: World, from_ns: str, to_ns: str, group: str, kind: str, name: str) -> bool:
    """A ReferenceGrant in to_ns lets HTTPRoutes in from_ns reference this backend."""
    for grant in world.grants:
        if meta(grant).get("namespace") != to_ns:
            continue
        spec = grant.get("spec") or {}
        src = any(f.get("group") == GROUP and f.get("kind") == "HTTPRoute" and f.get("namespace") == from_ns
                  for f in spec.get("from") or [])
        dst = any((t.get("group") or "") == (group or "") and t.get("kind") == kind
                  and (not t.get("name") or t.get("name") == name) for t in spec.get("to") or [])
        if src and dst:
            return True
    return False


def attached_routes(world: World, gateway: dict) -> dict[str, list[dict]]:
    """Listener name -> HTTPRoutes bound to it (regardless of backend errors)."""
    out: dict[str, list[dict]] = {lst.name: [] for lst in listeners_of(gateway)}
    for route in world.routes:
        names = {n for r in bind_route(world, route) if r.gateway_key == key(gateway) for n in r.listeners}
        for name in names:
            out.setdefault(name, []).append(route)
    return out
