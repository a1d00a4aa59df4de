"""Status that Istio 1.27 writes on GatewayClasses, Gateways and HTTPRoutes, as pure functions.

Each function takes the object and a `World` and returns the whole new `status`; the controller
writes it only when it differs from the stored one (ignoring timestamps).
"""

from __future__ import annotations

from tutorial.sandbox.istio import binding, tls
from tutorial.sandbox.istio.model import (DOMAIN, ISTIO_CONTROLLER, REMOTE_CONTROLLER, World, cond,
                                          human_join, key, meta, set_conditions)

KNOWN_CONTROLLERS = (ISTIO_CONTROLLER, REMOTE_CONTROLLER)
NO_ERRORS = "No errors found"


def class_status(gc: dict) -> dict | None:
    """Accepted for classes Istio knows; None (leave untouched) for anybody else's."""
    if (gc.get("spec") or {}).get("controllerName") not in KNOWN_CONTROLLERS:
        return None
    status = dict(gc.get("status") or {})
    wanted = [cond("Accepted", True, "Accepted", "Handled by Istio controller")]
    status["conditions"] = set_conditions(status.get("conditions"), wanted, meta(gc).get("generation", 1))
    return status


def service_name(gateway: dict) -> str:
    """`<gateway>-<class>`, or the gateway.istio.io/name-override annotation."""
    m = meta(gateway)
    override = (m.get("annotations") or {}).get("gateway.istio.io/name-override")
    return override or f"{m['name']}-{(gateway.get('spec') or {}).get('gatewayClassName', '')}"


def service_fqdn(gateway: dict) -> str:
    return f"{service_name(gateway)}.{key(gateway)[0]}.svc.{DOMAIN}"


def _listener_status(world: World, gateway: dict, attached: dict[str, list[dict]]) -> list[dict]:
    generation = meta(gateway).get("generation", 1)
    old = {s.get("name"): s for s in (gateway.get("status") or {}).get("listeners") or []}
    out = []
    for lst in binding.listeners_of(gateway):
        wanted = [cond("Accepted", True, "Accepted", NO_ERRORS),
                  cond("Conflicted", False, "NoConflicts", NO_ERRORS),
                  cond("Programmed", True, "Programmed", NO_ERRORS),
                  cond("ResolvedRefs", True, "ResolvedRefs", NO_ERRORS)]
        if lst.protocol_error:
            wanted[0] = cond("Accepted", False, "UnsupportedProtocol", lst.protocol_error)
        if not lst.kinds_valid:
            wanted[3] = cond("ResolvedRefs", False, "InvalidRouteKinds", "Invalid route kinds")
        raw = ((gateway.get("spec") or {}).get("listeners") or [])[lst.index]
        cert = tls.listener_tls(world, gateway, raw)
        if cert is not None and not cert.ok:  # Istio's buildListener: refs unresolved, listener not built
            wanted[3] = cond("ResolvedRefs", False, cert.reason, cert.message)
            wanted[2] = cond("Programmed", False, "Invalid", "Bad TLS configuration")
        previous = (old.get(lst.name) or {}).get("conditions")
        out.append({"name": lst.name, "supportedKinds": lst.supported_kinds,
                    "attachedRoutes": len(attached.get(lst.name) or []),
                    "conditions": set_conditions(previous, wanted, generation)})
    return out


def _ports(gateway: dict) -> list[int]:
    seen: list[int] = []
    for lst in binding.listeners_of(gateway):
        if lst.port and lst.port not in seen:
            seen.append(lst.port)
    return seen


def is_managed(gateway: dict) -> bool:
    """Istio deploys the Gateway itself unless spec.addresses names an existing Service (manual mode)."""
    addresses = (gateway.get("spec") or {}).get("addresses") or []
    if not addresses:
        return True
    return len(addresses) == 1 and (addresses[0].get("type") or "IPAddress") == "IPAddress"


def gateway_services(gateway: dict) -> list[str]:
    """Service hostnames the Gateway is bound to: its own `<gw>-<class>`, or the Hostname addresses."""
    if is_managed(gateway):
        return [service_fqdn(gateway)]
    ns, out = key(gateway)[0], []
    for addr in (gateway.get("spec") or {}).get("addresses") or []:
        if (addr.get("type") or "IPAddress") == "Hostname" and addr.get("value"):
            value = addr["value"]
            out.append(value if "." in value else f"{value}.{ns}.svc.{DOMAIN}")
    return out


def _service_for(world: World, fqdn: str) -> dict | None:
    parts = fqdn.split(".")
    if len(parts) >= 3 and parts[2] == "svc":
        return world.services.get((parts[1], parts[0]))
    return None


def _port_hint(svc: dict, port: int) -> str:
    """Istio's hint when a listener port is the pods' port rather than the Service's."""
    matches = [int(p.get("port") or 0) for p in (svc.get("spec") or {}).get("ports") or []
               if p.get("targetPort") == port]
    if not matches:
        return ""
    return (" (hint: the service port should be specified, not the workload port. Did you mean one of "
            f"these ports: [{' '.join(str(m) for m in matches)}]?)")


def _resolve(world: World, gateway: dict, svc: dict, fqdn: str) -> tuple[list[str], list[str], bool]:
    """Per listener port: (internal "svc:port" names, warnings, all addresses usable)."""
    svc_ports = {int(p.get("port") or 0) for p in (svc.get("spec") or {}).get("ports") or []}
    ready = bool(world.ready_addresses(*key(svc)))
    internal, warnings, usable = [], [], True
    ips = [a["value"] for a in _addresses(svc, fqdn) if a["type"] == "IPAddress"]
    for port in _ports(gateway):
        lost = [world.unusable[(ip, port)] for ip in ips if (ip, port) in world.unusable]
        if port not in svc_ports:
            warnings.append(f'port {port} not found for hostname "{fqdn}"{_port_hint(svc, port)}')
            usable = False
        elif lost:
            # Istio's wording for an address it cannot use, with the sandbox's reason why.
            warnings.append(f'port {port} of hostname "{fqdn}" is not usable: SIMULATED data plane {lost[0]}')
            usable = False
        elif ready:
            internal.append(f"{fqdn}:{port}")
        elif f'no instances found for hostname "{fqdn}"' not in warnings:
            warnings.append(f'no instances found for hostname "{fqdn}"')
    return internal, warnings, usable


def _instances(world: World, gateway: dict) -> tuple[list[str], list[str], bool, list[dict]]:
    """ResolveGatewayInstances over every bound Service: internal names, warnings, usable, addresses."""
    internal, warnings, usable, addresses = [], [], True, []
    for fqdn in gateway_services(gateway):
        svc = _service_for(world, fqdn)
        if svc is None:
            warnings.append(f'hostname "{fqdn}" not found')
            usable = False
            continue
        found, warns, ok = _resolve(world, gateway, svc, fqdn)
        internal, warnings, usable = internal + found, warnings + warns, usable and ok
        mine = _addresses(svc, fqdn) if found else []
        if found and not mine:
            warnings.append(f'address pending for hostname "{fqdn}"')
        addresses += mine
    return internal, warnings, usable, addresses


def programmed(world: World, gateway: dict) -> tuple[dict, list[dict]]:
    """Istio's setProgrammedCondition: (Programmed condition, status addresses)."""
    if not gateway_services(gateway):
        return cond("Programmed", False, "UnsupportedAddress", "Failed to assign to any requested addresses"), []
    internal, warnings, usable, addresses = _instances(world, gateway)
    if not warnings:
        return cond("Programmed", True, "Programmed",
                    f"Resource programmed, assigned to service(s) {human_join(internal)}"), addresses
    reason = "AddressNotAssigned" if usable else "AddressNotUsable"
    if internal:
        msg = (f"Assigned to service(s) {human_join(internal)}, but failed to assign to all "
               f"requested addresses: {'; '.join(warnings)}")
    else:
        msg = f"Failed to assign to any requested addresses: {'; '.join(warnings)}"
    return cond("Programmed", False, reason, msg), addresses


def _addresses(svc: dict, fqdn: str) -> list[dict]:
    """LoadBalancer ingress IPs/hostnames; for ClusterIP/NodePort the Service hostname itself."""
    if (svc.get("spec") or {}).get("type", "ClusterIP") != "LoadBalancer":
        return [{"type": "Hostname", "value": fqdn}]
    out = []
    for ingress in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
        if ingress.get("ip"):
            out.append({"type": "IPAddress", "value": ingress["ip"]})
        elif ingress.get("hostname"):
            out.append({"type": "Hostname", "value": ingress["hostname"]})
    return out


def gateway_status(world: World, gateway: dict) -> dict | None:
    """The status Istio writes for a Gateway, or None when the class is not Istio's."""
    controller = world.class_controller((gateway.get("spec") or {}).get("gatewayClassName", ""))
    status = dict(gateway.get("status") or {})
    generation = meta(gateway).get("generation", 1)
    if controller == REMOTE_CONTROLLER:
        wanted = [cond("Accepted", True, "Accepted", "Resource accepted"),
                  cond("Programmed", True, "Programmed", "This Gateway is remote; Istio will not program it")]
        status["conditions"] = set_conditions(status.get("conditions"), wanted, generation)
        return status
    if controller != ISTIO_CONTROLLER:
        return None
    prog, addresses = programmed(world, gateway)
    wanted = [cond("Accepted", True, "Accepted", "Resource accepted"), prog]
    status["conditions"] = set_conditions(status.get("conditions"), wanted, generation)
    if addresses:
        status["addresses"] = addresses
    else:
        status.pop("addresses", None)
    status["listeners"] = _listener_status(world, gateway, binding.attached_routes(world, gateway))
    return status


def route_status(world: World, route: dict) -> dict:
    """HTTPRoute status: other controllers' parents kept, Istio's recomputed from scratch."""
    current = (route.get("status") or {}).get("parents") or []
    parents = [p for p in current if p.get("controllerName") != ISTIO_CONTROLLER]
    generation = meta(route).get("generation", 1)
    results = binding.bind_route(world, route)
    backend = binding.backend_error(world, route)
    accepted_count = sum(1 for r in results if r.denied is None)
    for result in results:
        msg = "Route was valid"
        if accepted_count > 1:
            msg = f"Route was valid, bound to {accepted_count} parents"
        accepted = cond("Accepted", True, "Accepted", msg)
        if result.denied:
            accepted = cond("Accepted", False, *result.denied)
        resolved = cond("ResolvedRefs", True, "ResolvedRefs", "All references resolved")
        if backend:
            resolved = cond("ResolvedRefs", False, *backend)
        previous = next((p.get("conditions") for p in current
                         if p.get("controllerName") == ISTIO_CONTROLLER and p.get("parentRef") == result.ref), None)
        parents.append({"parentRef": result.ref, "controllerName": ISTIO_CONTROLLER,
                        "conditions": set_conditions(previous, [accepted, resolved], generation)})
    return {**(route.get("status") or {}), "parents": parents}
